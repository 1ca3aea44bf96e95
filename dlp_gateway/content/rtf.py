"""RTF, including `\\uN` Unicode escapes and `\\'xx` code-page escapes (via striprtf).

The code page comes from `\\ansicpg` (950 for Big5 documents, 936 for GBK...); striprtf
decodes `\\'xx` bytes with it and `\\uN` directly.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from striprtf.striprtf import rtf_to_text

from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader

_CODEPAGE = re.compile(rb"\\ansicpg(\d{3,5})")


def read_rtf(reader: Reader, data: bytes, location: str, depth: int, **_: object) -> None:
    match = _CODEPAGE.search(data[:4096])
    encoding = f"cp{int(match.group(1))}" if match else "cp1252"
    try:
        "".encode(encoding)
    except LookupError:
        reader.problem(ProblemKind.UNSUPPORTED, location, f"unknown RTF code page {encoding}; read as cp1252")
        encoding = "cp1252"
    text = rtf_to_text(data.decode("latin-1"), encoding=encoding, errors="replace")
    reader.segment(text, location, location, "body")
