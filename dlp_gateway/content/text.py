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
    sample = data[: 64 * 1024]
    scored = []
    for candidate, script in (("cp950", "traditional"), ("gb18030", "simplified")):
        try:
            scored.append((_hanzi_score(sample.decode(candidate), script), candidate))
        except UnicodeDecodeError:
            continue
    if scored:
        # Ties go to cp950: the first in the list (a Taiwanese ministry's mail).
        score, best = max(scored, key=lambda item: item[0])
        if score >= 0.8:
            return best
    from charset_normalizer import from_bytes

    found = from_bytes(data[: 256 * 1024]).best()
    return found.encoding if found is not None else "utf-8"


def decode_text(data: bytes, charset: str | None = None) -> tuple[str, str | None]:
    """Decode bytes to text. Returns (text, note): `note` says when a declared charset was
    unknown or wrong and detection was used instead; None when all went as declared."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace"), None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace"), None
    note: str | None = None
    if charset:
        candidates = _candidates(charset)
        for name in candidates:
            try:
                return data.decode(name), None
            except (UnicodeDecodeError, LookupError):
                continue
        if candidates:
            # Declared and known, but the bytes do not fit it: keep it, mark the bad bytes.
            return data.decode(candidates[0], "replace"), None
        note = f"unknown charset {charset!r}"
    try:
        return data.decode("utf-8"), note
    except UnicodeDecodeError:
        pass
    guessed = _detect(data)
    text = data.decode(guessed, "replace")
    if note:
        note += f"; decoded as {guessed} by detection"
    return text, note
