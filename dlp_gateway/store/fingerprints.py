"""The register of sensitive documents, in the shared store database.

One row per registered document: its label, the file's SHA-256, the hash of its
normalised text, an optional classification level, and its winnowing fingerprints as a
packed blob of little-endian uint64s (8 bytes per fingerprint; a 10-page document costs
a few KB). A generation counter changes on every add or remove, so workers can tell
cheaply that their in-memory index is stale, and the sorted index built from the blobs
is cached next to the database keyed by that generation (see detect/fingerprints.py).
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dlp_gateway.store.db import ensure_schema, open_db

SCHEMA = """
CREATE TABLE IF NOT EXISTS fingerprint_documents (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    filename TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    text_hash TEXT,
    size INTEGER NOT NULL,
    added_at REAL NOT NULL,
    level TEXT,
    winnow_version INTEGER NOT NULL,
    hash_count INTEGER NOT NULL,
    hashes BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS fingerprint_documents_sha256 ON fingerprint_documents(sha256);
CREATE INDEX IF NOT EXISTS fingerprint_documents_text_hash ON fingerprint_documents(text_hash);
CREATE TABLE IF NOT EXISTS fingerprint_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT OR IGNORE INTO fingerprint_generation (id, generation) VALUES (1, 0);
"""


@dataclass(frozen=True, slots=True)
class RegisteredDocument:
    id: str
    label: str
    filename: str
    sha256: str
    text_hash: str | None
    size: int
    added_at: float
    level: str | None
    winnow_version: int
    hash_count: int

    def summary(self) -> dict[str, object]:
        return {
            "id": self.id,
            "label": self.label,
            "filename": self.filename,
            "sha256": self.sha256,
            "text_hash": self.text_hash,
            "size": self.size,
            "added_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.added_at)),
            "level": self.level,
            "fingerprints": self.hash_count,
        }


@dataclass(frozen=True, slots=True)
class NewDocument:
    label: str
    filename: str
    sha256: str
    text_hash: str | None
    size: int
    level: str | None
    winnow_version: int
    hashes: bytes  # packed uint64s, see textnorm.pack
    hash_count: int


_COLUMNS = "id, label, filename, sha256, text_hash, size, added_at, level, winnow_version, hash_count"


def new_document_id() -> str:
    return "fp-" + secrets.token_hex(5)


class FingerprintStore:
    """Register access. Cheap to create; each instance holds one connection."""

    def __init__(self, data_dir: str | Path, *, readonly: bool = False) -> None:
        self.data_dir = Path(data_dir)
        self.conn: sqlite3.Connection = open_db(self.data_dir, readonly=readonly)
        if not readonly:
            ensure_schema(self.conn, SCHEMA)

    @classmethod
    def open_for_reading(cls, data_dir: str | Path) -> FingerprintStore | None:
        """The store if the database and the register exist, else None (nothing registered)."""
        path = Path(data_dir) / "store.sqlite"
        if not path.exists():
            return None
        store = cls(data_dir, readonly=True)
        row = store.conn.execute(
            "SELECT name FROM sqlite_master WHERE name = 'fingerprint_documents'"
        ).fetchone()
        if row is None:
            store.close()
            return None
        return store

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> FingerprintStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, doc: NewDocument) -> RegisteredDocument:
        doc_id = new_document_id()
        now = time.time()
        with self.conn:
            self.conn.execute(
                f"INSERT INTO fingerprint_documents ({_COLUMNS}, hashes) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (doc_id, doc.label, doc.filename, doc.sha256, doc.text_hash, doc.size, now,
                 doc.level, doc.winnow_version, doc.hash_count, doc.hashes),
            )
            self._bump_generation()
        return RegisteredDocument(doc_id, doc.label, doc.filename, doc.sha256, doc.text_hash,
                                  doc.size, now, doc.level, doc.winnow_version, doc.hash_count)

    def remove(self, doc_id: str) -> bool:
        with self.conn:
            cur = self.conn.execute("DELETE FROM fingerprint_documents WHERE id = ?", (doc_id,))
            if cur.rowcount:
                self._bump_generation()
        return cur.rowcount > 0

    def find_by_sha256(self, sha256: str) -> list[RegisteredDocument]:
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM fingerprint_documents WHERE sha256 = ?", (sha256,)
        ).fetchall()
        return [RegisteredDocument(*tuple(row)) for row in rows]

    def list(self) -> list[RegisteredDocument]:
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM fingerprint_documents ORDER BY added_at, id"
        ).fetchall()
        return [RegisteredDocument(*tuple(row)) for row in rows]

    def list_in_index_order(self) -> list[RegisteredDocument]:
        """Every document without its fingerprints, in the order of `iter_hashes`."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM fingerprint_documents ORDER BY rowid"
        ).fetchall()
        return [RegisteredDocument(*tuple(row)) for row in rows]

    def generation(self) -> int:
        row = self.conn.execute("SELECT generation FROM fingerprint_generation WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    def iter_hashes(self) -> Iterator[tuple[RegisteredDocument, bytes]]:
        """Every document with its packed fingerprints, in a stable order (by rowid)."""
        cursor = self.conn.execute(
            f"SELECT {_COLUMNS}, hashes FROM fingerprint_documents ORDER BY rowid"
        )
        for row in cursor:
            values = tuple(row)
            yield RegisteredDocument(*values[:-1]), values[-1]

    def _bump_generation(self) -> None:
        self.conn.execute("UPDATE fingerprint_generation SET generation = generation + 1 WHERE id = 1")

    def add_many(self, docs: list[NewDocument]) -> None:
        """Bulk registration in one transaction (benchmarks, imports)."""
        now = time.time()
        with self.conn:
            self.conn.executemany(
                f"INSERT INTO fingerprint_documents ({_COLUMNS}, hashes) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [(new_document_id(), d.label, d.filename, d.sha256, d.text_hash, d.size, now,
                  d.level, d.winnow_version, d.hash_count, d.hashes) for d in docs],
            )
            self._bump_generation()
