"""RTF, including `\\uN` Unicode escapes and `\\'xx` code-page escapes (via striprtf).

The code page comes from `\\ansicpg` (950 for Big5 documents, 936 for GBK...); striprtf
decodes `\\'xx` bytes with it and `\\uN` directly.

striprtf drops every RTF "destination" it does not render, and among them are places Word
and WordPad show: headers and footers (`\\header`, `\\headerf`, `\\footerl`...), footnotes,
comments (`\\annotation`), shapes and their text boxes (`\\shp`, `\\shpinst`, `\\shptxt`)
and old-style drawing text boxes (`\\do`, `\\dptxbxtext`). Those groups are turned into
ordinary text (starting on a line of their own) before striprtf runs, so a banner placed
only there is read. Embedded objects (`\\object` with `\\objdata`, the OLE1 stream Word
writes when a file is dragged into a document) are decoded and the file inside goes back
through `Reader.read_file` (a Packager object gives the original file and its name).

Locations: `a.rtf` for the text, `a.rtf › <file name>` (or `a.rtf › object N`) for objects.
"""

from __future__ import annotations

import re
import struct
from typing import TYPE_CHECKING

from striprtf.striprtf import rtf_to_text

from dlp_gateway.content.walk import join
from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader

_CODEPAGE = re.compile(rb"\\ansicpg(\d{3,5})")
# Destinations a reader shows but striprtf skips: rewritten as a paragraph break.
_SHOWN = re.compile(
    r"(?:\\\*[ \r\n]*)?\\(?:header[flr]?|footer[flr]?|footnote|annotation|shp|shpgrp|shpinst|shptxt"
    r"|do|dptxbxtext)(?![A-Za-z])(?:-?\d+)? ?")
_OBJDATA = re.compile(r"\\objdata[ \r\n]*([0-9A-Fa-f \t\r\n]*)")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


_DISPLAY_WORDS = re.compile(r"\\(?:caps|scaps|v)(?![A-Za-z])")
_RTF_TOKEN = re.compile(r"\\([A-Za-z]+)(-?\d+)? ?|\\'[0-9A-Fa-f]{2}|\\.|[{}]|[^\\{}]+", re.S)


def as_displayed(rtf: str) -> str | None:
    """The RTF with its character formatting applied to the text, as Word shows it (red-team
    B15, B16): text under `\\caps`/`\\scaps` in capitals, hidden text (`\\v`) removed. None
    when the document uses neither (nothing would differ)."""
    if not _DISPLAY_WORDS.search(rtf):
        return None
    out: list[str] = []
    stack: list[tuple[bool, bool]] = []
    caps = hidden = False
    for match in _RTF_TOKEN.finditer(rtf):
        token = match.group(0)
        word = match.group(1)
        if token == "{":
            stack.append((caps, hidden))
        elif token == "}":
            caps, hidden = stack.pop() if stack else (False, False)
        elif word in ("caps", "scaps"):
            caps = match.group(2) != "0"
        elif word == "v":
            hidden = match.group(2) != "0"
            continue  # the switch itself is dropped with the text it hides
        elif word == "plain":
            caps = hidden = False
        elif hidden and (word in (None, "u") and token not in ("{", "}")):
            continue  # hidden text: plain text and its escaped characters
        elif word is None and token[0] != "\\":  # plain text
            token = token.upper() if caps else token
        out.append(token)
    return "".join(out)


def shown_text(rtf: str, encoding: str) -> str:
    """The text a reader shows: body, headers, footers, notes, comments and text boxes."""
    return rtf_to_text(_SHOWN.sub(r"\\par ", rtf), encoding=encoding, errors="replace")


def ole1_native(data: bytes) -> tuple[str, bytes]:
    """(class name, native data) of an OLE1 embedded object (MS-OLEDS 2.2.4 ObjectHeader +
    EmbeddedObject); raises ValueError when it is not one."""
    pos = 8  # OLEVersion, FormatID
    names = []
    for _ in range(3):  # ClassName, TopicName, ItemName: length-prefixed ANSI strings
        (length,) = struct.unpack_from("<I", data, pos)
        pos += 4
        names.append(data[pos: pos + length].split(b"\0", 1)[0].decode("latin-1"))
        pos += length
    (size,) = struct.unpack_from("<I", data, pos)
    pos += 4
    if pos + size > len(data):
        raise ValueError("OLE1 object cut short")
    return names[0], data[pos: pos + size]


def _read_objects(reader: Reader, rtf: str, location: str, depth: int) -> None:
    from dlp_gateway.content.legacy import ole10native

    for number, match in enumerate(_OBJDATA.finditer(rtf), start=1):
        if reader.timed_out(location):
            return
        digits = re.sub(r"\s+", "", match.group(1))
        try:
            data = bytes.fromhex(digits[: len(digits) // 2 * 2])
            class_name, native = ole1_native(data)
        except (ValueError, struct.error) as exc:
            reader.problem(ProblemKind.CORRUPT, join(location, f"object {number}"),
                           f"damaged embedded object: {exc}"[:300])
            continue
        name: str | None = None
        if class_name.startswith("Package") and not native.startswith(_OLE_MAGIC):
            name, native = ole10native(struct.pack("<I", len(native)) + native)
        where = reader.unique_location(join(location, name or f"object {number}"))
        reader.read_file(native, where, filename=name, declared_type=None, depth=depth + 1)


def read_rtf(reader: Reader, data: bytes, location: str, depth: int, **_: object) -> None:
    match = _CODEPAGE.search(data[:4096])
    encoding = f"cp{int(match.group(1))}" if match else "cp1252"
    try:
        "".encode(encoding)
    except LookupError:
        reader.problem(ProblemKind.UNSUPPORTED, location, f"unknown RTF code page {encoding}; read as cp1252")
        encoding = "cp1252"
    rtf = data.decode("latin-1")
    text = shown_text(rtf, encoding)
    reader.segment(text, location, location, "body")
    displayed = as_displayed(rtf)
    if displayed is not None:
        known = {line.strip() for line in text.splitlines()}
        changed = [line for line in shown_text(displayed, encoding).splitlines() if line.strip() not in known]
        reader.segment("\n".join(changed), join(location, "as displayed"), location, "body")
    if "\\objdata" in rtf:
        _read_objects(reader, rtf, location, depth)
