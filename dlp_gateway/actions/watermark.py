"""The `watermark` action: mark each recipient's copy of every PDF, then deliver.

Each recipient gets PDFs carrying a code unique to the message and the recipient
(`dlpwm-` + 16 hex digits), recorded in the trace store, so `dlp-gateway trace` on a
leaked copy names the recipient even when many received the same document.

Where the code goes (none of it changes what a page shows):
- an invisible text line (PDF text render mode 3, "neither fill nor stroke") at the
  top and the bottom of every page. It survives most re-saving, "print to PDF" that
  keeps text, page extraction, and copy-and-paste of a whole page's text;
- the document's Keywords metadata.

What it cannot survive: rasterising (a scan, a photo, printing to paper, "print as
image") removes text layers and metadata; such copies are traced by their content
instead (the fingerprints trace records), which finds the message but not which of its
recipients leaked it. Stripping metadata and editing the text layer out with a PDF
editor also removes the mark. Encrypted PDFs and S/MIME-signed or encrypted messages
are delivered unmarked (marking would break them). PDFs inside archives are not marked.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import re
import secrets
from email.message import EmailMessage
from pathlib import Path

from dlp_gateway.actions.base import MessageContext
from dlp_gateway.model import Action, Decision, Outcome

log = logging.getLogger(__name__)

MARK_PREFIX = "dlpwm-"
MARK_RE = re.compile(r"dlpwm-([0-9a-f]{16})", re.IGNORECASE)
_MARK_FONTSIZE = 4


def new_code() -> str:
    return MARK_PREFIX + secrets.token_hex(8)


def find_marks(text: str) -> list[str]:
    """Every watermark code in a text, lower-cased, in order of first appearance."""
    return list(dict.fromkeys(MARK_PREFIX + m.lower() for m in MARK_RE.findall(text)))


def mark_pdf(data: bytes, code: str) -> bytes | None:
    """The PDF with the code added invisibly, or None if it cannot be marked safely."""
    import pymupdf  # here, not at the top: the gateway process loads PyMuPDF (~40 MB) only if it marks

    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception:  # not a readable PDF: deliver it as it is
        return None
    try:
        if doc.needs_pass or doc.is_encrypted or doc.page_count == 0:
            return None
        for page in doc:
            rect = page.rect
            for y in (rect.y0 + _MARK_FONTSIZE + 2, rect.y1 - 2):
                page.insert_text(pymupdf.Point(rect.x0 + 4, y), code, fontsize=_MARK_FONTSIZE,
                                 fontname="helv", render_mode=3)
        metadata = dict(doc.metadata or {})
        keywords = (metadata.get("keywords") or "").strip()
        metadata["keywords"] = f"{keywords} {code}".strip()
        doc.set_metadata({k: v for k, v in metadata.items() if k in _METADATA_KEYS and v is not None})
        return doc.tobytes(garbage=1, deflate=True)
    except Exception as exc:  # marking must never cost the message
        log.warning("watermark: PDF not marked: %s", exc)
        return None
    finally:
        doc.close()


_METADATA_KEYS = {"author", "producer", "creator", "title", "format", "encryption", "creationDate",
                  "modDate", "subject", "keywords", "trapped"}


def read_marks(data: bytes) -> list[str]:
    """Watermark codes in a PDF's text layer and metadata (empty for anything else)."""
    if not data.startswith(b"%PDF") and b"%PDF-" not in data[:1024]:
        return []
    import pymupdf

    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception:
        return []
    try:
        if doc.needs_pass:
            return []
        texts = [str(v) for v in (doc.metadata or {}).values() if v]
        texts.extend(page.get_text() for page in doc)
        return find_marks("\n".join(texts))
    finally:
        doc.close()


def _is_pdf(part: email.message.Message) -> bool:
    filename = (part.get_filename() or "").lower()
    return part.get_content_type() == "application/pdf" or filename.endswith(".pdf")


def _is_signed_or_encrypted(msg: email.message.Message) -> bool:
    ctype = msg.get_content_type()
    return ctype in ("multipart/signed", "multipart/encrypted", "application/pkcs7-mime",
                     "application/x-pkcs7-mime")


def mark_message(raw: bytes) -> tuple[bytes, list[tuple[str, str]]]:
    """A copy of the message with every top-level PDF attachment marked.

    Returns the new bytes and [(code, attachment location)]. Unchanged bytes and no
    marks if there is nothing to mark or marking would break the message."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if _is_signed_or_encrypted(msg):
        return raw, []
    marks: list[tuple[str, str]] = []
    for index, part in enumerate(msg.walk()):
        if part.is_multipart() or not _is_pdf(part):
            continue
        data = part.get_payload(decode=True)
        if not data:
            continue
        code = new_code()
        marked = mark_pdf(data, code)
        if marked is None:
            continue
        filename = part.get_filename() or f"part{index}.pdf"
        assert isinstance(part, EmailMessage)
        part.set_content(marked, maintype="application", subtype="pdf", filename=filename,
                         disposition=part.get_content_disposition() or "attachment")
        marks.append((code, filename))
    if not marks:
        return raw, []
    linesep = "\r\n" if b"\r\n" in raw[:4096] else "\n"  # keep the message's own line ends
    return msg.as_bytes(policy=email.policy.default.clone(linesep=linesep)), marks


_STORES: dict[Path, object] = {}


def _trace_store(data_dir: Path):  # -> TraceStore; one per process, thread-safe
    from dlp_gateway.store.trace import TraceStore

    store = _STORES.get(data_dir)
    if store is None:
        store = _STORES[data_dir] = TraceStore(data_dir)
    return store


class WatermarkAction:
    name = "watermark"
    description = "Deliver with every PDF attachment invisibly marked for each recipient (read back by `trace`)."

    async def apply(self, ctx: MessageContext, decisions: list[Decision]) -> list[Outcome]:
        from dlp_gateway.actions.deliver import send

        rule = decisions[0].rule
        recipients = [d.recipient for d in decisions]
        outcomes: list[Outcome] = []
        for recipient in recipients:
            body, marks = await asyncio.to_thread(mark_message, ctx.raw)
            if not marks:  # nothing to mark: one delivery for everyone
                return await send(ctx, recipients, rule=rule)
            store = _trace_store(ctx.settings.data_path)
            try:
                await asyncio.to_thread(
                    store.record_marks,  # type: ignore[attr-defined]
                    [(code, ctx.envelope.gateway_id, recipient, location) for code, location in marks],
                )
            except Exception as exc:  # an unrecorded mark is useless: retry later
                log.exception("%s: watermark codes not recorded", ctx.envelope.gateway_id)
                outcomes.append(Outcome((recipient,), Action.TEMPFAIL, 451,
                                        f"4.3.0 watermark not recorded: {exc}", rule=rule))
                continue
            outcomes.extend(await send(ctx, [recipient], rule=rule, body=body))
        return outcomes


HANDLERS = [WatermarkAction()]
