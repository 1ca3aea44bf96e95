"""The fingerprint detector and trace.compute_digests fingerprint each text once.

Both need the winnowing fingerprints of every part's text of the same inspection, one
right after the other (pipeline.inspect_message); the second reuses the first's.
"""

from __future__ import annotations

from pathlib import Path

import docgen
import fingerprint_corpus as corpus
import numpy as np

from dlp_gateway.config import load_settings
from dlp_gateway.content.extract import extract
from dlp_gateway.detect import fingerprints, textnorm
from dlp_gateway.detect.fingerprints import FingerprintDetector
from dlp_gateway.model import Segment
from dlp_gateway.pipeline import WorkerContext, inspect_message
from dlp_gateway.store.trace import sample, sample_cut_signed
from dlp_gateway.trace import compute_digests


def _message() -> bytes:
    return docgen.make_message("cable", corpus.MEMO, [("cable.pdf", corpus.cable_pdf(), "application/pdf")])


def _register_memo(data_dir: Path) -> None:
    """A register holding one document, so that the detector has work to do."""
    from dlp_gateway.cli import main

    memo = data_dir.parent / "memo.txt"
    memo.write_text(corpus.MEMO, encoding="utf-8")
    assert main(["fingerprint", "add", "--data-dir", str(data_dir), "--label", "memo", str(memo)]) == 0


def _count_winnowing(monkeypatch) -> list[int]:
    calls: list[int] = []
    original = textnorm.winnow_tokens

    def counted(tokens: textnorm.Tokens, word_ids: textnorm.WordIds | None = None) -> np.ndarray:
        calls.append(1)
        return original(tokens, word_ids)

    monkeypatch.setattr(textnorm, "winnow_tokens", counted)
    return calls


def test_each_part_text_is_fingerprinted_once_per_message(tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    _register_memo(data_dir)
    ctx = WorkerContext.from_settings(load_settings(None, {"data_dir": str(data_dir)}))
    assert any(isinstance(d, FingerprintDetector) and len(d.index) for d in ctx.detectors)
    calls = _count_winnowing(monkeypatch)
    report = inspect_message(_message(), ctx)
    texts = fingerprints.part_texts(report.inspection)
    assert any(f.detector == "fingerprint" for f in report.findings)
    assert len(calls) == len([t for t in texts.values() if t])


def test_digests_hold_the_trace_sample_of_the_winnowing_of_each_part_text():
    inspection = extract(_message(), load_settings(None, {}).limits)
    texts = fingerprints.part_texts(inspection)
    for digest in compute_digests(inspection):
        kept, cut = sample(textnorm.winnow(texts.get(digest.location, "")))
        assert list(digest.kept) == kept.view(np.int64).tolist(), digest.location
        assert digest.cut == sample_cut_signed(cut), digest.location


def test_the_detector_and_the_digests_read_the_texts_they_are_given(tmp_path):
    """The message's PartTexts is the one cache: what the detector fingerprinted is what
    compute_digests samples, with no second tokenisation."""
    data_dir = tmp_path / "data"
    _register_memo(data_dir)
    detector = FingerprintDetector(data_dir)
    inspection = extract(_message(), load_settings(None, {}).limits)
    texts = fingerprints.PartTexts.of(inspection)
    assert detector.detect(inspection, texts=texts)
    done = {location: texts.tokens_and_fingerprints(location)[1] for location in texts.texts}
    compute_digests(inspection, texts)
    assert all(texts.tokens_and_fingerprints(loc)[1] is fp for loc, fp in done.items())


def test_a_detector_without_shared_texts_reads_the_inspection_as_it_is_now(tmp_path):
    """No texts kept between calls: a segment added after one detection is seen by the next."""
    data_dir = tmp_path / "data"
    _register_memo(data_dir)
    detector = FingerprintDetector(data_dir)
    inspection = extract(docgen.make_message("lunch", "see you at noon"), load_settings(None, {}).limits)
    assert detector.detect(inspection) == []
    inspection.segments.append(Segment(corpus.MEMO, "body", "body", "body"))
    assert [f.label for f in detector.detect(inspection)] == ["memo"]

