"""Readers for plain-text and HTML parts (mail bodies and text attachments)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlp_gateway.content import html
from dlp_gateway.content.text import decode_text, plain_lines
from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader


def _decode(reader: Reader, data: bytes, location: str, charset: str | None) -> str:
    text, note = decode_text(data, charset)
    if note:
        reader.problem(ProblemKind.UNSUPPORTED, location, f"{note}; the text may be imperfect")
    return text


def read_text(reader: Reader, data: bytes, location: str, depth: int, *,
              charset: str | None = None, text_kind: str = "body") -> None:
    """A text body or export in any charset. A wrong or unknown charset label is a note
    when the text still decodes cleanly (ASCII, UTF-8, or a detected Big5/GBK without a
    bad byte), as every mail client shows it; only a decoding that had to replace bytes
    is a problem, since the text may then be imperfect."""
    text, note = decode_text(data, charset)
    if note and "\ufffd" not in text:
        reader.note(location, note)
    elif note:
        reader.problem(ProblemKind.UNSUPPORTED, location, f"{note}; the text may be imperfect")
    reader.segment(plain_lines(text), location, location, text_kind)


def read_html(reader: Reader, data: bytes, location: str, depth: int, *,
              charset: str | None = None, text_kind: str = "body") -> None:
    """HTML lives in html.py (linear-time parser, hiding places); decoding stays here."""
    html.read_html(reader, data, location, depth, charset=charset, text_kind=text_kind, decode=_decode)
