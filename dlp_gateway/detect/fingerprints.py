"""Registered-document detector: exact and partial matches against the register.

Three ways a message part can match a registered document:

- **exact file**: the part's bytes have the registered file's SHA-256;
- **exact text**: the part's normalised text (layout, spacing, punctuation, script
  variant gone; see textnorm.py) has the registered text's hash;
- **partial**: the part shares winnowing fingerprints with the document. The finding
  gives both shares: how much of the part comes from the document (a mail body that is
  mostly pasted paragraphs) and how much of the document is in the part (an attachment
  that holds the whole document, or a re-typed or OCR-read copy of it).

The lookup does not grow with the register: all fingerprints of all documents sit in one
sorted uint64 array with a parallel array of document numbers, and a part's fingerprints
are looked up with one vectorised binary search (`numpy.searchsorted`). With 10,000
documents that is a few ms per message (bench/fingerprint_bench.py). The sorted arrays
are cached as .npy files next to the store, keyed by the register's generation, and
memory-mapped: every worker of a node shares one copy in the page cache, and a worker
starts without re-sorting. A worker notices a changed register (add/remove) within
`RELOAD_CHECK_SECONDS` and reloads the index.
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dlp_gateway.detect import textnorm
from dlp_gateway.model import Finding, Inspection, Level
from dlp_gateway.store.fingerprints import FingerprintStore, RegisteredDocument

log = logging.getLogger(__name__)

# A partial match needs at least this many shared fingerprints besides the share
# threshold: a two-line mail sharing one common phrase with a document is not a match.
MIN_MATCHED_FINGERPRINTS = 4
# A fingerprint held by more registered documents than this is boilerplate (a letterhead,
# a standard closing) and says nothing about which document a part came from.
MAX_DOCUMENTS_PER_FINGERPRINT = 64
RELOAD_CHECK_SECONDS = 5.0
# Segment kinds that are not the part's content (names, properties): left out of its text.
NON_CONTENT_KINDS = frozenset({"filename", "metadata", "header"})
INDEX_CACHE_PREFIX = "fingerprint-index"


@dataclass(slots=True)
class FingerprintIndex:
    """The register in memory: document metadata plus the inverted fingerprint index."""

    documents: list[RegisteredDocument] = field(default_factory=list)
    hashes: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint64))  # sorted
    owners: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))  # doc numbers
    by_sha256: dict[str, list[int]] = field(default_factory=dict)
    by_text_hash: dict[str, list[int]] = field(default_factory=dict)
    generation: int = -1

    @classmethod
    def load(cls, data_dir: str | Path) -> FingerprintIndex:
        """Load the register from the store; an absent store is an empty register."""
        store = FingerprintStore.open_for_reading(data_dir)
        if store is None:
            return cls()
        blobs: list[bytes] = []
        with store:
            store.conn.execute("BEGIN")  # one snapshot for the metadata and the blobs
            generation = store.generation()
            documents = store.list_in_index_order()
            key = f"{generation}-{len(documents)}-{sum(d.hash_count for d in documents)}"
            cached = _read_cache(Path(data_dir), key)
            if cached is None:
                blobs = [blob for _, blob in store.iter_hashes()]
            store.conn.execute("COMMIT")
        if cached is not None:
            hashes, owners = cached
        else:
            hashes, owners = _build_arrays(blobs)
            _write_cache(Path(data_dir), key, hashes, owners)
        index = cls(documents=documents, hashes=hashes, owners=owners, generation=generation)
        for number, doc in enumerate(documents):
            index.by_sha256.setdefault(doc.sha256, []).append(number)
            if doc.text_hash:
                index.by_text_hash.setdefault(doc.text_hash, []).append(number)
        return index

    def __len__(self) -> int:
        return len(self.documents)

    def overlap(self, fingerprints: np.ndarray) -> dict[int, int]:
        """Document number -> count of the given (unique) fingerprints it holds."""
        if len(self.hashes) == 0 or len(fingerprints) == 0:
            return {}
        left = np.searchsorted(self.hashes, fingerprints, side="left")
        right = np.searchsorted(self.hashes, fingerprints, side="right")
        lengths = right - left
        keep = (lengths > 0) & (lengths <= MAX_DOCUMENTS_PER_FINGERPRINT)
        if not keep.any():
            return {}
        left, lengths = left[keep], lengths[keep]
        # Expand each [left, right) range into positions, then count owners.
        total = int(lengths.sum())
        starts = np.repeat(left - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        positions = starts + np.arange(total)
        # A document holds a fingerprint once (blobs are unique), so this counts hashes.
        numbers, counts = np.unique(self.owners[positions], return_counts=True)
        return dict(zip(numbers.tolist(), counts.tolist(), strict=True))


def _build_arrays(blobs: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    if not blobs:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int32)
    arrays = [textnorm.unpack(blob) for blob in blobs]
    owners = np.repeat(np.arange(len(arrays), dtype=np.int32), [len(a) for a in arrays])
    hashes = np.concatenate(arrays)
    order = np.argsort(hashes, kind="stable")
    return hashes[order], owners[order]


def _cache_paths(data_dir: Path, key: str) -> tuple[Path, Path]:
    return (data_dir / f"{INDEX_CACHE_PREFIX}-{key}.hashes.npy",
            data_dir / f"{INDEX_CACHE_PREFIX}-{key}.owners.npy")


def _read_cache(data_dir: Path, key: str) -> tuple[np.ndarray, np.ndarray] | None:
    hashes_path, owners_path = _cache_paths(data_dir, key)
    try:
        hashes = np.load(hashes_path, mmap_mode="r")
        owners = np.load(owners_path, mmap_mode="r")
    except (OSError, ValueError):
        return None
    if hashes.dtype != np.uint64 or owners.dtype != np.int32 or len(hashes) != len(owners):
        return None
    return hashes, owners


def _write_cache(data_dir: Path, key: str, hashes: np.ndarray, owners: np.ndarray) -> None:
    """Best effort: a read-only data dir just means every worker sorts for itself."""
    try:
        for path, array in zip(_cache_paths(data_dir, key), (hashes, owners), strict=True):
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                np.save(fh, array)
            os.replace(tmp, path)
        for stale in data_dir.glob(f"{INDEX_CACHE_PREFIX}-*.npy"):
            if not stale.name.startswith(f"{INDEX_CACHE_PREFIX}-{key}."):
                stale.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("fingerprint index cache not written: %s", exc)


@dataclass(frozen=True, slots=True)
class DocumentMatch:
    """One registered document found in one piece of text."""

    document: RegisteredDocument
    kind: str  # exact_file | exact_text | partial
    matched: int
    share_of_part: float
    share_of_document: float


def part_texts(inspection: Inspection) -> dict[str, str]:
    """The content text of each part (segments grouped by `Segment.part`), in order."""
    texts: dict[str, list[str]] = defaultdict(list)
    for segment in inspection.segments:
        if segment.kind not in NON_CONTENT_KINDS:
            texts[segment.part].append(segment.text)
    return {part: "\n".join(chunks) for part, chunks in texts.items()}


@dataclass(slots=True)
class PartTexts:
    """The content text of each part of one inspection, tokenised and fingerprinted on
    first use only: the fingerprint detector and trace.compute_digests both need the
    fingerprints of the same texts, one right after the other. The pipeline makes one per
    message (`PartTexts.of`) and hands it to both (pipeline.inspect_message); it goes
    with the message, so no text outlives its inspection in a module-level cache."""

    texts: dict[str, str]
    _done: dict[str, tuple[textnorm.Tokens, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def of(cls, inspection: Inspection) -> PartTexts:
        """The part texts of `inspection`, not yet tokenised."""
        return cls(part_texts(inspection))

    def tokens_and_fingerprints(self, location: str, word_ids: textnorm.WordIds | None = None,
                                ) -> tuple[textnorm.Tokens, np.ndarray]:
        """Tokens and winnowing fingerprints of a part's text (read-only: shared);
        `word_ids`, the asking detector's memo of word hashes."""
        done = self._done.get(location)
        if done is None:
            tokens = textnorm.tokenize(self.texts.get(location, ""))
            fingerprints = textnorm.winnow_tokens(tokens, word_ids)
            fingerprints.flags.writeable = False
            done = self._done[location] = (tokens, fingerprints)
        return done


class FingerprintDetector:
    """Finds registered documents, whole or in part, in every part of a message."""

    name = "fingerprint"
    description = "Registered sensitive documents: exact file, exact text, or shared passages."
    uses_part_texts = True  # run_detectors passes the message's PartTexts (see detect/base.py)

    def __init__(self, data_dir: str | Path, min_share: float = 0.3) -> None:
        self.data_dir = Path(data_dir)
        self.min_share = min_share
        self.index = FingerprintIndex.load(self.data_dir)
        self._checked_at = time.monotonic()
        self.word_ids = textnorm.WordIds()  # word hashes, kept for this worker's life
        textnorm.normalize("")  # build the Han folding table now, not on the first message

    def _refresh(self) -> None:
        """Reload the index when the register changed (checked every few seconds)."""
        now = time.monotonic()
        if now - self._checked_at < RELOAD_CHECK_SECONDS:
            return
        self._checked_at = now
        store = FingerprintStore.open_for_reading(self.data_dir)
        if store is None:
            return
        with store:
            generation = store.generation()
        if generation != self.index.generation:
            self.index = FingerprintIndex.load(self.data_dir)

    def match_text(self, text: str, sha256s: tuple[str, ...] = ()) -> list[DocumentMatch]:
        """Registered documents found in one piece of text (and file hashes), best first."""
        found = self._match_sha256s(sha256s)
        if text:
            tokens = textnorm.tokenize(text)
            self._match_tokens(tokens, textnorm.winnow_tokens(tokens, self.word_ids), found)
        return _best_first(found)

    def _match_sha256s(self, sha256s: tuple[str, ...]) -> dict[int, DocumentMatch]:
        index = self.index
        found: dict[int, DocumentMatch] = {}
        for sha in sha256s:
            for number in index.by_sha256.get(sha, []):
                found[number] = DocumentMatch(index.documents[number], "exact_file", 0, 1.0, 1.0)
        return found

    def _match_tokens(self, tokens: textnorm.Tokens, fingerprints: np.ndarray,
                      found: dict[int, DocumentMatch]) -> None:
        """Add the exact-text and partial matches of a tokenised text to `found`."""
        index = self.index
        if len(tokens):
            for number in index.by_text_hash.get(textnorm.text_hash(tokens), []):
                found.setdefault(number, DocumentMatch(index.documents[number], "exact_text", 0, 1.0, 1.0))
            for number, matched in index.overlap(fingerprints).items():
                if number in found or matched < MIN_MATCHED_FINGERPRINTS:
                    continue
                doc = index.documents[number]
                share_part = matched / len(fingerprints)
                share_doc = matched / max(doc.hash_count, 1)
                if max(share_part, share_doc) >= self.min_share:
                    found[number] = DocumentMatch(doc, "partial", matched, min(share_part, 1.0), min(share_doc, 1.0))

    def detect(self, inspection: Inspection, texts: PartTexts | None = None) -> list[Finding]:
        """Findings of every part; `texts` is the message's PartTexts when the caller shares
        them with trace.compute_digests (so each text is fingerprinted once)."""
        self._refresh()
        if not len(self.index):
            return []
        shas: dict[str, list[str]] = defaultdict(list)
        for part in inspection.parts:
            shas[part.location].append(part.sha256)
        shared = texts if texts is not None else PartTexts.of(inspection)
        findings: list[Finding] = []
        for location in dict.fromkeys([*shas, *shared.texts]):
            found = self._match_sha256s(tuple(shas.get(location, ())))
            if shared.texts.get(location):
                self._match_tokens(*shared.tokens_and_fingerprints(location, self.word_ids), found)
            findings.extend(_finding(location, match) for match in _best_first(found))
        return findings


def _best_first(found: dict[int, DocumentMatch]) -> list[DocumentMatch]:
    return sorted(found.values(), key=lambda m: (m.kind == "partial", -max(m.share_of_part, m.share_of_document)))


def _finding(location: str, match: DocumentMatch) -> Finding:
    doc = match.document
    level = None
    if doc.level:
        try:
            level = Level.parse(doc.level)
        except ValueError:
            level = None
    if match.kind == "partial":
        evidence = (f"registered document {doc.id} \"{doc.label}\" ({doc.filename}): "
                    f"{match.share_of_document:.0%} of the document, {match.share_of_part:.0%} of this part")
    else:
        what = "file" if match.kind == "exact_file" else "text"
        evidence = f"registered document {doc.id} \"{doc.label}\" ({doc.filename}): identical {what}"
    return Finding(
        detector="fingerprint",
        rule=f"fingerprint.{match.kind}",
        location=location,
        evidence=evidence,
        level=level,
        confidence=1.0 if match.kind != "partial" else max(match.share_of_part, match.share_of_document),
        document_id=doc.id,
        label=doc.label,
        share_of_part=match.share_of_part,
        share_of_document=match.share_of_document,
    )
