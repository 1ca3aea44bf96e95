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
import bisect
import itertools
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


_B64_FOREIGN = re.compile(rb"[^A-Za-z0-9+/]+")
_B64_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_NOISE = re.compile(rb"[^A-Za-z0-9+/=\s]+")


@dataclass(slots=True)
class Decoded:
    data: bytes
    damage: str | None = None  # what was wrong but read through, for a note
    unreadable: bool = False  # too damaged to call the result the content
    truncated: bool = False  # stopped at max_bytes
    leftover: bytes = b""  # text after the encoded data that is not base64 (read as text)


_B64_LINE = re.compile(rb"[A-Za-z0-9+/]*={0,2}[ \t]*")
_B64_FULL_LINE = re.compile(rb"[A-Za-z0-9+/]{40,}={0,2}[ \t]*")


def _split_trailing_text(encoded: bytes) -> tuple[bytes, bytes]:
    """(base64, text after it): a base64 body followed by lines that are plainly not
    base64 (a broken closing delimiter and a note, say) is decoded up to there, and the
    rest is text a client may show. A bad line followed by more full base64 lines is
    damage inside the data, not trailing text."""
    lines = encoded.splitlines(keepends=True)
    seen_data = False
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if _B64_LINE.fullmatch(line.rstrip(b"\r\n")):
            seen_data = True
            continue
        if not seen_data:
            return encoded, b""
        rest = lines[i:]
        if any(_B64_FULL_LINE.fullmatch(r.rstrip(b"\r\n")) for r in rest):
            return encoded, b""
        return b"".join(lines[:i]), b"".join(rest)
    return encoded, b""


def decode_base64(encoded: bytes, max_bytes: int | None = None) -> Decoded:
    """Decode base64 as clients do: characters outside the alphabet are skipped and
    missing or extra padding is repaired; plain text after the data is kept apart
    (`leftover`). More than a tenth of foreign characters means the text was not base64
    at all (`unreadable`)."""
    # Fast path (nearly all mail): only alphabet, padding and whitespace.
    chars = encoded.translate(None, b" \t\r\n=")
    noise = 0
    leftover = b""
    if chars.translate(None, _B64_CHARS):  # anything left is foreign
        encoded, leftover = _split_trailing_text(encoded)
        chars = encoded.translate(None, b" \t\r\n=")
    if chars.translate(None, _B64_CHARS):
        noise = sum(len(run) for run in _B64_NOISE.findall(encoded))
        chars = _B64_FOREIGN.sub(b"", chars)
    damage: str | None = None
    if _B64_MID_PAD.search(encoded):
        # Separately padded pieces ("RGVhcgo=" CRLF "U0VD..."), as chunk-wise encoders
        # write them: clients decode quantum by quantum and restart after the padding,
        # so each piece is decoded on its own (one decoding of the whole is garbage).
        return _decode_padded_pieces(encoded, max_bytes, noise, leftover)
    if len(chars) % 4 == 1:
        chars = chars[:-1]  # one stray character cannot carry a byte
        damage = "base64 of impossible length; the stray last character was dropped"
    elif len(chars) % 4 and not encoded[-256:].rstrip().endswith(b"="):
        damage = "base64 without its padding"
    padded = chars + b"=" * (-len(chars) % 4)
    truncated = False
    if max_bytes is not None and len(padded) // 4 * 3 > max_bytes + 3:
        padded = padded[: (max_bytes // 3 + 1) * 4]
        truncated = True
    data = binascii.a2b_base64(padded)
    if noise:
        damage = f"base64 with {noise} characters outside its alphabet, skipped"
    if leftover:
        damage = (damage + "; " if damage else "") + "text after the base64 data, read as text"
    total = len(chars) + noise
    return Decoded(data, damage, unreadable=bool(total) and noise * 10 > total, truncated=truncated,
                   leftover=leftover)


# Padding followed (after optional whitespace) by more base64: a piece ended mid-stream.
_B64_MID_PAD = re.compile(rb"=[=\s]*[A-Za-z0-9+/]")
_B64_NOT_ALPHABET_OR_PAD = re.compile(rb"[^A-Za-z0-9+/=]+")


def _decode_padded_pieces(encoded: bytes, max_bytes: int | None, noise: int, leftover: bytes) -> Decoded:
    """Base64 made of pieces each with its own padding: every piece decoded alone."""
    out = bytearray()
    truncated = False
    pieces = [p for p in _B64_NOT_ALPHABET_OR_PAD.sub(b"", encoded).split(b"=") if p]
    for piece in pieces:
        if len(piece) % 4 == 1:
            piece = piece[:-1]
        out += binascii.a2b_base64(piece + b"=" * (-len(piece) % 4))
        if max_bytes is not None and len(out) > max_bytes:
            del out[max_bytes:]
            truncated = True
            break
    damage = f"base64 made of {len(pieces)} separately padded pieces; each decoded on its own"
    if noise:
        damage += f"; {noise} characters outside its alphabet skipped"
    if leftover:
        damage += "; text after the base64 data, read as text"
    total = len(encoded) - len(leftover)
    return Decoded(bytes(out), damage, unreadable=bool(total) and noise * 10 > total, truncated=truncated,
                   leftover=leftover)


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
_MAX_BEGINS = 1000  # start lines looked at per text and format (most may hold nothing)


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


def _next_end(ends: list[int], position: int) -> int | None:
    """The first end-line offset at or after `position` (the list is found once per text,
    so many `begin` lines without an `end` do not rescan the text each)."""
    index = bisect.bisect_left(ends, position)
    return ends[index] if index < len(ends) else None


def _uu_blocks(data: bytes, max_bytes: int | None) -> list[Block]:
    blocks: list[Block] = []
    begins = list(itertools.islice(_UU_BEGIN.finditer(data), _MAX_BEGINS))
    ends = [m.start() for m in _UU_END.finditer(data)] if begins else []
    for n, begin in enumerate(begins):
        if len(blocks) >= _MAX_BLOCKS:
            break
        end = _next_end(ends, begin.end())
        # A block ends at its `end` line, or where the next one begins.
        stop = min(end if end is not None else len(data), begins[n + 1].start() if n + 1 < len(begins) else len(data))
        body = data[begin.end(): stop]
        lines = body.splitlines()[1:] if body.startswith((b"\r", b"\n")) else body.splitlines()
        if b"begin-base64" in begin.group(0)[:12]:
            decoded = decode_base64(b"".join(line for line in lines if line.strip() != b"===="), max_bytes)
        else:
            decoded = decode_uu_lines(lines, max_bytes)
        damage = decoded.damage if end is not None else "uuencoded block without its 'end' line"
        if decoded.data:
            blocks.append(Block("uuencode", _name(begin.group(1)), decoded.data, damage, decoded.truncated))
    return blocks


_YBEGIN = re.compile(rb"^=ybegin\b([^\r\n]*)\r?$", re.M)
_YEND = re.compile(rb"^=yend\b", re.M)
_YNAME = re.compile(rb"\bname=(.*)$")


_YENC_TABLE = bytes((i - 42) & 0xFF for i in range(256))


def _yenc_decode(body: bytes, max_bytes: int) -> tuple[bytes, bool]:
    """yEnc: every byte is value + 42; "=" escapes a critical one (then + 64 more).
    Decoded a line and an escape at a time (`translate` does the bytes in C)."""
    out = bytearray()
    for line in body.splitlines():
        if line.startswith(b"=y"):
            continue  # =ypart / =yend control lines
        pieces = line.split(b"=")
        out += pieces[0].translate(_YENC_TABLE)
        for piece in pieces[1:]:
            if piece:
                out.append((piece[0] - 106) & 0xFF)
                out += piece[1:].translate(_YENC_TABLE)
        if len(out) > max_bytes:
            return bytes(out[:max_bytes]), True
    return bytes(out), False


def _yenc_blocks(data: bytes, max_bytes: int) -> list[Block]:
    blocks: list[Block] = []
    begins = list(itertools.islice(_YBEGIN.finditer(data), _MAX_BEGINS))
    ends = [m.start() for m in _YEND.finditer(data)] if begins else []
    for n, begin in enumerate(begins):
        if len(blocks) >= _MAX_BLOCKS:
            break
        end = _next_end(ends, begin.end())
        stop = min(end if end is not None else len(data), begins[n + 1].start() if n + 1 < len(begins) else len(data))
        out, truncated = _yenc_decode(data[begin.end(): stop], max_bytes)
        match = _YNAME.search(begin.group(1))
        if out:
            blocks.append(Block("yenc", _name(match.group(1)) if match else None, out,
                                None if end is not None else "yEnc block without its '=yend' line", truncated))
    return blocks


_BINHEX_ALPHABET = b"!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr"
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_BINHEX_TO_BASE64 = bytes.maketrans(_BINHEX_ALPHABET, _BASE64_ALPHABET)
_NOT_BINHEX = bytes(c for c in range(256) if c not in _BINHEX_ALPHABET)
_BINHEX_START = re.compile(rb"\(This file must be converted with BinHex[^)]*\)[^:]*:")


def _binhex_blocks(data: bytes, max_bytes: int) -> list[Block]:
    blocks: list[Block] = []
    for start in itertools.islice(_BINHEX_START.finditer(data), _MAX_BEGINS):
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
    # The 6-bit coding is base64's with another alphabet: map it and let binascii decode.
    chars = body.translate(None, _NOT_BINHEX).translate(_BINHEX_TO_BASE64)
    chars = chars[: len(chars) - len(chars) % 4] if len(chars) % 4 == 1 else chars
    # A header is at most 22 + 63 bytes; run-length coding expands 2 bytes to at most 255.
    limit = max_bytes + 128
    bits = binascii.a2b_base64(chars + b"=" * (-len(chars) % 4))
    out = bytearray()
    i = 0
    while len(out) <= limit:
        marker = bits.find(b"\x90", i)
        if marker < 0 or marker + 1 >= len(bits):
            out += bits[i:] if marker < 0 else bits[i:marker]
            break
        out += bits[i:marker]
        run = bits[marker + 1]
        if run == 0:
            out.append(0x90)  # the marker itself, escaped
        elif out:
            out += out[-1:] * (run - 1)  # the previous byte, `run` times in all
        i = marker + 2
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


# -- CMS signedData (S/MIME opaque signatures) ---------------------------------------

_SIGNED_DATA_OID = bytes.fromhex("2a864886f70d010702")  # 1.2.840.113549.1.7.2


class _BerError(ValueError):
    pass


def _ber_header(data: bytes, pos: int) -> tuple[int, int, int | None, int]:
    """(tag byte, content start, content length or None when indefinite, next offset
    for a definite length) of the BER element at `pos`."""
    if pos + 2 > len(data):
        raise _BerError("truncated")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise _BerError("high tag numbers are not used by CMS")
    first = data[pos + 1]
    start = pos + 2
    if first < 0x80:
        return tag, start, first, start + first
    if first == 0x80:
        return tag, start, None, -1
    count = first & 0x7F
    if count > 4 or start + count > len(data):
        raise _BerError("bad length")
    length = int.from_bytes(data[start:start + count], "big")
    start += count
    return tag, start, length, start + length


def _ber_children(data: bytes, start: int, length: int | None, limit: int = 64) -> list[tuple[int, int, int | None, int]]:
    """The elements inside a constructed element: (tag, start, length, end)."""
    out: list[tuple[int, int, int | None, int]] = []
    pos = start
    stop = start + length if length is not None else len(data)
    while pos < stop and len(out) < limit:
        if length is None and data[pos:pos + 2] == b"\0\0":
            break
        tag, cstart, clen, end = _ber_header(data, pos)
        if clen is None:
            end = _ber_skip_indefinite(data, cstart)
        out.append((tag, cstart, clen, end))
        pos = end
    return out


def _ber_skip_indefinite(data: bytes, start: int, depth: int = 0) -> int:
    """Offset after an indefinite-length element whose content starts at `start`."""
    if depth > 16:
        raise _BerError("nested too deep")
    pos = start
    while pos + 2 <= len(data):
        if data[pos:pos + 2] == b"\0\0":
            return pos + 2
        _, cstart, clen, end = _ber_header(data, pos)
        pos = _ber_skip_indefinite(data, cstart, depth + 1) if clen is None else end
    raise _BerError("unterminated")


def _octets(data: bytes, tag: int, start: int, length: int | None, end: int, max_bytes: int, depth: int = 0) -> bytes:
    """The bytes of an OCTET STRING, primitive or constructed (BER chunks)."""
    if tag == 0x04:
        return data[start:start + (length or 0)][:max_bytes]
    if tag == 0x24 and depth < 8:  # constructed: concatenated chunks
        out = bytearray()
        for ctag, cstart, clen, cend in _ber_children(data, start, length, limit=100_000):
            out += _octets(data, ctag, cstart, clen, cend, max_bytes - len(out), depth + 1)
            if len(out) >= max_bytes:
                break
        return bytes(out)
    raise _BerError("not an OCTET STRING")


def signed_content(data: bytes, max_bytes: int) -> bytes | None:
    """The encapsulated content of a CMS signedData (an opaque-signed S/MIME body, a
    `.p7m`), or None when `data` is not signedData or carries no content (a detached
    signature). The signature is not verified: the gateway reads what the recipient
    will see, whoever signed it."""
    if data[:1] != b"\x30" or _SIGNED_DATA_OID not in data[:32]:
        return None
    try:
        tag, start, length, _ = _ber_header(data, 0)
        top = _ber_children(data, start, length, limit=2)
        if len(top) < 2 or data[top[0][1]:top[0][1] + (top[0][2] or 0)] != _SIGNED_DATA_OID:
            return None
        explicit = top[1]  # [0] EXPLICIT SignedData
        (signed,) = _ber_children(data, explicit[1], explicit[2], limit=1)
        fields = _ber_children(data, signed[1], signed[2], limit=3)
        if len(fields) < 3:
            return None
        encap = _ber_children(data, fields[2][1], fields[2][2], limit=2)  # eContentType, [0] eContent
        if len(encap) < 2 or encap[1][0] != 0xA0:
            return None
        (octets,) = _ber_children(data, encap[1][1], encap[1][2], limit=1)
        return _octets(data, octets[0], octets[1], octets[2], octets[3], max_bytes)
    except (_BerError, ValueError, IndexError):
        return None
