"""Plain text: decoding in any declared charset (HTML to text is in html.py).

Mail from a mission arrives in whatever charset the client chose: UTF-8, Big5 (and its
cp950/HKSCS extensions), GB2312/GBK/GB18030, ISO-8859-x, Windows code pages. A declared
charset is read with its widest compatible superset (a "big5" mail written by Outlook is
really cp950); an unknown or wrong one falls back to detection and the fallback is
recorded, so a reader can see the text may be imperfect.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from functools import lru_cache

# A declared charset is decoded with the widest superset that agrees with it.
_SUPERSETS: dict[str, tuple[str, ...]] = {
    "big5": ("cp950", "big5hkscs"),
    "big5-hkscs": ("big5hkscs", "cp950"),
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "gb18030": ("gb18030",),
    "iso-8859-1": ("cp1252",),
    "latin-1": ("cp1252",),
    "us-ascii": ("utf-8", "cp1252"),
    "ascii": ("utf-8", "cp1252"),
    "ks_c_5601-1987": ("cp949",),
    "euc-kr": ("cp949",),
    "shift_jis": ("cp932",),
    "tis-620": ("cp874",),
}


def _canonical(charset: str) -> str | None:
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return None


def _candidates(charset: str) -> list[str]:
    key = charset.strip().strip('"').lower()
    names: list[str] = []
    if key in _SUPERSETS:
        names.extend(_SUPERSETS[key])
    canon = _canonical(key)
    if canon is not None:
        for alias, supersets in _SUPERSETS.items():
            if _canonical(alias) == canon:
                names.extend(supersets)
        names.append(canon)
    return names


@lru_cache(maxsize=2)
def _common_hanzi(script: str) -> frozenset[str]:
    """The most used characters of one script, taken from the codecs themselves:
    "simplified" is GB2312 level 1 (3755), "traditional" Big5's frequently-used block (5401)."""
    if script == "simplified":
        codec, leads, trails = "gb2312", range(0xB0, 0xD8), list(range(0xA1, 0xFF))
    else:
        codec, leads, trails = "big5", range(0xA4, 0xC7), list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF))
    chars: set[str] = set()
    for lead in leads:
        for trail in trails:
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes((lead, trail)).decode(codec))
    return frozenset(chars)


def _hanzi_score(text: str, script: str) -> float:
    """Share of the non-punctuation CJK-range characters (private-use ones included, as
    misdecodings produce them) that are common characters of `script`."""
    considered = [c for c in text if c >= "\u2e80" and not ("\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef")]
    if not considered:
        return 0.0
    common = _common_hanzi(script)
    return sum(c in common for c in considered) / len(considered)


def _detect(data: bytes) -> str:
    """Guess the charset of undeclared bytes. Chinese text is judged by which decoding
    gives common characters (generic detectors confuse short Big5 and GBK texts);
    anything else goes to charset-normalizer."""
    chinese = _detect_chinese(data)  # ties go to cp950: a Taiwanese ministry's mail
    if chinese:
        return chinese
    from charset_normalizer import from_bytes

    found = from_bytes(data[: 256 * 1024]).best()
    return found.encoding if found is not None else "utf-8"


# Byte-order marks, longest first: the UTF-32-LE mark begins with the UTF-16-LE one.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# Declared charsets that any byte string "fits" (or that mail tools write by default):
# when the bytes are really Big5 or GBK, the declaration is wrong, not the text.
_WEAK_LABELS = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "cp1252", "windows-1252"}


def _plausible_text(text: str) -> float:
    """Share of characters a text export is made of: printable ASCII and white space,
    Latin letters, CJK (ideographs, punctuation, full-width forms), Hangul, kana."""
    if not text:
        return 0.0
    good = sum(
        1 for c in text
        if (" " <= c <= "~") or c in "\t\r\n" or ("\u00a0" <= c <= "\u024f") or ("\u2000" <= c <= "\u206f")
        or ("\u2e80" <= c <= "\u9fff") or ("\uac00" <= c <= "\ud7af") or ("\uf900" <= c <= "\ufaff")
        or ("\uff00" <= c <= "\uffef")
    )
    return good / len(text)


def wide_unicode(data: bytes) -> str | None:
    """The codec of UTF-16 or UTF-32 text without a byte-order mark (Excel's "Unicode
    text" export, many Windows tools), or None. Judged by decoding a sample each way and
    keeping the one that reads as text; random bytes do not."""
    sample = data[: 64 * 1024]
    if len(sample) < 8 or b"\0" not in sample:
        return None  # UTF-16/32 of any script puts NULs in commas, digits and line ends
    best, best_score = None, 0.0
    for codec, unit in (("utf-32-le", 4), ("utf-32-be", 4), ("utf-16-le", 2), ("utf-16-be", 2)):
        cut = len(sample) - len(sample) % unit
        try:
            text = sample[:cut].decode(codec)
        except UnicodeDecodeError:
            # A sample may end inside a surrogate pair: retry one unit shorter.
            try:
                text = sample[:max(0, cut - unit)].decode(codec)
            except UnicodeDecodeError:
                continue
        if "\0" in text:
            continue
        score = _plausible_text(text)
        if score > best_score:
            best, best_score = codec, score
    return best if best_score >= 0.95 else None


def decode_text(data: bytes, charset: str | None = None) -> tuple[str, str | None]:
    """Decode bytes to text. Returns (text, note): `note` says when a declared charset was
    unknown or wrong and something else was used instead; None when all went as declared.

    A byte-order mark wins over any declaration; UTF-16/32 without one is recognised by
    its shape; a declared single-byte charset over bytes that are really Big5/GBK (a CSV
    exported on a Chinese Windows and labelled us-ascii by the mail tool) is read as what
    the bytes are, since that is how Excel on the recipient's desk opens it."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(codec, "replace"), None
    note: str | None = None
    if charset:
        candidates = _candidates(charset)
        wide = wide_unicode(data) if not candidates or candidates[0].startswith(("utf-16", "utf-32")) else None
        if wide:
            return data.decode(wide, "replace"), None if candidates else f"unknown charset {charset!r}; read as {wide}"
        if candidates and charset.strip().strip('"').lower() in _WEAK_LABELS and not data.isascii():
            guessed = _detect_chinese(data)
            # At least a few characters' worth of double-byte pairs: one "Äp" in a German
            # letter must not turn it into Chinese.
            if guessed and sum(b >= 0x80 for b in data[:64 * 1024]) >= 8:
                return data.decode(guessed, "replace"), f"declared charset {charset!r} but the bytes are {guessed}"
        for name in candidates:
            try:
                return data.decode(name), None
            except (UnicodeDecodeError, LookupError):
                continue
        if candidates:
            # Declared and known, but the bytes do not fit it: keep it, mark the bad bytes.
            return data.decode(candidates[0], "replace"), None
        note = f"unknown charset {charset!r}"
    else:
        wide = wide_unicode(data)
        if wide:
            return data.decode(wide, "replace"), None
    try:
        text = data.decode("utf-8")
        if note:
            note += "; read as " + ("ASCII" if data.isascii() else "UTF-8")
        return text, note
    except UnicodeDecodeError:
        pass
    guessed = _detect(data)
    text = data.decode(guessed, "replace")
    if note:
        note += f"; decoded as {guessed} by detection"
    return text, note


def _detect_chinese(data: bytes) -> str | None:
    """cp950 or gb18030 when the bytes read as common characters of that script, else None."""
    sample = data[: 64 * 1024]
    scored = []
    for candidate, script in (("cp950", "traditional"), ("gb18030", "simplified")):
        try:
            scored.append((_hanzi_score(sample.decode(candidate), script), candidate))
        except UnicodeDecodeError:
            continue
    if scored:
        score, best = max(scored, key=lambda item: item[0])
        if score >= 0.8:
            return best
    return None


_LINE_END = re.compile(rb"\r?\n")


def unflow(data: bytes, *, delsp: bool) -> bytes:
    """RFC 3676 format=flowed text as a flowed-aware client shows it: a line ending in a
    space (after the space-stuffing is removed) continues on the next line of the same
    quote depth; with DelSp=yes that space is deleted. The signature separator "-- " is
    never flowed. Works on bytes, which is exact for every ASCII-compatible charset.
    Linear: a paragraph's pieces are collected and joined once."""
    out: list[bytes] = []
    pending: list[bytes] = []
    pending_depth = 0
    for line in _LINE_END.split(data):
        depth = len(line) - len(line.lstrip(b">"))
        content = line[depth:]
        if content.startswith(b" "):
            content = content[1:]  # space-stuffing (or the space after the quote marks)
        flowed = content.endswith(b" ") and content != b"-- "
        if flowed and delsp:
            content = content[:-1]
        if pending and depth != pending_depth:
            out.append(_quoted(b"".join(pending), pending_depth))  # a change of depth ends a paragraph
            pending = []
        pending.append(content)
        pending_depth = depth
        if not flowed:
            out.append(_quoted(b"".join(pending), depth))
            pending = []
    if pending:
        out.append(_quoted(b"".join(pending), pending_depth))
    return b"\n".join(out)


def _quoted(line: bytes, depth: int) -> bytes:
    return b">" * depth + b" " + line if depth else line


# Characters a text viewer breaks lines at besides CR and LF (str.splitlines' set):
# LINE/PARAGRAPH SEPARATOR, NEL, VT, FF and the C0 file/group/record separators. The
# detectors work on "\n" lines, so a banner set off by these is put on a line of its own.
_LINE_BREAKS = str.maketrans({c: "\n" for c in "\u2028\u2029\u0085\v\f\x1c\x1d\x1e"})


def plain_lines(text: str) -> str:
    """`text` with every line break a viewer shows written as LF (see _LINE_BREAKS)."""
    return text.translate(_LINE_BREAKS)


# Windows code page identifiers (MAPI PR_INTERNET_CPID / PR_MESSAGE_CODEPAGE, .msg and TNEF)
# whose Python codec is not simply "cp<id>".
_CODEPAGE_CODECS = {65001: "utf-8", 54936: "gb18030", 20936: "gb2312", 1200: "utf-16-le"}


def codec_for_codepage(cpid: int) -> str | None:
    """The Python codec of a Windows code page id, or None when Python has none."""
    name = _CODEPAGE_CODECS.get(cpid, f"cp{cpid}")
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return name
