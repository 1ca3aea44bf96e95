"""The decision log: one JSON line per message, for journald or a SIEM.

Each line says when, which message (gateway id and Message-ID), who sent it to whom,
how big it was, what was done (action, rule, per-recipient outcome), what was found
(findings summary and highest level) and how long each stage took. The content itself
is never logged; evidence in findings is already short by contract.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO, Any

from dlp_gateway.termsafe import json_text


class DecisionLog:
    """Appends JSON lines to a file (`log.decision_log`) or to stdout when it is '-'."""

    def __init__(self, target: str = "-") -> None:
        self.target = target
        self._lock = threading.Lock()
        self._stream: IO[str] | None = None
        self._open()

    def _open(self) -> None:
        if self.target == "-":
            self._stream = sys.stdout
        else:
            self._stream = open(self.target, "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def reopen(self) -> None:
        """Reopen the file (after logrotate moved it); called on SIGHUP."""
        with self._lock:
            if self._stream is not None and self._stream is not sys.stdout:
                self._stream.close()
            self._open()

    def write(self, record: dict[str, Any]) -> None:
        record.setdefault("time", time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() % 1 * 1000):03d}Z")
        # json_text: a Subject's C1 or bidi controls reach the log file escaped, not raw.
        line = json_text(record, separators=(",", ":"), default=str)
        with self._lock:
            assert self._stream is not None
            self._stream.write(line + "\n")
            self._stream.flush()

    def close(self) -> None:
        with self._lock:
            if self._stream is not None and self._stream is not sys.stdout:
                self._stream.close()
            self._stream = None
