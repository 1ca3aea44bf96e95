"""The gateway's trace writer: delivery records queued by the relay, written in batches."""

from __future__ import annotations

import threading
from pathlib import Path

import docgen

from dlp_gateway import metrics
from dlp_gateway.config import load_settings
from dlp_gateway.content.extract import extract
from dlp_gateway.detect import textnorm
from dlp_gateway.model import Envelope, InspectionReport
from dlp_gateway.store.trace import TraceStore
from dlp_gateway.trace import FoundDocument, TraceWriter, compute_digests, trace_document

LETTER = ("The delegation will arrive on Monday and meet the director of the economic division "
          "to discuss the draft memorandum on trade in semiconductors and the schedule of talks. ") * 4


def report_for(settings, text: str) -> InspectionReport:
    inspection = extract(docgen.make_message("Visit", text), settings.limits)
    return InspectionReport(inspection=inspection, findings=[], digests=compute_digests(inspection))


def recorded_messages(data_dir: Path) -> list:
    with TraceStore(data_dir) as store:
        found = FoundDocument(sha256s=(), fingerprints=textnorm.winnow(LETTER), marks=[])
        return trace_document(found, store)


def dropped() -> float:
    return metrics.TRACE_RECORDS.labels(result="dropped")._value.get()


def test_queued_deliveries_are_written_and_traceable(tmp_path):
    settings = load_settings(None, {"data_dir": str(tmp_path)})
    writer = TraceWriter(settings)
    report = report_for(settings, LETTER)
    envelopes = [Envelope("attache@mission.example", (f"r{i}@example.org",)) for i in range(30)]
    for envelope in envelopes:
        assert writer.submit(envelope, report, envelope.rcpt_tos)
    assert writer.wait_idle(timeout=30)
    writer.close()
    found = {r.message.gateway_id for r in recorded_messages(tmp_path)}
    assert found == {e.gateway_id for e in envelopes}


def test_close_writes_what_is_still_queued(tmp_path):
    settings = load_settings(None, {"data_dir": str(tmp_path)})
    writer = TraceWriter(settings)
    report = report_for(settings, LETTER)
    envelope = Envelope("attache@mission.example", ("desk@example.org",))
    writer.submit(envelope, report, envelope.rcpt_tos)
    writer.close()
    assert [r.message.gateway_id for r in recorded_messages(tmp_path)] == [envelope.gateway_id]


def test_a_full_backlog_drops_and_counts_the_record_instead_of_blocking(tmp_path):
    settings = load_settings(None, {"data_dir": str(tmp_path), "store": {"trace_queue_max": 100}})
    writer = TraceWriter(settings)
    report = report_for(settings, LETTER)
    # Stall the writer thread in its first batch: the backlog fills up behind it.
    release = threading.Event()
    original = TraceStore.record_many

    def stalled(store, records):
        release.wait(30)
        return original(store, records)

    TraceStore.record_many = stalled  # type: ignore[method-assign]
    try:
        before = dropped()
        results = [writer.submit(Envelope("a@mission.example", (f"r{i}@example.org",)), report, (f"r{i}@example.org",))
                   for i in range(130)]
        assert results.count(False) == 30
        assert dropped() - before == 30
    finally:
        release.set()
        TraceStore.record_many = original  # type: ignore[method-assign]
        writer.close()
    assert len(recorded_messages(tmp_path)) == 100


def test_a_delivery_without_recipients_is_not_recorded(tmp_path):
    settings = load_settings(None, {"data_dir": str(tmp_path)})
    writer = TraceWriter(settings)
    assert writer.submit(Envelope("a@mission.example", ()), report_for(settings, LETTER), ())
    writer.close()
    assert recorded_messages(tmp_path) == []
