"""Extraction entry point: raw message bytes in, an `Inspection` out.

Interim version: reads the Subject and text bodies only. The extraction issue replaces
this with the full MIME walk and format readers, keeping `extract(raw, limits)`.
"""

from __future__ import annotations

import email
import email.policy
import hashlib

from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.model import Inspection, Part, Problem, ProblemKind, Segment


def extract(raw: bytes, limits: ExtractionLimits) -> Inspection:
    inspection = Inspection()
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        inspection.subject = str(msg.get("Subject", "") or "")
        inspection.message_id = str(msg.get("Message-ID", "") or "")
        for name, value in msg.items():
            inspection.headers.setdefault(name.lower(), []).append(str(value))
        if inspection.subject:
            inspection.segments.append(Segment(inspection.subject, "subject", "subject", "subject"))
        for index, part in enumerate(msg.walk()):
            if part.is_multipart() or part.get_content_maintype() != "text":
                continue
            location = f"body[{index}]"
            payload = part.get_payload(decode=True) or b""
            charset = part.get_content_charset() or "utf-8"
            try:
                text = payload.decode(charset, errors="replace")
            except LookupError:
                text = payload.decode("utf-8", errors="replace")
            inspection.parts.append(
                Part(location, part.get_filename(), part.get_content_type(), part.get_content_type(),
                     len(payload), hashlib.sha256(payload).hexdigest(), 1, data=payload)
            )
            inspection.segments.append(Segment(text, location, location, "body"))
    except Exception as exc:  # never raise: record what could not be read
        inspection.problems.append(Problem(ProblemKind.CORRUPT, "(message)", f"unreadable MIME: {exc}"))
    return inspection
