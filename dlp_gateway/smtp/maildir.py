"""Delivery into a Maildir under the data dir, for a gateway with no next hop.

This lets a newcomer try the gateway on one machine: mail that passes goes to
`<data-dir>/maildir/new/`. The Maildir protocol gives the never-lose guarantee for free:
write into tmp/, fsync the file, rename into new/ (atomic), fsync the directory. Only
then is the delivery reported as 250.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from pathlib import Path

from dlp_gateway.smtp.delivery import DeliveryResult, OutboundMessage, RecipientResult

log = logging.getLogger(__name__)


def fsync_dir(path: Path) -> None:
    """Make a rename or create inside `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(final: Path, data: bytes, tmp_dir: Path | None = None) -> None:
    """Write `data` to `final` so that after return it survives a crash or power loss."""
    tmp_dir = tmp_dir or final.parent
    tmp = tmp_dir / f".{final.name}.{uuid.uuid4().hex}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.rename(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(final.parent)
    if tmp_dir != final.parent:
        fsync_dir(tmp_dir)


class Maildir:
    """`<root>/{tmp,new,cur}`; one file per delivered message (all recipients share it)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.hostname = socket.gethostname().replace("/", "_").replace(":", "_")

    @property
    def description(self) -> str:
        return f"maildir {self.root}"

    def ensure(self) -> None:
        for sub in ("tmp", "new", "cur"):
            (self.root / sub).mkdir(parents=True, exist_ok=True, mode=0o750)

    def store(self, data: bytes) -> Path:
        """Deliver one message; returns its path in new/."""
        self.ensure()
        now = time.time()
        name = f"{int(now)}.M{int(now % 1 * 1e6)}P{os.getpid()}Q{uuid.uuid4().hex[:12]}.{self.hostname}"
        final = self.root / "new" / name
        write_durably(final, data, tmp_dir=self.root / "tmp")
        return final

    def messages(self) -> list[Path]:
        new = self.root / "new"
        return sorted(new.iterdir()) if new.is_dir() else []

    async def deliver(self, message: OutboundMessage, tls: str | None = None) -> DeliveryResult:
        """Same contract as DeliveryPool.deliver: per-recipient results, 4xx on trouble.

        `tls` is accepted for the same signature; a local Maildir has no network hop.
        """
        try:
            path = await asyncio.to_thread(self.store, message.data)
        except OSError as exc:
            log.error("cannot write to the Maildir %s: %s", self.root, exc)  # the path: log only, never the reply
            text = "4.3.0 cannot store the message now; try again later"
            return DeliveryResult([RecipientResult(r, 451, text) for r in message.recipients], next_hop="maildir")
        text = f"2.0.0 delivered to maildir as {path.name}"
        return DeliveryResult([RecipientResult(r, 250, text) for r in message.recipients], next_hop="maildir")

    async def close(self) -> None:
        return None
