"""Trace a found document back to the messages that carried it.

Recording: the worker computes a `PartDigest` for every body and attachment
(`compute_digests`, called by pipeline.inspect_message while the text is still there);
when the gateway has delivered a message its `TraceWriter` stores the envelope facts
and the digests (hashes only) in the trace store, in batches from a thread of its own;
a release from quarantine is recorded by `record_delivery`. Watermark codes are recorded by the watermark action.

Tracing (`trace_document`): the found file is read exactly like an attachment (OCR
included), then matched three ways: a watermark code in the file names message and
recipient; the SHA-256 of the file or of any file inside it finds the very attachment;
the winnowing fingerprints of its text find messages that carried the document or
parts of it, re-laid out, scanned or pasted. Results are per message, best first.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlp_gateway import metrics
from dlp_gateway.detect import textnorm
from dlp_gateway.detect.fingerprints import PartTexts
from dlp_gateway.model import Envelope, Inspection, InspectionReport, PartDigest
from dlp_gateway.store.trace import (
    DeliveryRecord,
    PartHit,
    TracedMessage,
    TraceStore,
    sample,
    sample_cut_signed,
)

if TYPE_CHECKING:
    from dlp_gateway.actions.base import MessageContext
    from dlp_gateway.config import Settings
    from dlp_gateway.model import Outcome

log = logging.getLogger(__name__)

# A recorded part is listed when it shares at least this many sampled fingerprints with
# the found document (about 4x as many winnowing fingerprints: a paragraph or two) and
# at least MIN_SHARE of the found document or of the part.
MIN_MATCHED = 3
MIN_SHARE = 0.3
EXPIRY_INTERVAL_SECONDS = 3600.0


def compute_digests(inspection: Inspection, shared: PartTexts | None = None) -> list[PartDigest]:
    """SHA-256 and the trace sample of the winnowing fingerprints of every part; the text
    itself is not kept.
    `shared`: the message's PartTexts, which the fingerprint detector, run just before,
    has fingerprinted (pipeline.inspect_message); without it the texts are read here."""
    if shared is None:
        shared = PartTexts.of(inspection)
    texts = shared.texts

    def digest(location: str, sha256: str, text: str) -> PartDigest:
        if not text.strip():
            return PartDigest(location, sha256)
        kept, cut = sample(shared.tokens_and_fingerprints(location)[1])
        return PartDigest(location, sha256, tuple(kept.view(np.int64).tolist()), sample_cut_signed(cut))

    digests: list[PartDigest] = []
    seen: set[str] = set()
    for part in inspection.parts:
        if part.location in seen:
            continue
        seen.add(part.location)
        digests.append(digest(part.location, part.sha256, texts.get(part.location, "")))
    for location, text in texts.items():
        if location in seen or location == "subject" or not text.strip():
            continue
        digests.append(digest(location, "", text))
    return digests


def delivery_record(envelope: Envelope, report: InspectionReport, recipients: Sequence[str],
                    *, via: str = "deliver", at: float | None = None) -> DeliveryRecord:
    """What trace keeps of one delivery: envelope facts and the digests, no content."""
    return DeliveryRecord(
        at=time.time() if at is None else at,
        gateway_id=envelope.gateway_id,
        message_id=report.inspection.message_id,
        sender=envelope.mail_from,
        recipients=tuple(recipients),
        digests=tuple(report.digests),
        via=via,
    )


class TraceRecorder:
    """Records delivered messages; one per gateway process (holds one connection)."""

    def __init__(self, data_dir: str | Path) -> None:
        self.store = TraceStore(data_dir)
        self._expired_at: float | None = None

    def record(self, envelope: Envelope, report: InspectionReport, recipients: Sequence[str],
               *, via: str = "deliver", at: float | None = None) -> int:
        return self.store.record_many([delivery_record(envelope, report, recipients, via=via, at=at)])[0]

    def expire(self, days: int) -> int:
        self._expired_at = time.monotonic()
        return self.store.expire(days)

    def expire_now_and_then(self, days: int) -> None:
        """Expire old records at most once per EXPIRY_INTERVAL_SECONDS (and at the first call)."""
        if self._expired_at is None or time.monotonic() - self._expired_at > EXPIRY_INTERVAL_SECONDS:
            deleted = self.expire(days)
            if deleted:
                log.info("trace: expired %d message records older than %d days", deleted, days)

    def close(self) -> None:
        self.store.close()


_RECORDERS: dict[Path, TraceRecorder] = {}


def recorder_for(data_dir: str | Path) -> TraceRecorder:
    """The process's recorder for a data dir (created on first use)."""
    key = Path(data_dir).resolve()
    recorder = _RECORDERS.get(key)
    if recorder is None:
        recorder = _RECORDERS[key] = TraceRecorder(key)
    return recorder


class TraceWriter:
    """Writes the gateway's delivery records in one background thread, many per transaction.

    Why not a thread per record (`asyncio.to_thread`): that cost the event loop about
    0.8 ms per message — a task, a future, two thread wake-ups, the GIL handed back and
    forth, one commit per message — more than relaying the message. Here the hook only
    puts the record on a queue (microseconds, no wake-up of the loop); the thread sleeps
    GATHER_SECONDS after the first record, then writes what has queued up (at most
    MAX_BATCH records) in one transaction, so a record is searchable a fraction of a
    second after its delivery. The queue is bounded (`store.trace_queue_max`): a stalled
    disk costs trace records (logged, counted), never mail and never unbounded memory.
    """

    MAX_BATCH = 500
    GATHER_SECONDS = 0.2

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.max_queued = settings.store.trace_queue_max
        self._queue: queue.SimpleQueue[DeliveryRecord | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0  # records queued or being written

    def submit(self, envelope: Envelope, report: InspectionReport, recipients: Sequence[str],
               *, via: str = "deliver") -> bool:
        """Queue a delivery record; False (logged and counted) when the backlog is full."""
        if not recipients:
            return True
        with self._lock:
            if self._pending >= self.max_queued:
                metrics.TRACE_RECORDS.labels(result="dropped").inc()
                log.error("%s: trace writer backlog full (%d records); this delivery is not recorded",
                          envelope.gateway_id, self._pending)
                return False
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="trace-writer", daemon=True)
                self._thread.start()
        self._queue.put(delivery_record(envelope, report, recipients, via=via))
        return True

    def _run(self) -> None:
        recorder: TraceRecorder | None = None
        while True:
            first = self._queue.get()  # idle: wait for the next delivery
            batch = [first] if first is not None else []
            stop = first is None
            if not stop and self._queue.empty():
                # Let a batch gather while asleep: a put() that finds no thread waiting
                # costs the event loop no wake-up of this one.
                time.sleep(self.GATHER_SECONDS)
            while not stop and len(batch) < self.MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                else:
                    batch.append(item)
            if batch:
                try:
                    if recorder is None:
                        recorder = TraceRecorder(self.settings.data_path)
                    recorder.store.record_many(batch)
                    metrics.TRACE_RECORDS.labels(result="written").inc(len(batch))
                    recorder.expire_now_and_then(self.settings.store.trace_days)
                except Exception:
                    metrics.TRACE_RECORDS.labels(result="error").inc(len(batch))
                    log.exception("trace: %d delivery record(s) not written", len(batch))
                with self._lock:
                    self._pending -= len(batch)
                    self._idle.notify_all()
            if stop:
                if recorder is not None:
                    recorder.close()
                return

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every queued record is written (for shutdown and tests)."""
        with self._lock:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)
            if thread.is_alive():
                log.error("trace: the writer did not finish within %gs; %d record(s) may be lost",
                          timeout, self._pending)

    def on_delivered(self, ctx: MessageContext, recipients: tuple[str, ...], outcome: Outcome) -> None:
        """The gateway's on_delivered hook."""
        self.submit(ctx.envelope, ctx.report, recipients)


def record_delivery(settings: Settings, envelope: Envelope, report: InspectionReport,
                    recipients: Sequence[str], *, via: str = "deliver") -> None:
    """Record that `recipients` received the message. Never raises: trace is a record,
    a failure to write it must not fail a delivery that has already happened."""
    if not recipients:
        return
    try:
        recorder = recorder_for(settings.data_path)
        recorder.record(envelope, report, recipients, via=via)
        recorder.expire_now_and_then(settings.store.trace_days)
    except Exception:
        log.exception("%s: trace record not written", envelope.gateway_id)


def record_raw_delivery(settings: Settings, raw: bytes, envelope: Envelope, recipients: Sequence[str],
                        *, via: str = "release") -> None:
    """Record a delivery of which only the bytes are at hand (a quarantine release):
    inspect the message again to get its digests."""
    from dlp_gateway.content.extract import extract

    try:
        inspection = extract(raw, settings.limits)
        report = InspectionReport(inspection=inspection, findings=[], digests=compute_digests(inspection))
    except Exception:
        log.exception("%s: trace record of release not written", envelope.gateway_id)
        return
    record_delivery(settings, envelope, report, recipients, via=via)


# ---------------------------------------------------------------------------- tracing


@dataclass(slots=True)
class PartMatch:
    location: str
    how: str  # watermark | file | text
    share_of_document: float  # how much of the found document is in this part
    share_of_part: float  # how much of this part the found document makes up
    recipient: str | None = None  # for a watermark: whose copy it was


@dataclass(slots=True)
class TraceResult:
    message: TracedMessage
    parts: list[PartMatch] = field(default_factory=list)

    @property
    def score(self) -> tuple[int, int, float]:
        best_how = max(({"watermark": 3, "file": 2, "text": 1}[p.how] for p in self.parts), default=0)
        best_share = max((p.share_of_document for p in self.parts), default=0.0)
        return best_how, int(best_share * 1000), self.message.at

    @property
    def recipients_named_by_watermark(self) -> list[str]:
        return list(dict.fromkeys(p.recipient for p in self.parts if p.recipient))

    def summary(self) -> dict[str, Any]:
        msg = self.message
        return {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(msg.at)),
            "sender": msg.sender,
            "recipients": list(msg.recipients),
            "message_id": msg.message_id,
            "gateway_id": msg.gateway_id,
            "via": msg.via,
            "leaked_by": self.recipients_named_by_watermark or None,
            "parts": [
                {"location": p.location, "match": p.how,
                 "share_of_document": round(p.share_of_document, 3),
                 "share_of_part": round(p.share_of_part, 3),
                 **({"recipient": p.recipient} if p.recipient else {})}
                for p in self.parts
            ],
        }


@dataclass(slots=True)
class FoundDocument:
    """What trace needs of the found file: hashes, fingerprints, watermark codes."""

    sha256s: tuple[str, ...]
    fingerprints: np.ndarray
    marks: list[str]


def read_found_document(data: bytes, filename: str, settings: Settings) -> FoundDocument:
    """Read the found file like an attachment (OCR included)."""
    from dlp_gateway.actions.watermark import find_marks, read_marks
    from dlp_gateway.commands.fingerprint import read_document

    doc = read_document(data, filename, settings.limits)
    marks = list(dict.fromkeys([*read_marks(data), *find_marks("\n".join(s.text for s in doc.inspection.segments))]))
    return FoundDocument(doc.part_sha256s, textnorm.winnow(doc.text), marks)


def trace_document(found: FoundDocument, store: TraceStore) -> list[TraceResult]:
    """The recorded messages that carried the found document or parts of it, best first."""
    results: dict[int, TraceResult] = {}
    message_parts: list[tuple[int, PartMatch]] = []

    for mark in store.marks(found.marks):
        for msg in store.messages_by_gateway_id(mark.gateway_id):
            message_parts.append((msg.id, PartMatch(mark.location, "watermark", 1.0, 1.0, mark.recipient)))

    hits: list[PartHit] = store.parts_by_sha256(found.sha256s)
    exact_ids = {h.part_id for h in hits}
    hits += [h for h in store.parts_by_fingerprints(found.fingerprints, MIN_MATCHED) if h.part_id not in exact_ids]
    for hit in hits:
        if hit.exact:
            message_parts.append((hit.message, PartMatch(hit.location, "file", 1.0, 1.0)))
            continue
        share_doc = min(1.0, hit.matched / max(hit.comparable, 1))
        share_part = min(1.0, hit.matched / max(hit.kept, 1))
        if max(share_doc, share_part) >= MIN_SHARE:
            message_parts.append((hit.message, PartMatch(hit.location, "text", share_doc, share_part)))

    messages = store.messages({m for m, _ in message_parts})
    by_message: dict[int, list[PartMatch]] = defaultdict(list)
    for message, part in message_parts:
        by_message[message].append(part)
    for message, parts in by_message.items():
        if message not in messages:
            continue
        # One entry per location: the strongest way it matched.
        best: dict[tuple[str, str | None], PartMatch] = {}
        order = {"watermark": 3, "file": 2, "text": 1}
        for part in parts:
            key = (part.location, part.recipient)
            if key not in best or (order[part.how], part.share_of_document) > (order[best[key].how], best[key].share_of_document):
                best[key] = part
        results[message] = TraceResult(messages[message], sorted(best.values(), key=lambda p: (-order[p.how], -p.share_of_document)))
    return sorted(_merge_deliveries(list(results.values())), key=lambda r: r.score, reverse=True)


def _merge_deliveries(results: list[TraceResult]) -> list[TraceResult]:
    """One result per message: a message delivered in several groups (split by policy,
    one copy per recipient for watermarks, a later release) has one record per group."""
    merged: dict[str, TraceResult] = {}
    for result in sorted(results, key=lambda r: r.message.at):
        msg = result.message
        first = merged.get(msg.gateway_id)
        if first is None:
            merged[msg.gateway_id] = result
            continue
        recipients = tuple(dict.fromkeys([*first.message.recipients, *msg.recipients]))
        via = first.message.via if first.message.via == msg.via else f"{first.message.via}+{msg.via}"
        parts = {(p.location, p.how, p.recipient): p for p in [*first.parts, *result.parts]}
        order = {"watermark": 3, "file": 2, "text": 1}
        merged[msg.gateway_id] = TraceResult(
            TracedMessage(first.message.id, first.message.at, msg.gateway_id, first.message.message_id,
                          first.message.sender, recipients, via),
            sorted(parts.values(), key=lambda p: (-order[p.how], -p.share_of_document)),
        )
    return list(merged.values())


def trace_file(path: str | Path, settings: Settings) -> list[TraceResult]:
    """Read a found file and trace it in the store of `settings.data_dir`."""
    data = Path(path).read_bytes()
    found = read_found_document(data, Path(path).name, settings)
    store = TraceStore.open_for_reading(settings.data_path)
    if store is None:
        return []
    with store:
        return trace_document(found, store)
