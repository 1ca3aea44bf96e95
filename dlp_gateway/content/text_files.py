"""Readers for plain-text and HTML parts (mail bodies and text attachments)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
from typing import TYPE_CHECKING

from dlp_gateway.content import html
from dlp_gateway.content.text import decode_text, plain_lines
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
    reader.segment(plain_lines(text), location, location, text_kind)
    if _CALENDAR_START.match(text):
        _read_calendar(reader, text, location, depth)


# iCalendar (RFC 5545) and vCard (RFC 6350): invitations and contact cards.
_CALENDAR_START = re.compile(r"\A[\ufeff\s]*BEGIN:(?:VCALENDAR|VCARD)\b", re.I)
_FOLD = re.compile(r"\r?\n[ \t]")
_PROPERTY = re.compile(r'^(?P<name>[A-Za-z0-9-]+)(?P<params>(?:;[^:;"\r\n]*(?:"[^"\r\n]*"[^:;"\r\n]*)*)*):(?P<value>.*)$', re.M)
_ESCAPE = re.compile(r"\\([nN,;:\\])")


def _read_calendar(reader: Reader, text: str, location: str, depth: int) -> None:
    """The property values of an invitation or a contact card as Outlook shows them:
    folded lines joined, `\\n` as line breaks and `\\,` `\\;` unescaped, one line per
    value; inline BASE64 attachments and photos (ATTACH;ENCODING=BASE64, PHOTO;ENCODING=b)
    decoded and read as files. The raw text was read too (property parameters)."""
    from dlp_gateway.content.walk import join

    values: list[str] = []
    attached = 0
    for match in _PROPERTY.finditer(_FOLD.sub("", text)):
        params = {k.upper(): v.strip('"') for k, _, v in
                  (p.partition("=") for p in match.group("params").split(";")[1:])}
        value = match.group("value").strip()
        if params.get("ENCODING", "").upper() in ("BASE64", "B") and value:
            if reader.members_exhausted(location):
                break
            try:
                data = base64.b64decode(value + "=" * (-len(value) % 4))
            except (binascii.Error, ValueError):
                reader.note(location, f"{match.group('name')} with damaged inline base64; not decoded")
                continue
            attached += 1
            name = params.get("X-FILENAME") or params.get("FILENAME") or None
            where = reader.unique_location(join(location, name or f"{match.group('name').lower()} {attached}"))
            reader.read_file(data, where, filename=name, declared_type=params.get("FMTTYPE") or None, depth=depth + 1)
            continue
        if match.group("name").upper() in ("BEGIN", "END", "VERSION", "PRODID", "UID", "DTSTAMP"):
            continue
        values.append(_ESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), value))
    reader.segment("\n".join(values), join(location, "values"), location, "body")


def read_html(reader: Reader, data: bytes, location: str, depth: int, *,
              charset: str | None = None, text_kind: str = "body") -> None:
    """HTML lives in html.py (linear-time parser, hiding places); decoding stays here."""
    html.read_html(reader, data, location, depth, charset=charset, text_kind=text_kind, decode=_decode)


# A string literal, with one level of nested parentheses (balanced ones need no escape).
_PS_STRING = re.compile(r"\(((?:[^()\\]|\\.|\((?:[^()\\]|\\.)*\))*)\)", re.S)
_PS_ESCAPE = re.compile(r"\\([0-7]{1,3}|.)", re.S)
_PS_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


def _ps_unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code[0] in "01234567":
        return chr(int(code, 8))
    return _PS_ESCAPES.get(code, "" if code in "\r\n" else code)


def read_postscript(reader: Reader, data: bytes, location: str, depth: int, **_: object) -> None:
    """PostScript (.ps, .eps): the text a viewer draws is in its string literals, `(...)`
    with nested parentheses and backslash escapes; each literal is one line. The program
    text itself is read too (comments such as %%Title carry text)."""
    from dlp_gateway.content.walk import join

    text = data.decode("latin-1")
    reader.segment(text, location, location, "body")
    lines = (_PS_ESCAPE.sub(_ps_unescape, m.group(1)) for m in _PS_STRING.finditer(text))
    literal = "\n".join(line for line in lines if line.strip())
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        literal = literal.encode("latin-1").decode("utf-8")  # UTF-8 text in the strings, as viewers' fonts show it
    reader.segment(literal, join(location, "strings"), location, "body")
