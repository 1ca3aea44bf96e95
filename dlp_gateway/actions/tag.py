"""The `tag` action: add headers and/or a Subject prefix, then deliver.

The message bytes are kept as they are except for the added header fields at the top
and the prefix inserted at the start of the Subject value, so signatures over the body
stay intact. A non-ASCII prefix is written as an RFC 2047 encoded word.
"""

from __future__ import annotations

import re
from email.header import Header

from dlp_gateway.actions.base import MessageContext
from dlp_gateway.actions.deliver import send
from dlp_gateway.model import Decision, Outcome
from dlp_gateway.smtp.delivery import header_line

_SUBJECT = re.compile(rb"^subject:[ \t]?", re.IGNORECASE | re.MULTILINE)


def _encoded(text: str) -> bytes:
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        return Header(text.rstrip(), "utf-8").encode().encode("ascii") + b" "


def prefix_subject(raw: bytes, prefix: str) -> bytes:
    """Insert `prefix` at the start of the Subject (adding a Subject if there is none)."""
    head_end = raw.find(b"\r\n\r\n")
    if head_end < 0:
        head_end = raw.find(b"\n\n")
    head_end = len(raw) if head_end < 0 else head_end
    match = _SUBJECT.search(raw, 0, head_end)
    if match is None:
        return b"Subject: " + _encoded(prefix).rstrip() + b"\r\n" + raw
    return raw[: match.start()] + b"Subject: " + _encoded(prefix) + raw[match.end():]


def tag_message(raw: bytes, headers: dict[str, str], subject_prefix: str | None) -> bytes:
    if subject_prefix:
        raw = prefix_subject(raw, subject_prefix)
    added = b"".join(header_line(name, value) for name, value in headers.items())
    return added + raw


class TagAction:
    name = "tag"
    description = "Add headers and/or a Subject prefix, then deliver."

    async def apply(self, ctx: MessageContext, decisions: list[Decision]) -> list[Outcome]:
        first = decisions[0]
        headers = dict(first.param("headers", ()) or ())
        body = tag_message(ctx.raw, headers, first.param("subject_prefix"))
        return await send(ctx, [d.recipient for d in decisions], rule=first.rule, body=body)


HANDLERS = [TagAction()]
