"""Text normalisation and winnowing, shared by the fingerprint register and trace.

Two texts that carry the same document must give the same fingerprints however the
text travelled: re-laid out in another format, pasted into a mail body, converted
between simplified and traditional script, or read back from a scan by OCR. So:

1. **Normalise**: NFKC (full-width forms, compatibility ideographs), case-fold, and fold
   every Han character to one canonical form (simplified→traditional through OpenCC's
   character tables, applied as one `str.translate` table built once: OpenCC's own
   converter costs ~2 µs per character, the table ~20 ns). White space and punctuation
   are dropped, so line breaks, spacing (「機　密」) and layout do not matter.
2. **Tokenise**: CJK text is a stream of characters (no spaces to split words on),
   Latin-script text a stream of words. The two streams are fingerprinted separately
   with their own k-gram length, so a mixed document keeps both.
3. **Winnow** (Schleimer, Wilkerson, Aiken 2003): hash every k-gram with a 64-bit mix,
   keep the minimum hash of every window of `w` consecutive k-grams. Any shared run of at
   least `w + k - 1` tokens is guaranteed to produce a shared fingerprint, and about
   2/(w+1) of the k-grams are kept, so the fingerprint set is small but still catches
   a pasted paragraph or the clean stretches between OCR errors.

The arithmetic runs in numpy (uint64 wrap-around), so 100 KB of text costs a few ms.
Hashes are deterministic across processes and releases: they are stored in the
register and the trace index, so changing a parameter here requires re-registering
documents (the register records `WINNOW_VERSION`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

# Changing any parameter below changes every hash: bump the version with it.
WINNOW_VERSION = 2
CJK_K = 6  # characters per k-gram: ~2-3 words, specific enough, short enough for OCR noise
CJK_WINDOW = 10  # guarantee threshold 15 characters
LATIN_K = 4  # words per k-gram
LATIN_WINDOW = 6  # guarantee threshold 9 words

_U64 = np.uint64
_MASK = (1 << 64) - 1

# Han (incl. extension A, compatibility, supplementary planes), kana, hangul, bopomofo:
# scripts written without spaces between words, so fingerprinted per character.
_CJK_CLASS = (
    "\u3005\u3007\u3040-\u30ff\u3100-\u312f\u31a0-\u31bf\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
# The two streams, one regex pass each: runs of CJK characters, and words, runs of word
# characters other than "_" and CJK (a CJK character splits a word, as a space would).
_CJK_RUN_RE = re.compile(f"[{_CJK_CLASS}]+")
_NON_CJK_WORD_RE = re.compile(f"[^\\W_{_CJK_CLASS}]+")
_ASCII_WORD_RE = re.compile("[a-z0-9]+")  # the same words in lower-cased ASCII text


@lru_cache(maxsize=1)
def _han_fold_table() -> dict[int, str]:
    """Character table folding simplified and variant Han forms to one traditional form.

    Built from OpenCC's own character dictionaries (simplified→traditional and back, all
    candidates): characters linked by any mapping form one class, and the whole class
    folds to one traditional member. So 發/髮/发 fold alike, and so do 瞭/了, which
    OpenCC only converts inside phrases (瞭解→了解): per-character conversion alone would
    leave a traditional text and its simplified rendering different.
    """
    import opencc

    base = Path(opencc.__file__).parent / "dictionary"
    parent: dict[str, str] = {}

    def find(char: str) -> str:
        while parent.get(char, char) != char:
            parent[char] = parent.get(parent[char], parent[char])
            char = parent[char]
        return char

    def union(a: str, b: str) -> None:
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    traditional: set[str] = set()
    for name, to_traditional in (("STCharacters.txt", True), ("TSCharacters.txt", False)):
        for line in (base / name).read_text(encoding="utf-8").splitlines():
            source, _, targets = line.partition("\t")
            candidates = [t for t in targets.split(" ") if len(t) == 1]
            if len(source) != 1 or not candidates:
                continue
            if to_traditional:
                traditional.add(candidates[0])
            for target in candidates:
                union(source, target)
    classes: dict[str, list[str]] = {}
    for char in list(parent):
        classes.setdefault(find(char), []).append(char)
    folded: dict[int, str] = {}
    for members in classes.values():
        preferred = sorted(c for c in members if c in traditional) or sorted(members)
        canonical = preferred[0]
        for char in members:
            if char != canonical:
                folded[ord(char)] = canonical
    return folded


def normalize(text: str) -> str:
    """NFKC, case-folded, Han folded to traditional; white space kept (word boundaries)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return text.translate(_han_fold_table())


@dataclass(frozen=True, slots=True)
class Tokens:
    """The two token streams of a normalised text."""

    cjk: str  # CJK characters only, in order, nothing between them
    words: tuple[str, ...]  # Latin-script (and other spaced scripts') words and numbers

    def __len__(self) -> int:
        return len(self.cjk) + len(self.words)

    def canonical(self) -> str:
        """The normalised text with layout, spacing and punctuation gone: its hash is
        the exact-text hash of the register."""
        return self.cjk + "\x00" + " ".join(self.words)


def tokenize(text: str) -> Tokens:
    """The token streams of `normalize(text)`. The Han folding table maps CJK characters
    to CJK characters only, so it is applied to the (shorter) CJK stream alone."""
    if text.isascii():  # NFKC leaves ASCII as is, casefold is lower(), no CJK, no "_" in a word
        return Tokens("", tuple(_ASCII_WORD_RE.findall(text.lower())))
    norm = unicodedata.normalize("NFKC", text).casefold()
    cjk = "".join(_CJK_RUN_RE.findall(norm))
    if cjk:
        cjk = cjk.translate(_han_fold_table())
    return Tokens(cjk, tuple(_NON_CJK_WORD_RE.findall(norm)))


def text_hash(tokens: Tokens) -> str:
    """SHA-256 of the canonical text: equal for the same text in any layout or format."""
    return hashlib.sha256(tokens.canonical().encode("utf-8")).hexdigest()


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on uint64 arrays: a well-distributed 64-bit bijection."""
    z = values.astype(_U64, copy=True)
    with np.errstate(over="ignore"):
        z ^= z >> _U64(30)
        z *= _U64(0xBF58476D1CE4E5B9)
        z ^= z >> _U64(27)
        z *= _U64(0x94D049BB133111EB)
        z ^= z >> _U64(31)
    return z


def _word_id(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


class WordIds:
    """A memo of word hashes owned by whoever winnows many texts (the fingerprint detector
    of a worker): common words are hashed once per worker, not once per text; at most
    `limit` words, least recently used dropped first. Not a module global, so no words of
    past messages stay in a process that never asked for the memo (issue #14)."""

    def __init__(self, limit: int = 200_000) -> None:
        self.word_id = lru_cache(maxsize=limit)(_word_id)

    def __len__(self) -> int:
        return self.word_id.cache_info().currsize


def _kgram_hashes(token_ids: np.ndarray, k: int, seed: int) -> np.ndarray:
    """64-bit hash of every k-gram: a polynomial over mixed token ids, then mixed again."""
    n = len(token_ids) - k + 1
    if n <= 0:
        return np.empty(0, dtype=_U64)
    ids = _mix(token_ids ^ _U64(seed))
    mult = _U64(0x9E3779B97F4A7C15)  # odd: multiplication is invertible mod 2^64
    acc = ids[:n].copy()  # the first step of the loop below from 0: 0 * mult + ids[:n]
    with np.errstate(over="ignore"):
        for j in range(1, k):
            acc *= mult
            acc += ids[j : j + n]
    return _mix(acc ^ _U64(seed))


def _winnow(hashes: np.ndarray, window: int) -> np.ndarray:
    """The minimum of every window of `window` consecutive hashes (unsorted, repeats
    possible: the caller keeps the unique values). Minima of windows of 2, 4, 8...
    hashes are built by halves, then the last step combines two overlapping windows:
    a few vectorised `minimum`s instead of an argmin per window."""
    if len(hashes) <= window:
        return hashes[:0] if len(hashes) == 0 else hashes.min(keepdims=True)
    minima, span = hashes, 1
    while span * 2 <= window:
        minima = np.minimum(minima[:-span], minima[span:])
        span *= 2
    if span < window:
        minima = np.minimum(minima[: len(minima) - (window - span)], minima[window - span :])
    return minima


_CJK_SEED = 0x243F6A8885A308D3
_LATIN_SEED = 0x13198A2E03707344


def winnow_tokens(tokens: Tokens, word_ids: WordIds | None = None) -> np.ndarray:
    """Sorted unique winnowing fingerprints (uint64) of both token streams; `word_ids`,
    the caller's memo of word hashes (the values do not depend on it)."""
    parts = []
    if tokens.cjk:
        ids = np.frombuffer(tokens.cjk.encode("utf-32-le"), dtype=np.uint32).astype(_U64)
        parts.append(_winnow(_kgram_hashes(ids, CJK_K, _CJK_SEED), CJK_WINDOW))
    if tokens.words:
        # Each distinct word hashed once per text (a memo that goes with the call), or once
        # per worker with the caller's memo.
        word_id = word_ids.word_id if word_ids is not None else lru_cache(maxsize=None)(_word_id)
        ids = np.fromiter(map(word_id, tokens.words), dtype=_U64, count=len(tokens.words))
        parts.append(_winnow(_kgram_hashes(ids, LATIN_K, _LATIN_SEED), LATIN_WINDOW))
    if not parts:
        return np.empty(0, dtype=_U64)
    return np.unique(np.concatenate(parts))


def winnow(text: str) -> np.ndarray:
    """Winnowing fingerprints of a text (see the module docstring)."""
    return winnow_tokens(tokenize(text))


def to_signed(hashes: np.ndarray) -> list[int]:
    """Hashes as signed 64-bit Python ints, the form SQLite INTEGER columns hold."""
    return hashes.view(np.int64).tolist()


def from_signed(values: list[int] | tuple[int, ...]) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).view(_U64)


def pack(hashes: np.ndarray) -> bytes:
    """Compact storage form: little-endian uint64s (8 bytes each)."""
    return np.asarray(hashes, dtype="<u8").tobytes()


def unpack(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u8").astype(_U64)


# --------------------------------------------------------------------------- markings
#
# Normalisation before marking detection. Separate from `normalize` above on purpose:
# the fingerprint path's output is pinned (stored hashes depend on it), and the marking
# grammar wants the layout kept (line breaks, ideographic spaces, brackets) while the
# tricks that hide a marking from a parser but not from a reader are undone:
#
# - invisible characters: soft hyphen, zero-width space/non-joiner/joiner, word joiner,
#   invisible operators, BOM, combining grapheme joiner (「SE\u00adCRET」, 「極\u200b機密」);
# - compatibility forms of letters that NFKC folds but the line grammar does not expect:
#   mathematical alphanumerics (𝐒𝐄𝐂𝐑𝐄𝐓), circled and squared letters, Kangxi and CJK
#   radicals, compatibility ideographs (full-width Latin is already folded per candidate
#   line by the grammar, with the rest of its line, so it is left to it);
# - Cyrillic and Greek capitals that look like Latin ones, inside a word that then reads
#   as a marking word (ЅЕСRЕТ, ΤΟΡ SECRET): only such words are mapped, so Russian or
#   Greek text is left alone;
# - strike-through overlays (U+0335/U+0336/U+0338) on one character or on part of a word
#   are dropped (a partly struck SECRET is still SECRET); a word struck through entirely
#   is kept as it is: a declassified banner, which the detector reports as such;
# - banners spelled out with gaps between the letters (「S  E  C  R  E  T」,
#   「T O P  S E C R E T」, 「S.E.C.R.E.T」) are closed up; the gaps between the letters of
#   a CJK level are already allowed by the grammar (「極　機　密」).
#
# The result has the same lines as the input. Cost: plain ASCII text pays one
# literal-prefix regex search; other text one table lookup over its code points (numpy)
# and then only the steps for the characters found, each a C-speed pass.

_INVISIBLE_CHARS = "\u00ad\u034f\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff"
STRIKE_MARKS = "\u0335\u0336\u0338"
_COMPAT_BMP = ((0x2460, 0x24FF), (0x2E80, 0x2FDF), (0xF900, 0xFAFF))  # enclosed; radicals; ideographs
_COMPAT_ASTRAL = ((0x1D400, 0x1D7FF), (0x1F130, 0x1F189), (0x2F800, 0x2FA1F))  # math; squared; ideographs
_COMPAT_RE = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in _COMPAT_BMP + _COMPAT_ASTRAL) + "]")
# Cyrillic and Greek capitals a reader takes for Latin ones.
_HOMOGLYPHS = {
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "У": "Y", "Ѕ": "S", "І": "I", "Ј": "J", "Ԁ": "D", "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C",
}
# Words of the Latin marking grammar; a word with look-alikes is only mapped if it becomes one.
MARKING_WORDS = frozenset({
    "TOP", "SECRET", "CONFIDENTIAL", "RESTRICTED", "COSMIC", "NATO", "NOFORN", "ORCON", "PROPIN",
    "UNCLASSIFIED", "CUI", "FOUO", "SBU", "CLASSIFIED", "CLASSIFICATION", "OFFICIAL", "USE", "ONLY",
    "CONTROLLED", "SENSITIVE", "LIMITED", "TOPSECRET", "REL", "UE", "EU", "RESTREINT", "CONFIDENTIEL",
    "DECLASSIFIED", "DECLASSIFY",
})
# Code point classes, looked up for the whole text at once (numpy).
_INV, _COMPAT, _LOOKALIKE, _STRIKE, _ASTRAL = 1, 2, 3, 4, 5


@lru_cache(maxsize=1)
def _class_table() -> np.ndarray:
    table = np.zeros(0x10000, dtype=np.uint8)
    for ch in _INVISIBLE_CHARS:
        table[ord(ch)] = _INV
    for a, b in _COMPAT_BMP:
        table[a:b + 1] = _COMPAT
    for ch in _HOMOGLYPHS:
        table[ord(ch)] = _LOOKALIKE
    for ch in STRIKE_MARKS:
        table[ord(ch)] = _STRIKE
    table[0xD800:0xE000] = _ASTRAL  # surrogates: a character beyond the BMP
    return table


@lru_cache(maxsize=1)
def _lookalike_table() -> np.ndarray:
    table = np.arange(0x600, dtype=np.uint32)  # covers every look-alike (Greek, Cyrillic)
    for ch, latin in _HOMOGLYPHS.items():
        table[ord(ch)] = ord(latin)
    return table


def _units(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)


def _classes(text: str) -> set[int]:
    """Which of the classes above occur in `text`: one table lookup over all code units
    (a surrogate pair sends the text to the exact check of astral compatibility forms)."""
    classes = _class_table().take(_units(text))
    if not classes.any():  # the common case, decided in microseconds
        return set()
    counts = np.bincount(classes, minlength=6)
    found = {int(i) for i in np.flatnonzero(counts[1:5]) + 1}
    if counts[_ASTRAL]:
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        high = codes[codes > 0xFFFF]
        if any(((high >= a) & (high <= b)).any() for a, b in _COMPAT_ASTRAL):
            found.add(_COMPAT)
    return found


def _unmask_lookalikes(text: str) -> str:
    """Map Cyrillic/Greek look-alike capitals to Latin inside words that then are marking
    words. Vectorised: runs of (mapped) Latin capitals that hold a mapped letter and have a
    marking word's length, first and last letter are the only candidates, so Russian or
    Greek prose costs a few passes in numpy, not a Python step per word."""
    codes: np.ndarray = _units(text)
    if len(codes) == len(text):  # one UTF-16 unit per character: the class table says where
        candidates = np.flatnonzero(_class_table().take(codes) == _LOOKALIKE)
    else:  # characters beyond the BMP: one code point per character, look-alike ranges
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        candidates = np.flatnonzero(((codes >= 0x391) & (codes <= 0x3A9)) | ((codes >= 0x3F9) & (codes <= 0x42F))
                                    | ((codes >= 0x4C0) & (codes <= 0x51D)))
    targets = _lookalike_table().take(codes[candidates])
    changed = candidates[targets != codes[candidates]]
    if not len(changed):
        return text
    mapped = codes.copy()
    mapped[candidates] = targets
    capital = ((mapped >= 0x41) & (mapped <= 0x5A)).view(np.int8)
    edges = np.diff(capital, prepend=np.int8(0), append=np.int8(0))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    holds_mapped = np.searchsorted(changed, starts) < np.searchsorted(changed, ends)
    pick = holds_mapped & (ends - starts >= 2) & (ends - starts <= 16)
    starts, ends = starts[pick], ends[pick]
    if not len(starts):
        return text
    keys = (ends - starts) * 65536 + mapped[starts].astype(np.int64) * 256 + mapped[ends - 1]
    pick = np.isin(keys, _marking_word_keys())
    out: list[str] = []
    last = 0
    for start, end in zip(starts[pick].tolist(), ends[pick].tolist(), strict=True):
        if (start and text[start - 1].isalpha()) or (end < len(text) and text[end].isalpha()):
            continue  # part of a longer word
        word = mapped[start:end].astype(np.uint32).tobytes().decode("utf-32-le")
        if word in MARKING_WORDS:
            out += (text[last:start], word)
            last = end
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


@lru_cache(maxsize=1)
def _marking_word_keys() -> np.ndarray:
    """(length, first letter, last letter) of every marking word, as `_unmask_lookalikes` keys."""
    return np.array(sorted({len(w) * 65536 + ord(w[0]) * 256 + ord(w[-1]) for w in MARKING_WORDS}), dtype=np.int64)


# Capital letters (also full-width ones) with a gap or a dot between each: a spaced banner.
_GAP_CHARS = " \t\u3000.·•\\-_*"
_GAP = r"(?:[ \t\u3000]{1,6}|[ \t]?[.·•\-_*][ \t]?)"
_SPACED_CAPS = re.compile(rf"(?<![A-Za-z])[A-ZＡ-Ｚ](?:{_GAP}[A-ZＡ-Ｚ]){{3,}}(?![A-Za-z])")
# Every spaced marking word that matters (SECRET, CONFIDENTIAL, RESTRICTED, TOP SECRET)
# has an E standing alone between gaps and followed by another lone capital: found first
# with a literal-prefix search, so ordinary text (even all in capitals) costs little.
_SPACED_HINTS = (re.compile(f"E(?<=[{_GAP_CHARS}]E)[{_GAP_CHARS}]{{1,6}}[A-Z][{_GAP_CHARS}]"),
                 re.compile(f"Ｅ(?<=[{_GAP_CHARS}]Ｅ)[{_GAP_CHARS}]{{1,6}}[Ａ-Ｚ][{_GAP_CHARS}]"))


def _close_up(match: re.Match[str]) -> str:
    """「T O P  S E C R E T」 -> 「TOP SECRET」: the narrowest gap is between letters, a
    wider one between words. Runs that do not close up into marking words stay as they are."""
    run = match.group()
    at = [i for i, c in enumerate(run) if "A" <= c <= "Z" or "Ａ" <= c <= "Ｚ"]
    gaps = [b - a - 1 for a, b in zip(at, at[1:], strict=False)]
    letters = [unicodedata.normalize("NFKC", run[i]) for i in at[1:]]
    narrow = min(gaps)
    words, current = [], unicodedata.normalize("NFKC", run[0])
    for gap, letter in zip(gaps, letters, strict=True):
        if gap > narrow:
            words.append(current)
            current = letter
        else:
            current += letter
    words.append(current)
    if words == ["TOPSECRET"]:
        words = ["TOP", "SECRET"]
    if not all(w in MARKING_WORDS for w in words):
        return run
    return " ".join(words)


_SPACED_REACH = 120  # characters either side of a hint: the longest spaced banner fits


def _close_up_spaced(text: str) -> str:
    """Close up spaced-out banners, looking only near the E's a hint search found."""
    windows: list[list[int]] = []
    for hint in _SPACED_HINTS:
        for m in hint.finditer(text):
            lo, hi = max(0, m.start() - _SPACED_REACH), min(len(text), m.end() + _SPACED_REACH)
            windows.append([lo, hi])
    if not windows:
        return text
    windows.sort()
    merged = [windows[0]]
    for lo, hi in windows[1:]:
        if lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    out: list[str] = []
    last = 0
    for lo, hi in merged:
        for m in _SPACED_CAPS.finditer(text, max(lo, last), hi):
            closed = _close_up(m)
            if closed != m.group():
                out += (text[last:m.start()], closed)
                last = m.end()
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


# One character struck through, or a run of them.
_STRUCK_RUN = re.compile(f"(?:[^\\s{STRIKE_MARKS}][{STRIKE_MARKS}]+)+")


def _unstrike_part(match: re.Match[str]) -> str:
    """Strike-through on one character, or on part of a word, does not strike the word out:
    drop the overlay (「機̶密」 is 機密, 「S̶E̶CRET」 is SECRET). A whole word struck through
    stays struck."""
    run, text = match.group(), match.string
    start, end = match.span()
    partial = (start > 0 and text[start - 1].isalnum()) or (end < len(text) and text[end].isalnum())
    if not partial and sum(1 for ch in run if ch not in STRIKE_MARKS) >= 2:
        return run
    return "".join(ch for ch in run if ch not in STRIKE_MARKS)


def normalize_markings(text: str) -> str:
    """The text as a reader sees it, for the marking grammar (see the section comment)."""
    if text.isascii():
        return _close_up_spaced(text)
    return _normalize_classes(text, _classes(text))


def normalize_markings_many(texts: list[str]) -> list[str]:
    """`normalize_markings` of each text, with one look for suspicious characters over
    them all (a document's pages and bands): the common case costs one table lookup."""
    joined = "\n".join(texts)
    classes = set() if joined.isascii() else _classes(joined)
    if not classes:
        return [_close_up_spaced(t) for t in texts]
    return [_normalize_classes(t, classes) if t else t for t in texts]


def _normalize_classes(text: str, classes: set[int]) -> str:
    if _INV in classes:
        for ch in _INVISIBLE_CHARS:
            if ch in text:
                text = text.replace(ch, "")
    if _STRIKE in classes:
        text = _STRUCK_RUN.sub(_unstrike_part, text)
    if _COMPAT in classes:
        text = _COMPAT_RE.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    if _LOOKALIKE in classes:
        text = _unmask_lookalikes(text)
    return _close_up_spaced(text)
