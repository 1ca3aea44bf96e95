"""The quarantine: held messages as files, indexed in the shared SQLite database.

A message is durable before the gateway answers 250: its bytes are written to
`<data-dir>/quarantine/<id>.eml` (write to a temporary name, fsync, rename, fsync the
directory), and then its index row is committed with `synchronous=FULL`. A crash between
the two leaves an orphan file and no 250, so the client retries; nothing that got 250
can be missing. The file keeps the message exactly as received (no trace headers), so
`release` sends the original.

The index row keeps what an officer needs without opening the content: envelope,
rule, reason, level and the findings summary. Released messages stay listed (status
`released`, with time and operator) until expiry; `delete` removes file and row.

A release is a claim first: `claim_release` moves the row from `held` to `releasing` in
one write transaction (`BEGIN IMMEDIATE`, then `UPDATE ... WHERE status = 'held'`), and
only the caller whose UPDATE changed the row may deliver. Two officers releasing the same
message at once therefore cause exactly one delivery; the other is told who has it.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlp_gateway.model import Envelope, InspectionReport
from dlp_gateway.smtp.maildir import fsync_dir, write_durably
from dlp_gateway.store.db import ensure_schema, open_db

SCHEMA = """
CREATE TABLE IF NOT EXISTS quarantine (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    gateway_id TEXT NOT NULL,
    message_id TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '',
    mail_from TEXT NOT NULL,
    recipients TEXT NOT NULL,      -- JSON list: the recipients held
    mail_options TEXT NOT NULL,    -- JSON list
    rcpt_options TEXT NOT NULL,    -- JSON list of lists, same order as recipients
    peer TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL,
    rule TEXT NOT NULL,
    reason TEXT NOT NULL,
    level TEXT,
    findings TEXT NOT NULL,        -- JSON list of Finding.summary()
    problems TEXT NOT NULL,        -- JSON list
    file TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'held',   -- held | releasing | released
    released_at REAL,
    released_by TEXT,
    release_result TEXT
);
CREATE INDEX IF NOT EXISTS quarantine_created ON quarantine(created);
CREATE INDEX IF NOT EXISTS quarantine_status ON quarantine(status);
"""

QUARANTINE_DIR = "quarantine"
# Still in the quarantine (counted as held): not yet delivered by a release.
IN_QUARANTINE = "status IN ('held', 'releasing')"


class QuarantineError(Exception):
    """A quarantine operation cannot be done; the message says why."""


@dataclass(slots=True)
class QuarantineRecord:
    id: str
    created: float
    gateway_id: str
    message_id: str
    subject: str
    mail_from: str
    recipients: list[str]
    mail_options: list[str]
    rcpt_options: list[list[str]]
    peer: str
    size: int
    rule: str
    reason: str
    level: str | None
    findings: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    file: str
    status: str
    released_at: float | None
    released_by: str | None
    release_result: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> QuarantineRecord:
        data = dict(row)
        for key in ("recipients", "mail_options", "rcpt_options", "findings", "problems"):
            data[key] = json.loads(data[key])
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def new_quarantine_id() -> str:
    return f"q{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:10]}"


class QuarantineStore:
    """Files under `<data-dir>/quarantine/` plus the `quarantine` table in store.sqlite."""

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        self.dir = self.data_dir / QUARANTINE_DIR
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o750)
        self.conn = open_db(self.data_dir)
        ensure_schema(self.conn, SCHEMA)

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------ writing

    def put(
        self,
        envelope: Envelope,
        raw: bytes,
        recipients: list[str] | tuple[str, ...],
        rule: str,
        reason: str,
        report: InspectionReport | None,
    ) -> QuarantineRecord:
        """Hold the message durably for `recipients`. Returns only once it is on disk."""
        qid = new_quarantine_id()
        path = self.dir / f"{qid}.eml"
        write_durably(path, raw)
        options = {r: (envelope.rcpt_options[i] if i < len(envelope.rcpt_options) else ()) for i, r in enumerate(envelope.rcpt_tos)}
        findings = [f.summary() for f in report.findings] if report else []
        problems = (
            [{"kind": p.kind.value, "location": p.location, "detail": p.detail, "limit": p.limit} for p in report.problems]
            if report
            else []
        )
        level = report.level.label if report and report.level else None
        row = {
            "id": qid,
            "created": time.time(),
            "gateway_id": envelope.gateway_id,
            "message_id": report.inspection.message_id if report else "",
            "subject": report.inspection.subject if report else "",
            "mail_from": envelope.mail_from,
            "recipients": json.dumps(list(recipients)),
            "mail_options": json.dumps(list(envelope.mail_options)),
            "rcpt_options": json.dumps([list(options.get(r, ())) for r in recipients]),
            "peer": envelope.peer,
            "size": len(raw),
            "rule": rule,
            "reason": reason,
            "level": level,
            "findings": json.dumps(findings, ensure_ascii=False),
            "problems": json.dumps(problems, ensure_ascii=False),
            "file": path.name,
        }
        try:
            with self.conn:
                self.conn.execute(
                    f"INSERT INTO quarantine ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    tuple(row.values()),
                )
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        record = self.get(qid)
        assert record is not None
        return record

    # ------------------------------------------------------------ reading

    def get(self, qid: str) -> QuarantineRecord | None:
        row = self.conn.execute("SELECT * FROM quarantine WHERE id = ?", (qid,)).fetchone()
        return QuarantineRecord.from_row(row) if row else None

    def require(self, qid: str) -> QuarantineRecord:
        record = self.get(qid)
        if record is None:
            raise QuarantineError(f"no quarantined message with id {qid!r}; `dlp-gateway quarantine list` shows the ids")
        return record

    def list(self, status: str | None = "held") -> list[QuarantineRecord]:
        if status is None:
            rows = self.conn.execute("SELECT * FROM quarantine ORDER BY created").fetchall()
        else:
            rows = self.conn.execute("SELECT * FROM quarantine WHERE status = ? ORDER BY created", (status,)).fetchall()
        return [QuarantineRecord.from_row(r) for r in rows]

    def content(self, qid: str) -> bytes:
        record = self.require(qid)
        try:
            return (self.dir / record.file).read_bytes()
        except OSError as exc:
            raise QuarantineError(f"quarantined message {qid}: cannot read {self.dir / record.file}: {exc.strerror}") from exc

    def held_count(self) -> int:
        return int(self.conn.execute(f"SELECT COUNT(*) FROM quarantine WHERE {IN_QUARANTINE}").fetchone()[0])

    # ------------------------------------------------------------ changing

    def claim_release(self, qid: str, operator: str, *, retry_interrupted: bool = False) -> bool:
        """Take the message for release (held -> releasing); False when another has it.

        `retry_interrupted` also takes a message left in `releasing` by a release whose
        process died before it could record the outcome (the officer decides that).
        """
        states = ("held", "releasing") if retry_interrupted else ("held",)
        marks = ", ".join("?" * len(states))
        self.conn.execute("BEGIN IMMEDIATE")  # the write lock first: no stale snapshot
        try:
            cursor = self.conn.execute(
                "UPDATE quarantine SET status = 'releasing', released_at = ?, released_by = ?, release_result = NULL "
                f"WHERE id = ? AND status IN ({marks})",
                (time.time(), operator, qid, *states),
            )
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise
        return cursor.rowcount == 1

    def unclaim_release(self, qid: str, result: str) -> None:
        """The release did not deliver: the message is held again, with what happened."""
        with self.conn:
            self.conn.execute(
                "UPDATE quarantine SET status = 'held', released_at = NULL, released_by = NULL, release_result = ? "
                "WHERE id = ? AND status = 'releasing'",
                (result, qid),
            )

    def mark_released(self, qid: str, operator: str, result: str) -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE quarantine SET status = 'released', released_at = ?, released_by = ?, release_result = ? WHERE id = ?",
                (time.time(), operator, result, qid),
            )

    def delete(self, qid: str) -> None:
        record = self.require(qid)
        if record.status == "releasing":
            raise QuarantineError(f"{qid} is being released by {record.released_by}; delete it once that is done")
        with self.conn:
            self.conn.execute("DELETE FROM quarantine WHERE id = ?", (qid,))
        (self.dir / record.file).unlink(missing_ok=True)
        fsync_dir(self.dir)

    def expire(self, days: int, now: float | None = None) -> list[str]:
        """Delete messages (held or released) older than `days`, and orphan files too.

        A message being released is left alone: its delivery reads the file, and the
        officer who took it must be able to finish or retry it."""
        cutoff = (now if now is not None else time.time()) - days * 86400
        rows = self.conn.execute(
            "SELECT id, file FROM quarantine WHERE created < ? AND status != 'releasing'", (cutoff,)).fetchall()
        with self.conn:
            self.conn.executemany("DELETE FROM quarantine WHERE id = ?", [(r["id"],) for r in rows])
        for row in rows:
            (self.dir / row["file"]).unlink(missing_ok=True)
        known = {r[0] for r in self.conn.execute("SELECT file FROM quarantine").fetchall()}
        for path in self.dir.iterdir():
            # Orphans: a crash after the file was written but before its row (no 250 was given).
            if path.name not in known and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        if rows:
            fsync_dir(self.dir)
        return [r["id"] for r in rows]


def count_held(data_dir: str | Path) -> int:
    """Held messages, read through a fresh connection (for the metrics scrape thread)."""
    path = Path(data_dir)
    if not (path / "store.sqlite").exists():
        return 0
    conn = open_db(path, readonly=True)
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM quarantine WHERE {IN_QUARANTINE}").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


__all__ = ["QuarantineStore", "QuarantineRecord", "QuarantineError", "count_held"]
