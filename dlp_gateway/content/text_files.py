"""Readers for plain-text and HTML parts (mail bodies and text attachments)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlp_gateway.content import html
from dlp_gateway.content.text import decode_text
from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader


def _decode(reader: Reader, data: bytes, location: str, charset: str | None) -> str:
    """Text in its declared charset, or the one detection finds. A wrong or unknown label is
    a note when the text still decodes (ASCII, UTF-8, or a detected Big5/GBK), as every mail
    client shows it; it is a problem only when so many bytes had to be replaced that the text
    may not be what the recipient sees."""
    text, note = decode_text(data, charset)
    if note:
        replaced = text.count("\ufffd")
        if replaced and replaced > max(2, len(text) // 50):
            reader.problem(ProblemKind.UNSUPPORTED, location, f"{note}; the text may be imperfect")
        else:
            reader.note(location, note)
    return text


def read_text(reader: Reader, data: bytes, location: str, depth: int, *,
              charset: str | None = None, text_kind: str = "body") -> None:
    """A text body or export in any charset (see `_decode` for a wrong or unknown label)."""
    text = _decode(reader, data, location, charset)
    reader.segment(text, location, location, text_kind)


def read_html(reader: Reader, data: bytes, location: str, depth: int, *,
              charset: str | None = None, text_kind: str = "body") -> None:
    """HTML lives in html.py (linear-time parser, hiding places); decoding stays here."""
    html.read_html(reader, data, location, depth, charset=charset, text_kind=text_kind, decode=_decode)
