"""The trace index: what left the gateway, when, from whom, to whom — as hashes only.

Per delivered message (and per release from quarantine) one row: time, envelope sender,
the recipients it went to, the Message-ID header, the gateway's id. Per body and
attachment one row: its location ("report.zip › a.pdf"), its SHA-256, and how many
fingerprints were kept. The fingerprints themselves go to an inverted index
(fingerprint → part), never the text.

Size: a quarter of a part's winnowing fingerprints are kept (those with the two low bits
zero: a deterministic sample, so a query samples its own fingerprints the same way), at
most `MAX_FINGERPRINTS_PER_PART` per part (the smallest ones, a bottom-k sketch; the
largest kept value is stored as the part's `cut`, so shares stay unbiased). A typical
mail body keeps a few dozen, a 10-page attachment a few hundred: about 14 bytes each in
the index.

Speed: postings live in one WITHOUT ROWID table per calendar month, clustered by
fingerprint, so a lookup is one B-tree probe per query fingerprint per month: 13 months
× a few hundred probes, however many messages are recorded. Expiry deletes old
messages, parts and watermark codes by time, and drops a month's postings table once
the whole month is past retention (see `expire`).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import numpy as np

from dlp_gateway.model import PartDigest
from dlp_gateway.store.db import ensure_schema, open_db

SAMPLE_MASK = 0x3  # keep fingerprints whose two lowest bits are zero (1 in 4)
MAX_FINGERPRINTS_PER_PART = 2048
# A fingerprint carried by more parts than this is boilerplate (disclaimers, signatures).
MAX_PARTS_PER_FINGERPRINT = 500
_U64_MAX = (1 << 64) - 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS trace_messages (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    gateway_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    recipients TEXT NOT NULL,
    via TEXT NOT NULL DEFAULT 'deliver'
);
CREATE INDEX IF NOT EXISTS trace_messages_at ON trace_messages(at);
CREATE INDEX IF NOT EXISTS trace_messages_gateway_id ON trace_messages(gateway_id);
CREATE TABLE IF NOT EXISTS trace_parts (
    id INTEGER PRIMARY KEY,
    message INTEGER NOT NULL,
    location TEXT NOT NULL,
    sha256 BLOB,
    kept INTEGER NOT NULL,
    cut INTEGER
);
CREATE INDEX IF NOT EXISTS trace_parts_sha256 ON trace_parts(sha256);
CREATE INDEX IF NOT EXISTS trace_parts_message ON trace_parts(message);
CREATE TABLE IF NOT EXISTS trace_marks (
    code TEXT PRIMARY KEY,
    gateway_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    location TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS trace_marks_at ON trace_marks(at);
"""

_POSTINGS_RE = re.compile(r"^trace_postings_(\d{6})$")


def postings_table(at: float) -> str:
    return "trace_postings_" + time.strftime("%Y%m", time.gmtime(at))


def _create_postings(conn: sqlite3.Connection, table: str) -> None:
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {table} (h INTEGER NOT NULL, part INTEGER NOT NULL, "
        "PRIMARY KEY (h, part)) WITHOUT ROWID"
    )


def sample(fingerprints: Iterable[int] | np.ndarray) -> tuple[np.ndarray, int]:
    """The fingerprints trace keeps of a part (sorted uint64) and the cut (max kept value)."""
    arr = np.unique(np.asarray(list(fingerprints) if not isinstance(fingerprints, np.ndarray)
                               else fingerprints, dtype=np.uint64))
    arr = arr[(arr & np.uint64(SAMPLE_MASK)) == 0]
    if len(arr) > MAX_FINGERPRINTS_PER_PART:
        arr = arr[:MAX_FINGERPRINTS_PER_PART]
        return arr, int(arr[-1])
    return arr, _U64_MAX


def sample_cut_signed(cut: int) -> int | None:
    """A sample's cut as stored: signed, or None when nothing was cut."""
    return None if cut == _U64_MAX else _signed(cut)


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= (1 << 63) else value


def _unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One delivery to record: envelope facts and the digests of what was read."""

    at: float
    gateway_id: str
    message_id: str
    sender: str
    recipients: tuple[str, ...]
    digests: tuple[PartDigest, ...]
    via: str = "deliver"


@dataclass(frozen=True, slots=True)
class TracedMessage:
    id: int
    at: float
    gateway_id: str
    message_id: str
    sender: str
    recipients: tuple[str, ...]
    via: str


@dataclass(frozen=True, slots=True)
class PartHit:
    """A recorded part that shares fingerprints (or its hash) with the query."""

    part_id: int
    message: int
    location: str
    exact: bool
    matched: int  # shared sampled fingerprints
    kept: int  # sampled fingerprints recorded for the part
    comparable: int  # query's sampled fingerprints at or below the part's cut


@dataclass(frozen=True, slots=True)
class MarkHit:
    code: str
    gateway_id: str
    recipient: str
    location: str
    at: float


class TraceStore:
    """Trace records in the shared store. Thread-safe: the relay records from a thread."""

    def __init__(self, data_dir: str | Path, *, readonly: bool = False) -> None:
        self.conn = open_db(data_dir, readonly=readonly)
        self._lock = threading.Lock()
        if not readonly:
            # A trace record is written after the delivery it describes; it does not need
            # the quarantine's fsync per commit. In WAL mode NORMAL syncs at checkpoints:
            # a power cut may lose the last moments of records, never the database.
            self.conn.execute("PRAGMA synchronous=NORMAL")
            ensure_schema(self.conn, SCHEMA)

    @classmethod
    def open_for_reading(cls, data_dir: str | Path) -> TraceStore | None:
        if not (Path(data_dir) / "store.sqlite").exists():
            return None
        store = cls(data_dir, readonly=True)
        if store.conn.execute("SELECT 1 FROM sqlite_master WHERE name='trace_messages'").fetchone() is None:
            store.close()
            return None
        return store

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> TraceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ recording

    def record(
        self,
        *,
        at: float,
        gateway_id: str,
        message_id: str,
        sender: str,
        recipients: Sequence[str],
        digests: Sequence[PartDigest],
        via: str = "deliver",
    ) -> int:
        """Record one delivered message; returns its trace row id.

        Idempotent per (gateway id, recipients): recording the same delivery twice (a
        hook installed twice, a retried release) keeps the first record."""
        record = DeliveryRecord(at, gateway_id, message_id, sender, tuple(recipients), tuple(digests), via)
        return self.record_many([record])[0]

    def record_many(self, records: Sequence[DeliveryRecord]) -> list[int]:
        """Record several deliveries in one transaction (the gateway's writer batches
        them: one commit per batch instead of one per message); returns their row ids.

        Parts and postings of the whole batch go in with one `executemany` each (part ids
        are assigned here, under the write lock the first message insert took): the
        per-row work stays in SQLite's C code, not in Python holding the GIL the relay's
        event loop needs."""
        ids: list[int] = []
        with self._lock, self.conn:
            parts: list[tuple[int, str, bytes | None, int, int | None]] = []
            postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
            pending: list[tuple[int, DeliveryRecord]] = []
            for record in records:
                message, new = self._insert_message(record)
                ids.append(message)
                if new:
                    pending.append((message, record))
            if not pending:
                return ids
            next_part = int(self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM trace_parts").fetchone()[0]) + 1
            for message, record in pending:
                table = postings_table(record.at)
                for digest in record.digests:  # sampled in the worker (trace.compute_digests)
                    part = next_part
                    next_part += 1
                    parts.append((part, message, digest.location,
                                  bytes.fromhex(digest.sha256) if digest.sha256 else None,
                                  len(digest.kept), digest.cut))
                    postings[table].extend(zip(digest.kept, repeat(part)))
            self.conn.executemany(
                "INSERT INTO trace_parts (id, message, location, sha256, kept, cut) VALUES (?,?,?,?,?,?)", parts
            )
            for table, rows in postings.items():
                _create_postings(self.conn, table)
                self.conn.executemany(f"INSERT OR IGNORE INTO {table} (h, part) VALUES (?, ?)", rows)
        return ids

    def _insert_message(self, record: DeliveryRecord) -> tuple[int, bool]:
        """The message row (new, or the one already recorded for this delivery)."""
        recipients_json = json.dumps(list(record.recipients))
        existing = self.conn.execute(
            "SELECT id FROM trace_messages WHERE gateway_id = ? AND recipients = ? AND via = ?",
            (record.gateway_id, recipients_json, record.via),
        ).fetchone()
        if existing is not None:
            return int(existing[0]), False
        cur = self.conn.execute(
            "INSERT INTO trace_messages (at, gateway_id, message_id, sender, recipients, via) "
            "VALUES (?,?,?,?,?,?)",
            (record.at, record.gateway_id, record.message_id, record.sender, recipients_json, record.via),
        )
        return int(cur.lastrowid or 0), True

    def record_marks(self, marks: Iterable[tuple[str, str, str, str]], at: float | None = None) -> None:
        """Record watermark codes: (code, gateway_id, recipient, location)."""
        at = time.time() if at is None else at
        with self._lock, self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO trace_marks (code, gateway_id, recipient, location, at) VALUES (?,?,?,?,?)",
                [(c, g, r, loc, at) for c, g, r, loc in marks],
            )

    # ------------------------------------------------------------------ querying

    def postings_tables(self) -> list[str]:
        rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'trace_postings_%'")
        return sorted(r[0] for r in rows if _POSTINGS_RE.match(r[0]))

    def parts_by_sha256(self, sha256s: Iterable[str]) -> list[PartHit]:
        hits = []
        for sha in dict.fromkeys(sha256s):
            for row in self.conn.execute(
                "SELECT id, message, location, kept FROM trace_parts WHERE sha256 = ?", (bytes.fromhex(sha),)
            ):
                hits.append(PartHit(row[0], row[1], row[2], True, row[3], row[3], row[3]))
        return hits

    def parts_by_fingerprints(self, query: np.ndarray, min_matched: int) -> list[PartHit]:
        """Recorded parts sharing at least `min_matched` sampled fingerprints with `query`.

        `query` is the found document's full winnowing set; it is sampled here as the
        recorded parts were."""
        sampled = np.unique(np.asarray(query, dtype=np.uint64))
        sampled = sampled[(sampled & np.uint64(SAMPLE_MASK)) == 0]
        if not len(sampled):
            return []
        counts: dict[int, int] = defaultdict(int)
        values = sampled.view(np.int64).tolist()
        for table in self.postings_tables():
            sql = f"SELECT part FROM {table} WHERE h = ? LIMIT {MAX_PARTS_PER_FINGERPRINT + 1}"
            for h in values:
                parts = self.conn.execute(sql, (h,)).fetchall()
                if len(parts) > MAX_PARTS_PER_FINGERPRINT:
                    continue
                for (part,) in parts:
                    counts[part] += 1
        candidates = [p for p, c in counts.items() if c >= min_matched]
        hits = []
        for chunk_start in range(0, len(candidates), 500):
            chunk = candidates[chunk_start : chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT id, message, location, kept, cut FROM trace_parts WHERE id IN ({marks})", chunk
            ):
                cut = _U64_MAX if row[4] is None else _unsigned(row[4])
                comparable = int(np.count_nonzero(sampled <= np.uint64(cut)))
                hits.append(PartHit(row[0], row[1], row[2], False, counts[row[0]], row[3], comparable))
        return hits

    def marks(self, codes: Iterable[str]) -> list[MarkHit]:
        hits = []
        for code in dict.fromkeys(codes):
            row = self.conn.execute(
                "SELECT code, gateway_id, recipient, location, at FROM trace_marks WHERE code = ?", (code,)
            ).fetchone()
            if row is not None:
                hits.append(MarkHit(*tuple(row)))
        return hits

    def messages(self, ids: Iterable[int]) -> dict[int, TracedMessage]:
        out = {}
        for message_id in dict.fromkeys(ids):
            row = self.conn.execute(
                "SELECT id, at, gateway_id, message_id, sender, recipients, via FROM trace_messages WHERE id = ?",
                (message_id,),
            ).fetchone()
            if row is not None:
                out[row[0]] = TracedMessage(row[0], row[1], row[2], row[3], row[4], tuple(json.loads(row[5])), row[6])
        return out

    def messages_by_gateway_id(self, gateway_id: str) -> list[TracedMessage]:
        rows = self.conn.execute("SELECT id FROM trace_messages WHERE gateway_id = ? ORDER BY at", (gateway_id,))
        ids = [r[0] for r in rows]
        found = self.messages(ids)
        return [found[i] for i in ids if i in found]

    # ------------------------------------------------------------------ expiry

    def expire(self, days: int, now: float | None = None) -> int:
        """Delete records older than `days`; returns the number of messages deleted.

        Cheap enough to run while the relay records (index range deletes and DROP TABLE):
        the fingerprints of expired parts in a month that is only partly expired stay in
        that month's table, attributable to nothing (their part and message rows are
        gone, and a query only reports parts that exist), until the month is dropped.
        """
        now = time.time() if now is None else now
        cutoff = now - days * 86400
        cutoff_month = time.strftime("%Y%m", time.gmtime(cutoff))
        with self._lock, self.conn:
            self.conn.execute(
                "DELETE FROM trace_parts WHERE message IN (SELECT id FROM trace_messages WHERE at < ?)",
                (cutoff,),
            )
            deleted = self.conn.execute("DELETE FROM trace_messages WHERE at < ?", (cutoff,)).rowcount
            self.conn.execute("DELETE FROM trace_marks WHERE at < ?", (cutoff,))
            for table in self.postings_tables():
                month = _POSTINGS_RE.match(table).group(1)  # type: ignore[union-attr]
                if month < cutoff_month:
                    self.conn.execute(f"DROP TABLE {table}")
        return deleted
