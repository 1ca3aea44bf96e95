"""Windows metafiles (WMF, EMF, EMF+): the text they draw, read from their records.

Word stores clip art, old logos and the preview picture of every embedded OLE object
(equations, charts) as WMF or EMF, and Word, Windows Photos and LibreOffice show the text
they draw. Neither Pillow (on Linux) nor PyMuPDF renders them, but the text is not pixels:
it is in text-output records, so it is read from there, not OCR'd:

* WMF: META_TEXTOUT and META_EXTTEXTOUT (8-bit strings in the code page of the font's
  charset, taken from the last META_CREATEFONTINDIRECT);
* EMF: EMR_EXTTEXTOUTW / EMR_EXTTEXTOUTA, EMR_POLYTEXTOUTW / A, EMR_SMALLTEXTOUT;
* EMF+ (inside EMR_COMMENT records, what Office writes): EmfPlusDrawString.

Runs drawn on the same baseline are joined into one line, lines kept in drawing order.
Bitmaps inside a metafile (EMR_STRETCHDIBITS, EMR_BITBLT, META_DIBSTRETCHBLT...: a scanned
stamp pasted into a drawing) are read as BMP pictures of their own (`… › bitmap N`), so they
are OCR'd like any image. A metafile with no text is a picture without text, never a hold.
"""

from __future__ import annotations

import struct
import unicodedata
from typing import TYPE_CHECKING

from dlp_gateway.content.walk import join

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader

WMF_PLACEABLE = b"\xd7\xcd\xc6\x9a"
MAX_RECORDS = 200_000  # records walked per metafile: a real one has thousands at most

# GDI charsets to Python codecs (WMF strings are 8-bit in the font's code page).
_CHARSETS = {0: "cp1252", 1: "cp1252", 2: "cp1252", 128: "cp932", 129: "cp949", 130: "johab", 134: "gbk",
             136: "cp950", 161: "cp1253", 162: "cp1254", 163: "cp1258", 177: "cp1255", 178: "cp1256",
             186: "cp1257", 204: "cp1251", 222: "cp874", 238: "cp1250", 255: "cp437"}

# WMF record functions
META_EOF, META_TEXTOUT, META_EXTTEXTOUT, META_CREATEFONTINDIRECT = 0x0000, 0x0521, 0x0A32, 0x02FB
# WMF bitmap records with a DIB, and where the DIB starts in the record's parameters
WMF_BITMAPS = {0x0940: 16, 0x0B41: 20, 0x0F43: 22}
# EMF record types
EMR_HEADER, EMR_EOF, EMR_COMMENT = 1, 14, 70
EMR_EXTTEXTOUTA, EMR_EXTTEXTOUTW, EMR_POLYTEXTOUTA, EMR_POLYTEXTOUTW, EMR_SMALLTEXTOUT = 83, 84, 96, 97, 108
# EMF bitmap records: where offBmiSrc (then cbBmiSrc, offBitsSrc, cbBitsSrc) sits
EMF_BITMAPS = {76: 84, 77: 84, 80: 48, 81: 48}
MAX_BITMAPS = 16  # bitmaps read per metafile
EMFPLUS_DRAWSTRING = 0x401C
ETO_OPAQUE, ETO_CLIPPED, ETO_NO_RECT, ETO_SMALL_CHARS = 0x2, 0x4, 0x100, 0x200


def is_emf(data: bytes) -> bool:
    """EMR_HEADER first, with the ' EMF' signature at offset 40 (libmagic calls it data)."""
    return len(data) >= 88 and data[:4] == b"\x01\x00\x00\x00" and data[40:44] == b" EMF"


def is_wmf(data: bytes) -> bool:
    if data[:4] == WMF_PLACEABLE:
        return True
    return len(data) >= 18 and data[:2] in (b"\x01\x00", b"\x02\x00") and data[2:4] == b"\x09\x00" \
        and data[4:6] in (b"\x00\x01", b"\x00\x03")


def read_metafile(reader: Reader, data: bytes, location: str, depth: int, **_: object) -> None:
    """Read the text a WMF or EMF draws as a `body` segment of the picture."""
    if is_emf(data):
        runs, bitmaps = emf_text(data)
        kind = "EMF"
    elif is_wmf(data):
        runs, bitmaps = wmf_text(data)
        kind = "WMF"
    else:  # declared or guessed a metafile but is not one: read by the raster reader
        from dlp_gateway.content.images import read_image

        read_image(reader, data, location, depth)
        return
    reader.segment(_lines(runs), location, location, "body")
    if len(bitmaps) > MAX_BITMAPS:
        reader.limit(location, "max_members", f"{kind} picture holds {len(bitmaps)} bitmaps; "
                                              f"only the first {MAX_BITMAPS} read")
    for n, bitmap in enumerate(bitmaps[:MAX_BITMAPS], start=1):
        reader.read_file(bitmap, join(location, f"bitmap {n}"), filename=None, declared_type="image/bmp",
                         depth=depth + 1)


def _lines(runs: list[tuple[int, str]]) -> str:
    """Runs on the same baseline joined (CJK without a space), lines in drawing order."""
    lines: list[tuple[int, str]] = []
    for y, text in runs:
        text = text.replace("\x00", "").strip("\r\n")
        if not text.strip():
            continue
        if lines and lines[-1][0] == y:
            previous = lines[-1][1]
            glue = "" if _cjk(previous[-1:]) or _cjk(text[:1]) or previous.endswith(" ") else " "
            lines[-1] = (y, previous + glue + text)
        else:
            lines.append((y, text))
    return "\n".join(text for _, text in lines)


def _cjk(char: str) -> bool:
    return bool(char) and unicodedata.east_asian_width(char) in ("W", "F")


def wmf_text(data: bytes) -> tuple[list[tuple[int, str]], list[bytes]]:
    """(baseline y, text) of every text record of a WMF, and its bitmaps as BMP files."""
    pos = 22 if data[:4] == WMF_PLACEABLE else 0
    if len(data) < pos + 18:
        return [], []
    header_words = struct.unpack_from("<H", data, pos + 2)[0]
    pos += max(9, header_words) * 2
    encoding = "cp1252"
    runs: list[tuple[int, str]] = []
    bitmaps: list[bytes] = []
    for _ in range(MAX_RECORDS):
        if pos + 6 > len(data):
            break
        size_words, function = struct.unpack_from("<IH", data, pos)
        size = size_words * 2
        if size < 6:
            break
        body = data[pos + 6: pos + size]
        if function == META_EOF:
            break
        if function == META_CREATEFONTINDIRECT and len(body) >= 18:
            encoding = _CHARSETS.get(body[13], encoding)
        elif function == META_TEXTOUT and len(body) >= 2:
            length = struct.unpack_from("<H", body)[0]
            raw = body[2: 2 + length]
            after = 2 + length + (length & 1)
            y = struct.unpack_from("<h", body, after)[0] if len(body) >= after + 2 else 0
            runs.append((y, _decode8(raw, encoding)))
        elif function == META_EXTTEXTOUT and len(body) >= 8:
            y, _x, length, options = struct.unpack_from("<hhHH", body)
            start = 8 + (8 if options & (ETO_OPAQUE | ETO_CLIPPED) else 0)
            runs.append((y, _decode8(body[start: start + length], encoding)))
        elif function in WMF_BITMAPS and len(body) > WMF_BITMAPS[function] + 40:
            bitmap = _bmp(body[WMF_BITMAPS[function]:], None)
            if bitmap:
                bitmaps.append(bitmap)
        pos += size
    return runs, bitmaps


def _decode8(raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return raw.decode("cp1252", "replace")


def emf_text(data: bytes) -> tuple[list[tuple[int, str]], list[bytes]]:
    """(baseline y, text) of every text record of an EMF (and its EMF+ comments), and its
    bitmaps as BMP files."""
    pos = 0
    runs: list[tuple[int, str]] = []
    bitmaps: list[bytes] = []
    for _ in range(MAX_RECORDS):
        if pos + 8 > len(data):
            break
        kind, size = struct.unpack_from("<II", data, pos)
        if size < 8 or size % 4 or pos + size > len(data):
            break
        record = data[pos: pos + size]
        if kind == EMR_EOF:
            break
        if kind in (EMR_EXTTEXTOUTW, EMR_EXTTEXTOUTA):
            run = _emr_text(record, 36, wide=kind == EMR_EXTTEXTOUTW)
            if run:
                runs.append(run)
        elif kind in (EMR_POLYTEXTOUTW, EMR_POLYTEXTOUTA) and len(record) >= 40:
            count = struct.unpack_from("<I", record, 36)[0]
            for n in range(min(count, 10_000)):
                run = _emr_text(record, 40 + n * 40, wide=kind == EMR_POLYTEXTOUTW)
                if run:
                    runs.append(run)
        elif kind == EMR_SMALLTEXTOUT and len(record) >= 36:
            _x, y, chars, options = struct.unpack_from("<iiII", record, 8)
            start = 36 + (0 if options & ETO_NO_RECT else 16)
            if options & ETO_SMALL_CHARS:
                runs.append((y, record[start: start + chars].decode("latin-1")))
            else:
                runs.append((y, record[start: start + 2 * chars].decode("utf-16-le", "replace")))
        elif kind == EMR_COMMENT and len(record) >= 16 and record[12:16] == b"EMF+":
            runs.extend(_emfplus_text(record[16: 12 + struct.unpack_from("<I", record, 8)[0]]))
        elif kind in EMF_BITMAPS and len(record) >= EMF_BITMAPS[kind] + 16:
            off_bmi, cb_bmi, off_bits, cb_bits = struct.unpack_from("<IIII", record, EMF_BITMAPS[kind])
            if cb_bmi and cb_bits and off_bmi + cb_bmi <= size and off_bits + cb_bits <= size:
                bitmap = _bmp(record[off_bmi: off_bmi + cb_bmi], record[off_bits: off_bits + cb_bits])
                if bitmap:
                    bitmaps.append(bitmap)
        pos += size
    return runs, bitmaps


def _emr_text(record: bytes, at: int, *, wide: bool) -> tuple[int, str] | None:
    """An EmrText object at `at`: reference point, char count, offset of the string."""
    if len(record) < at + 16:
        return None
    _x, y, chars, offset = struct.unpack_from("<iiII", record, at)
    raw = record[offset: offset + chars * (2 if wide else 1)]
    return y, raw.decode("utf-16-le", "replace") if wide else _decode8(raw, "cp1252")


def _emfplus_text(data: bytes) -> list[tuple[int, str]]:
    runs: list[tuple[int, str]] = []
    pos = 0
    while pos + 12 <= len(data):
        kind, _flags, size, data_size = struct.unpack_from("<HHII", data, pos)
        if size < 12 or pos + size > len(data):
            break
        if kind == EMFPLUS_DRAWSTRING and data_size >= 28:
            _brush, _format, length = struct.unpack_from("<III", data, pos + 12)
            top = int(struct.unpack_from("<f", data, pos + 28)[0])
            raw = data[pos + 40: pos + 40 + 2 * length]
            runs.append((top, raw.decode("utf-16-le", "replace")))
        pos += size
    return runs


def _bmp(info: bytes, bits: bytes | None) -> bytes | None:
    """A BMP file from a DIB: its BITMAPINFO (header and colour table) and its pixel bits
    (`bits` None: they follow the colour table, as in a WMF packed DIB)."""
    if len(info) < 40:
        return None
    header_size, = struct.unpack_from("<I", info)
    if header_size < 40 or header_size > len(info):
        return None
    bit_count, compression = struct.unpack_from("<HI", info, 14)
    colours_used, = struct.unpack_from("<I", info, 32)
    colours = colours_used or (1 << bit_count if bit_count <= 8 else 0)
    table = 4 * colours + (12 if compression == 3 and header_size == 40 else 0)
    if bits is None:
        info, bits = info[: header_size + table], info[header_size + table:]
    else:
        info = info[: header_size + table]
    head = b"BM" + struct.pack("<IHHI", 14 + len(info) + len(bits), 0, 0, 14 + len(info))
    return head + info + bits
