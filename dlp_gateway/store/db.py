"""The embedded SQLite database every store module shares (`<data-dir>/store.sqlite`).

Each store module (quarantine, fingerprints, trace) owns its own tables and creates them
with `CREATE TABLE IF NOT EXISTS` through `ensure_schema`. WAL mode lets the server and
the command-line tools use the database at once; `synchronous=FULL` makes a committed
row survive a crash, which the never-lose rule needs for the quarantine index.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

DB_NAME = "store.sqlite"


def db_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / DB_NAME


def open_db(data_dir: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open (creating the data dir if needed) the store database with safe settings."""
    path = db_path(data_dir)
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30, check_same_thread=False)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.row_factory = sqlite3.Row
    return conn


def ensure_schema(conn: sqlite3.Connection, statements: str) -> None:
    """Run a module's CREATE ... IF NOT EXISTS statements."""
    with conn:
        conn.executescript(statements)
