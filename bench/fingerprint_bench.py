"""Fingerprint lookup with a large register: per-message cost with 10,000 documents.

Registers --documents synthetic documents (random CJK text of ~3,000 characters each,
winnowed by the real code, stored through FingerprintStore in one transaction), then
loads the index (cold: built from the store; warm: the memory-mapped cache) and times
`FingerprintDetector.detect` on messages: a mail body with two paragraphs pasted from a
registered document plus a 20 KB unrelated attachment text, and an unrelated message.
The time includes normalising and winnowing the message text, not only the lookup.

    python3 bench/fingerprint_bench.py [--documents 10000] [--runs 200]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dlp_gateway.detect import textnorm  # noqa: E402
from dlp_gateway.detect.fingerprints import FingerprintDetector  # noqa: E402
from dlp_gateway.model import Inspection, Segment  # noqa: E402
from dlp_gateway.store.fingerprints import FingerprintStore, NewDocument  # noqa: E402

# A vocabulary of common Han characters (the CJK Unified block's first 3,000).
VOCABULARY = np.array([chr(c) for c in range(0x4E00, 0x4E00 + 3000)])


def random_text(rng: np.random.Generator, chars: int) -> str:
    text = "".join(rng.choice(VOCABULARY, size=chars).tolist())
    return "\n".join(text[i : i + 150] for i in range(0, len(text), 150))  # paragraphs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--chars", type=int, default=3000, help="characters per document")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(11)
    data_dir = Path(tempfile.mkdtemp(prefix="fingerprint-bench-"))
    try:
        started = time.perf_counter()
        docs, texts = [], []
        for i in range(args.documents):
            text = random_text(rng, args.chars)
            if i == min(1234, args.documents - 1):
                texts.append(text)
            tokens = textnorm.tokenize(text)
            hashes = textnorm.winnow_tokens(tokens)
            docs.append(NewDocument(label="bench", filename=f"doc{i}.pdf", sha256=f"{i:064x}",
                                    text_hash=textnorm.text_hash(tokens), size=len(text.encode()),
                                    level=None, winnow_version=textnorm.WINNOW_VERSION,
                                    hashes=textnorm.pack(hashes), hash_count=len(hashes)))
        with FingerprintStore(data_dir) as store:
            store.add_many(docs)
        total = sum(d.hash_count for d in docs)
        print(f"registered {args.documents} documents, {total} fingerprints "
              f"({total / args.documents:.0f} per document) in {time.perf_counter() - started:.1f} s")

        for attempt in ("cold (built from the store)", "warm (memory-mapped cache)"):
            started = time.perf_counter()
            detector = FingerprintDetector(data_dir)
            print(f"load {attempt}: {(time.perf_counter() - started) * 1000:.0f} ms")

        paragraphs = texts[0].split("\n")
        body = "各位同仁好，請參考下列內容：\n" + paragraphs[3] + "\n" + paragraphs[7] + "\n謝謝。"
        attachment = random_text(rng, 7000)  # ~20 KB of UTF-8
        leaking = Inspection(segments=[Segment(body, "body[0]", "body[0]", "body"),
                                       Segment(attachment, "a.pdf › page 1", "a.pdf", "page")])
        clean = Inspection(segments=[Segment(random_text(rng, 400), "body[0]", "body[0]", "body"),
                                     Segment(attachment, "a.pdf › page 1", "a.pdf", "page")])
        for name, inspection in (("message with pasted paragraphs", leaking), ("unrelated message", clean)):
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                findings = detector.detect(inspection)
                times.append(time.perf_counter() - started)
            print(f"{name}: median {statistics.median(times) * 1000:.2f} ms, "
                  f"p99 {sorted(times)[int(len(times) * 0.99) - 1] * 1000:.2f} ms; findings: "
                  f"{[(f.rule, f.location, round(f.share_of_part or 0, 2)) for f in findings]}")
        started = time.perf_counter()
        fingerprints = textnorm.winnow(body + attachment)
        winnowed = time.perf_counter()
        for _ in range(args.runs):
            detector.index.overlap(fingerprints)
        print(f"index lookup alone: {(time.perf_counter() - winnowed) / args.runs * 1000:.2f} ms "
              f"(winnowing the message text: {(winnowed - started) * 1000:.2f} ms)")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
