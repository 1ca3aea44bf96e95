"""The trace store: what a record holds, how it is matched, how long it lives, what it costs."""

from __future__ import annotations

import calendar
import contextlib
import io
import json
import random
import time
from pathlib import Path

import docgen
import fingerprint_corpus as corpus
import numpy as np

from dlp_gateway.cli import main
from dlp_gateway.config import load_settings
from dlp_gateway.content.extract import extract
from dlp_gateway.detect import textnorm
from dlp_gateway.model import Envelope, InspectionReport
from dlp_gateway.store import trace as trace_store
from dlp_gateway.store.quarantine import QuarantineStore
from dlp_gateway.store.trace import TraceStore
from dlp_gateway.trace import FoundDocument, TraceRecorder, compute_digests, trace_document


def record(data_dir: Path, raw: bytes, sender: str, recipients: list[str], at: float | None = None) -> Envelope:
    settings = load_settings(None, {"data_dir": str(data_dir)})
    inspection = extract(raw, settings.limits)
    report = InspectionReport(inspection=inspection, findings=[], digests=compute_digests(inspection))
    envelope = Envelope(sender, tuple(recipients))
    recorder = TraceRecorder(data_dir)
    try:
        recorder.record(envelope, report, recipients, at=at)
    finally:
        recorder.close()
    return envelope


def trace_text(data_dir: Path, text: str) -> list:
    with TraceStore(data_dir) as store:
        found = FoundDocument(sha256s=(), fingerprints=textnorm.winnow(text), marks=[])
        return trace_document(found, store)


def han_text(rng: random.Random, chars: int) -> str:
    return "".join(chr(rng.randrange(0x4E00, 0x4E00 + 3000)) for _ in range(chars))


def test_digests_hold_hashes_of_every_part_and_no_text():
    raw = docgen.make_message("資料", corpus.CABLE, [("cable.pdf", corpus.cable_pdf(), "application/pdf")],
                              transfer_encoding="base64")
    inspection = extract(raw, load_settings().limits)
    digests = compute_digests(inspection)
    locations = [d.location for d in digests]
    assert "cable.pdf" in locations and any(loc.startswith("body") for loc in locations)
    for digest in digests:
        assert len(digest.sha256) == 64
        assert all(isinstance(h, int) for h in digest.kept)
    # About a quarter of the winnowing fingerprints (those with the two low bits zero) are kept.
    kept = next(d for d in digests if d.location == "cable.pdf").kept
    assert len(kept) > 10 and all(h & 3 == 0 for h in kept)


def test_a_recorded_message_is_found_from_pasted_text_and_unrelated_text_finds_nothing(tmp_path):
    paragraphs = corpus.paragraphs(corpus.CABLE)
    record(tmp_path, docgen.make_message("c", corpus.CABLE, transfer_encoding="base64"), "a@m.example", ["b@o.example"])
    record(tmp_path, docgen.make_message("s", corpus.SAME_SUBJECT, transfer_encoding="base64"), "c@m.example", ["d@o.example"])
    found = trace_text(tmp_path, paragraphs[2] + paragraphs[4])
    assert [r.message.sender for r in found] == ["a@m.example"]
    assert found[0].parts[0].share_of_document > 0.7
    assert trace_text(tmp_path, corpus.MEMO_SAME_SUBJECT) == []


def test_trace_keeps_a_quarter_of_the_fingerprints_and_caps_large_parts():
    values = textnorm.winnow(han_text(random.Random(3), 8000))
    kept, cut = trace_store.sample(values)
    assert 0.15 < len(kept) / len(values) < 0.35 and cut == 2**64 - 1
    rng = np.random.default_rng(3)
    big = rng.integers(0, 2**63, size=20 * trace_store.MAX_FINGERPRINTS_PER_PART, dtype=np.int64).astype(np.uint64)
    kept, cut = trace_store.sample(big)
    assert len(kept) == trace_store.MAX_FINGERPRINTS_PER_PART
    assert int(kept.max()) == cut  # the smallest ones: a bottom-k sketch with its cut


def test_records_older_than_the_retention_expire_with_their_fingerprints(tmp_path):
    now = time.time()
    old_at = now - 400 * 86400
    record(tmp_path, docgen.make_message("old", corpus.CABLE, transfer_encoding="base64"), "old@m.example",
           ["x@o.example"], at=old_at)
    record(tmp_path, docgen.make_message("new", corpus.MEMO, transfer_encoding="base64"), "new@m.example",
           ["y@o.example"], at=now)
    old_table = trace_store.postings_table(old_at)
    with TraceStore(tmp_path) as store:
        assert old_table in store.postings_tables()
        assert store.expire(365, now=now) == 1
        assert old_table not in store.postings_tables()
        assert store.conn.execute("SELECT COUNT(*) FROM trace_parts").fetchone()[0] == 1
    assert trace_text(tmp_path, corpus.CABLE) == []
    assert [r.message.sender for r in trace_text(tmp_path, corpus.MEMO)] == ["new@m.example"]


def test_expiry_inside_a_month_removes_the_expired_message_only(tmp_path):
    year, month = time.gmtime().tm_year - 1, 6
    first = calendar.timegm((year, month, 2, 12, 0, 0))
    later = calendar.timegm((year, month, 20, 12, 0, 0))
    record(tmp_path, docgen.make_message("a", corpus.CABLE, transfer_encoding="base64"), "a@m.example", ["x@o.example"], at=first)
    record(tmp_path, docgen.make_message("b", corpus.MEMO, transfer_encoding="base64"), "b@m.example", ["y@o.example"], at=later)
    with TraceStore(tmp_path) as store:
        assert store.expire(10, now=later + 5 * 86400) == 1  # the cutoff falls between the two
        assert [r[0] for r in store.conn.execute("SELECT sender FROM trace_messages")] == ["b@m.example"]
    assert trace_text(tmp_path, corpus.CABLE) == []
    assert len(trace_text(tmp_path, corpus.MEMO)) == 1


def test_a_record_costs_a_few_kilobytes(tmp_path):
    rng = random.Random(5)
    with TraceStore(tmp_path) as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = sum(p.stat().st_size for p in tmp_path.glob("store.sqlite*"))
    count = 150
    for i in range(count):
        body = han_text(rng, 300)
        attachments = []
        if i % 3 == 0:  # a third carry a ~10-page document
            attachments = [("doc.txt", han_text(rng, 6000).encode("utf-8"), "text/plain")]
        record(tmp_path, docgen.make_message(f"m{i}", body, attachments, transfer_encoding="base64"),
               "a@m.example", ["b@o.example", "c@o.example"])
    with TraceStore(tmp_path) as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        store.conn.execute("VACUUM")
    after = sum(p.stat().st_size for p in tmp_path.glob("store.sqlite*"))
    assert (after - before) / count < 3072


def test_a_release_from_quarantine_is_recorded(tmp_path):
    data_dir = tmp_path / "data"
    raw = docgen.make_message("held", corpus.CABLE, transfer_encoding="base64",
                              sender="s@m.example", to="r@o.example")
    envelope = Envelope("s@m.example", ("r@o.example",))
    with contextlib.closing(QuarantineStore(data_dir)) as quarantine:
        qid = quarantine.put(envelope, raw, ["r@o.example"], "test", "held for the test", None).id
    assert trace_text(data_dir, corpus.CABLE) == []  # held is not delivered
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["quarantine", "release", "--data-dir", str(data_dir), "--operator", "officer", qid]) == 0
    found = trace_text(data_dir, corpus.CABLE)
    assert [(r.message.via, r.message.gateway_id, r.message.recipients) for r in found] == [
        ("release", envelope.gateway_id, ("r@o.example",))]


def test_trace_prints_a_readable_answer(tmp_path, capsys):
    record(tmp_path, docgen.make_message("c", corpus.CABLE, transfer_encoding="base64"), "a@m.example", ["b@o.example"])
    found = tmp_path / "found.txt"
    found.write_text(corpus.paragraphs(corpus.CABLE)[1], encoding="utf-8")
    assert main(["trace", "--data-dir", str(tmp_path), str(found)]) == 0
    out = capsys.readouterr().out
    assert "1 message(s)" in out and "from a@m.example" in out and "to b@o.example" in out
    assert "of the document" in out
    assert main(["trace", "--json", "--data-dir", str(tmp_path / "empty"), str(found)]) == 1
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["messages"] == []


def test_recording_the_same_delivery_twice_keeps_one_record(tmp_path):
    settings = load_settings(None, {"data_dir": str(tmp_path)})
    inspection = extract(docgen.make_message("c", corpus.CABLE, transfer_encoding="base64"), settings.limits)
    report = InspectionReport(inspection=inspection, findings=[], digests=compute_digests(inspection))
    envelope = Envelope("a@m.example", ("b@o.example",))
    recorder = TraceRecorder(tmp_path)
    try:
        first = recorder.record(envelope, report, ["b@o.example"])
        assert recorder.record(envelope, report, ["b@o.example"]) == first
        assert recorder.store.conn.execute("SELECT COUNT(*) FROM trace_messages").fetchone()[0] == 1
    finally:
        recorder.close()
