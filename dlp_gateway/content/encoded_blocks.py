"""Decoders for transfer encodings, and files encoded as blocks inside text.

Mail clients decode more than the five transfer encodings of RFC 2045: they accept
loose spellings (`7-bit`, `quoted printable`, `base64;`), uuencoded parts, and they show
uuencode, yEnc and BinHex 4.0 blocks pasted into a text body as attachments. A file the
recipient's client can show is a file the gateway must read, so this module:

- maps a Content-Transfer-Encoding value to what it plainly means (`normalise_cte`);
- decodes base64, quoted-printable and uuencode tolerantly, reporting the damage;
- finds uuencode, yEnc and BinHex blocks in text (`find_blocks`) and decodes them.

Every decoder takes `max_bytes` and stops there (the caller passes the byte budget left),
so a crafted block never makes more output than the extraction limits allow.
The stdlib has `binascii.a2b_uu`; yEnc and BinHex 4.0 have no maintained decoder (the
stdlib's `binhex` was removed in Python 3.11), hence the small bounded ones below.
"""

from __future__ import annotations

import binascii
import quopri
import re
from dataclasses import dataclass

# -- transfer encodings ---------------------------------------------------------------

_CTE_SPELLINGS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"base[\s_-]*64"), "base64"),
    (re.compile(r"quoted[\s_-]*printable|qp"), "quoted-printable"),
    (re.compile(r"(?:x-)?uu(?:encode|encoded|e)?"), "uuencode"),
    (re.compile(r"7[\s_-]*bits?"), "7bit"),
    (re.compile(r"8[\s_-]*bits?"), "8bit"),
    (re.compile(r"binary|plain|none|text|ascii|us-ascii|identity"), "8bit"),
]
IDENTITY = frozenset({"", "7bit", "8bit"})
KNOWN = frozenset({"7bit", "8bit", "base64", "quoted-printable", "uuencode"})


def normalise_cte(value: str) -> str | None:
    """The transfer encoding a (possibly misspelt) header value plainly means, or None.

    `""` for no header; `None` when the value names no encoding we recognise (the caller
    then reads the raw bytes and the decoded guesses)."""
    text = value.strip().strip('"').strip().lower()
    if not text:
        return ""
    # Trailing junk ("base64;", "base64 x", "7bit (ascii)") does not change the meaning.
    for pattern, name in _CTE_SPELLINGS:
        if pattern.match(text):
            return name
    return None


_B64_ALPHABET = re.compile(rb"[A-Za-z0-9+/]")
_B64_NOISE = re.compile(rb"[^A-Za-z0-9+/=\s]")
_B64_LETTERS = bytes(b for b in range(256) if _B64_ALPHABET.match(bytes([b])))
_B64_NOT_ALPHABET = bytes(b for b in range(256) if b not in _B64_LETTERS)  # deleted: what is left is base64
_B64_KNOWN = bytes(b for b in range(256) if not _B64_NOISE.match(bytes([b])))  # deleted: what is left is noise


@dataclass(slots=True)
class Decoded:
    data: bytes
    damage: str | None = None  # what was wrong but read through, for a note
    unreadable: bool = False  # too damaged to call the result the content
    truncated: bool = False  # stopped at max_bytes


def decode_base64(encoded: bytes, max_bytes: int | None = None) -> Decoded:
    """Decode base64 as clients do: characters outside the alphabet are skipped and
    missing or extra padding is repaired. More than a tenth of foreign characters means
    the text was not base64 at all (`unreadable`)."""
    # bytes.translate deletes in one C pass: ~20× faster than the regexes on a scan's MBs.
    noise = len(encoded.translate(None, _B64_KNOWN))
    chars = encoded.translate(None, _B64_NOT_ALPHABET)
    damage: str | None = None
    if len(chars) % 4 == 1:
        chars = chars[:-1]  # one stray character cannot carry a byte
        damage = "base64 of impossible length; the stray last character was dropped"
    elif len(chars) % 4 and not encoded.rstrip().endswith(b"="):
        damage = "base64 without its padding"
    padded = chars + b"=" * (-len(chars) % 4)
    truncated = False
    if max_bytes is not None and len(padded) // 4 * 3 > max_bytes + 3:
        padded = padded[: (max_bytes // 3 + 1) * 4]
        truncated = True
    data = binascii.a2b_base64(padded)
    if noise:
        damage = f"base64 with {noise} characters outside its alphabet, skipped"
    total = len(chars) + noise
    return Decoded(data, damage, unreadable=bool(total) and noise * 10 > total, truncated=truncated)


_QP_BROKEN = re.compile(rb"=(?![0-9A-Fa-f]{2}|\r?\n|[ \t]*(?:\r?\n|$))")


def decode_qp(encoded: bytes, max_bytes: int | None = None) -> Decoded:
    """Quoted-printable; a stray `=` is kept as is, the way clients show it."""
    data = quopri.decodestring(encoded)
    damage = "quoted-printable with '=' not followed by two hex digits; kept as is" if _QP_BROKEN.search(encoded) else None
    truncated = max_bytes is not None and len(data) > max_bytes
    return Decoded(data[:max_bytes] if truncated else data, damage, truncated=truncated)


def _uu_line(line: bytes) -> bytes:
    try:
        return binascii.a2b_uu(line)
    except binascii.Error:
        # Some encoders pad lines wrongly; decode the length the line announces (as the
        # email package does).
        count = (((line[0] - 32) & 63) * 4 + 5) // 3 if line else 0
        try:
            return binascii.a2b_uu(line[:count])
        except binascii.Error:
            return b""


def decode_uu_lines(lines: list[bytes], max_bytes: int | None = None) -> Decoded:
    """The body lines of a uuencoded file (between `begin` and `end`)."""
    out = bytearray()
    bad = 0
    for line in lines:
        line = line.rstrip(b"\r\n")
        if not line.strip() or line in (b"`", b" "):
            continue
        piece = _uu_line(line)
        if not piece and line.strip():
            bad += 1
        out += piece
        if max_bytes is not None and len(out) > max_bytes:
            return Decoded(bytes(out[:max_bytes]), truncated=True)
    return Decoded(bytes(out), f"{bad} uuencoded lines could not be decoded" if bad else None)


_UU_BEGIN = re.compile(rb"^begin(?:-base64)?[ \t]+[0-7]{3,4}[ \t]+(.+?)[ \t]*\r?$", re.M)


def decode_uu(encoded: bytes, max_bytes: int | None = None) -> Decoded:
    """A part whose transfer encoding is uuencode: one `begin ... end` block, or bare
    uuencoded lines when the `begin` line is missing."""
    blocks = _uu_blocks(encoded, max_bytes)
    if blocks:
        return Decoded(blocks[0].data, blocks[0].damage, truncated=blocks[0].truncated)
    return decode_uu_lines(encoded.splitlines(), max_bytes)


# -- files encoded inside text ------------------------------------------------------

@dataclass(slots=True)
class Block:
    kind: str  # uuencode | yenc | binhex
    name: str | None
    data: bytes
    damage: str | None = None
    truncated: bool = False


_MAX_BLOCKS = 100  # blocks decoded per text; the member limit bounds them again


def might_hold_blocks(data: bytes) -> bool:
    """A cheap test before `find_blocks`: the marker of one of the three formats."""
    return b"begin " in data or b"=ybegin" in data or b"BinHex" in data


def find_blocks(data: bytes, max_bytes: int) -> list[Block]:
    """uuencode, yEnc and BinHex 4.0 files inside `data`, decoded (at most `max_bytes` each)."""
    if not might_hold_blocks(data):
        return []
    blocks = _uu_blocks(data, max_bytes) + _yenc_blocks(data, max_bytes) + _binhex_blocks(data, max_bytes)
    return blocks[:_MAX_BLOCKS]


_UU_END = re.compile(rb"^end[ \t]*\r?$", re.M)


def _uu_blocks(data: bytes, max_bytes: int | None) -> list[Block]:
    blocks: list[Block] = []
    for begin in _UU_BEGIN.finditer(data):
        if len(blocks) >= _MAX_BLOCKS:
            break
        end = _UU_END.search(data, begin.end())
        body = data[begin.end(): end.start() if end else len(data)]
        lines = body.splitlines()[1:] if body.startswith((b"\r", b"\n")) else body.splitlines()
        if b"begin-base64" in begin.group(0)[:12]:
            decoded = decode_base64(b"".join(line for line in lines if line.strip() != b"===="), max_bytes)
        else:
            decoded = decode_uu_lines(lines, max_bytes)
        damage = decoded.damage if end else "uuencoded block without its 'end' line"
        if decoded.data:
            blocks.append(Block("uuencode", _name(begin.group(1)), decoded.data, damage, decoded.truncated))
    return blocks


_YBEGIN = re.compile(rb"^=ybegin\b([^\r\n]*)\r?$", re.M)
_YEND = re.compile(rb"^=yend\b", re.M)
_YNAME = re.compile(rb"\bname=(.*)$")


def _yenc_blocks(data: bytes, max_bytes: int) -> list[Block]:
    blocks: list[Block] = []
    for begin in _YBEGIN.finditer(data):
        if len(blocks) >= _MAX_BLOCKS:
            break
        end = _YEND.search(data, begin.end())
        body = data[begin.end(): end.start() if end else len(data)]
        out = bytearray()
        truncated = False
        for line in body.splitlines():
            if line.startswith(b"=ypart"):
                continue
            escaped = False
            for byte in line:
                if escaped:
                    out.append((byte - 64 - 42) & 0xFF)
                    escaped = False
                elif byte == 0x3D:  # "="
                    escaped = True
                else:
                    out.append((byte - 42) & 0xFF)
            if len(out) > max_bytes:
                out, truncated = out[:max_bytes], True
                break
        match = _YNAME.search(begin.group(1))
        if out:
            blocks.append(Block("yenc", _name(match.group(1)) if match else None, bytes(out),
                                None if end else "yEnc block without its '=yend' line", truncated))
    return blocks


_BINHEX_ALPHABET = b"!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr"
_BINHEX_VALUE = {c: i for i, c in enumerate(_BINHEX_ALPHABET)}
_BINHEX_START = re.compile(rb"\(This file must be converted with BinHex[^)]*\)[^:]*:")


def _binhex_blocks(data: bytes, max_bytes: int) -> list[Block]:
    blocks: list[Block] = []
    for start in _BINHEX_START.finditer(data):
        if len(blocks) >= _MAX_BLOCKS:
            break
        end = data.find(b":", start.end())
        body = data[start.end(): end if end >= 0 else len(data)]
        block = _decode_binhex(body, max_bytes)
        if block is not None:
            blocks.append(block)
    return blocks


def _decode_binhex(body: bytes, max_bytes: int) -> Block | None:
    """BinHex 4.0: 6-bit characters, then run-length coding (0x90), then a header (name,
    type, creator, flags, fork lengths) and the data fork, which is what we read."""
    bits = bytearray()
    acc = count = 0
    # A header is at most 22 + 63 bytes; RLE expands at most 255 times per 2 bytes.
    limit = max_bytes + 128
    for char in body:
        value = _BINHEX_VALUE.get(char)
        if value is None:
            continue  # line breaks and whitespace
        acc = (acc << 6) | value
        count += 6
        if count >= 8:
            count -= 8
            bits.append((acc >> count) & 0xFF)
            acc &= (1 << count) - 1
    out = bytearray()
    previous = 0
    i = 0
    while i < len(bits) and len(out) <= limit:
        byte = bits[i]
        if byte == 0x90 and i + 1 < len(bits):
            run = bits[i + 1]
            i += 2
            if run == 0:
                out.append(0x90)
                previous = 0x90
            else:
                out += bytes([previous]) * (run - 1)
            continue
        out.append(byte)
        previous = byte
        i += 1
    if len(out) < 22 or out[0] + 22 > len(out):
        return None
    name_len = out[0]
    name = bytes(out[1:1 + name_len])
    pos = 1 + name_len + 1 + 4 + 4 + 2
    data_len = int.from_bytes(out[pos:pos + 4], "big")
    pos += 4 + 4 + 2  # data length, resource length, header CRC
    fork = bytes(out[pos:pos + min(data_len, max_bytes)])
    truncated = data_len > max_bytes
    damage = None if len(fork) == min(data_len, max_bytes) else "BinHex data fork shorter than its header says"
    return Block("binhex", _name(name), fork, damage, truncated)


def _name(raw: bytes) -> str | None:
    name = raw.strip().decode("utf-8", "replace").replace("/", "_").replace("\\", "_")
    return " ".join(name.split())[:200] or None


# -- guesses for a transfer encoding nobody recognises ------------------------------

_LOOKS_BASE64 = re.compile(rb"\A[\sA-Za-z0-9+/]{16,}={0,2}\s*\Z")
_QP_ESCAPE = re.compile(rb"=[0-9A-F]{2}")


def guesses(encoded: bytes, max_bytes: int) -> list[tuple[str, bytes]]:
    """Decodings of a part whose transfer encoding is unknown that plausibly apply:
    base64 when the whole payload is clean base64, quoted-printable when it has
    `=XX` escapes, uuencode when it has a `begin` line."""
    found: list[tuple[str, bytes]] = []
    if _LOOKS_BASE64.match(encoded):
        decoded = decode_base64(encoded, max_bytes)
        if decoded.data and not decoded.unreadable:
            found.append(("base64", decoded.data))
    if _QP_ESCAPE.search(encoded):
        found.append(("quoted-printable", decode_qp(encoded, max_bytes).data))
    if _UU_BEGIN.search(encoded):
        decoded = decode_uu(encoded, max_bytes)
        if decoded.data:
            found.append(("uuencode", decoded.data))
    return found
