"""Persistence behind one interface; SQLite in the data dir is the embedded default.

`db.py` opens the shared database; each store module (quarantine, fingerprints, trace)
owns its tables.
"""

from dlp_gateway.store.quarantine import QuarantineError, QuarantineRecord, QuarantineStore

__all__ = ["QuarantineError", "QuarantineRecord", "QuarantineStore"]
