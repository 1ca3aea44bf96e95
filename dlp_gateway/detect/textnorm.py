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


@lru_cache(maxsize=200_000)
def _word_id(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


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


def winnow_tokens(tokens: Tokens) -> np.ndarray:
    """Sorted unique winnowing fingerprints (uint64) of both token streams."""
    parts = []
    if tokens.cjk:
        ids = np.frombuffer(tokens.cjk.encode("utf-32-le"), dtype=np.uint32).astype(_U64)
        parts.append(_winnow(_kgram_hashes(ids, CJK_K, _CJK_SEED), CJK_WINDOW))
    if tokens.words:
        ids = np.fromiter(map(_word_id, tokens.words), dtype=_U64, count=len(tokens.words))
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
