"""Keeping the running policy, and swapping in a new one only when it loads cleanly.

The server owns signal handling; on SIGHUP it calls `holder.reload()`. `holder.watch()`
is a coroutine the server can run to reload when a file in the policy directory changes
(mtime/size polling: portable, cheap for a handful of files, and no extra dependency).
A policy that fails to load is refused: the running one stays, the error is logged and
counted in `dlp_policy_reloads_total{result="error"}`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from dlp_gateway.policy.evaluate import Policy
from dlp_gateway.policy.loader import PolicyError

log = logging.getLogger(__name__)

Snapshot = tuple[tuple[str, int, int], ...]


def snapshot(directory: Path) -> Snapshot:
    """Name, mtime (ns) and size of every file in the directory: a change in any is a change."""
    entries = []
    try:
        for path in sorted(directory.iterdir()):
            try:
                st = path.stat()
            except OSError:
                continue
            if path.is_file():
                entries.append((path.name, st.st_mtime_ns, st.st_size))
    except OSError:
        pass
    return tuple(entries)


def _count(result: str) -> None:
    """Count the reload in the gateway's metrics, when the metrics module is there."""
    try:
        from dlp_gateway import metrics
    except ImportError:
        return
    counter = getattr(metrics, "POLICY_RELOADS", None)
    if counter is not None:
        try:
            counter.labels(result=result).inc()
        except Exception:  # metrics must never break a reload
            log.debug("could not count policy reload", exc_info=True)


class PolicyHolder:
    """The policy in force. `current` is always a policy that loaded cleanly."""

    def __init__(self, loader: Callable[[], Policy], directory: str | Path | None = None):
        self._loader = loader
        self.current: Policy = loader()  # the first load must succeed: PolicyError propagates
        self.directory = Path(directory) if directory is not None else self.current.source
        self._seen: Snapshot = snapshot(self.directory) if self.directory else ()
        self.last_error: str | None = None
        self.reloads = {"success": 0, "error": 0}

    @classmethod
    def from_settings(cls, settings) -> PolicyHolder:  # noqa: ANN001 - Settings, imported lazily
        from dlp_gateway.policy import load_policy_from_settings

        return cls(lambda: load_policy_from_settings(settings), settings.policy_dir)

    def reload(self) -> bool:
        """Load again; on success swap it in and return True, else keep the old one and return False."""
        if self.directory:
            self._seen = snapshot(self.directory)
        try:
            policy = self._loader()
        except PolicyError as exc:
            self.last_error = str(exc)
            self.reloads["error"] += 1
            _count("error")
            log.error("policy reload refused, the running policy stays in force:\n%s", exc)
            return False
        except Exception as exc:  # anything else is a bug, but must not take the running policy down
            self.last_error = f"{type(exc).__name__}: {exc}"
            self.reloads["error"] += 1
            _count("error")
            log.exception("policy reload failed, the running policy stays in force")
            return False
        self.current = policy
        self.last_error = None
        self.reloads["success"] += 1
        _count("success")
        log.info("policy reloaded: %d rule(s) from %d file(s)", len(policy.rules), len(policy.files))
        return True

    def changed(self) -> bool:
        return bool(self.directory) and snapshot(self.directory) != self._seen  # type: ignore[arg-type]

    async def watch(self, interval: float = 2.0) -> None:
        """Poll the policy directory and reload when a file changes. Runs until cancelled."""
        while True:
            await asyncio.sleep(interval)
            if self.changed():
                self.reload()
