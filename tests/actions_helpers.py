"""Running actions for real: a recording SMTP sink as the next hop, the real delivery pool,
the real quarantine store, and the action registry's `carry_out`."""

from __future__ import annotations

import asyncio
import email
import email.policy
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlp_gateway.actions import carry_out
from dlp_gateway.actions.base import MessageContext
from dlp_gateway.config import Settings, load_settings
from dlp_gateway.gateway import Services
from dlp_gateway.model import Decision, Envelope, InspectionReport, Outcome
from dlp_gateway.smtp.delivery import DeliveryPool
from dlp_gateway.store.quarantine import QuarantineStore
from tests.gatewayproc import Sink


@dataclass
class ActionBench:
    settings: Settings
    sink: Sink
    data_dir: Path

    def run(self, raw: bytes, envelope: Envelope, decisions: list[Decision],
            report: InspectionReport | None = None) -> list[Outcome]:
        """carry_out in a fresh event loop with a fresh pool and store; returns the outcomes."""
        report = report or InspectionReport(inspection=_inspection_of(raw), findings=[])

        async def go() -> list[Outcome]:
            pool = DeliveryPool(self.settings.delivery, "gateway.test")
            store = QuarantineStore(self.settings.data_path)
            services = Services(self.settings, pool, store, "gateway.test")
            ctx = MessageContext(envelope, raw, report, self.settings, services)
            try:
                return await carry_out(ctx, decisions)
            finally:
                await pool.close()
                store.close()

        return asyncio.run(go())

    def quarantined(self) -> list[Any]:
        store = QuarantineStore(self.data_dir)
        try:
            return store.list()
        finally:
            store.close()

    def quarantined_bytes(self, qid: str) -> bytes:
        store = QuarantineStore(self.data_dir)
        try:
            return store.content(qid)
        finally:
            store.close()


def _inspection_of(raw: bytes):
    from dlp_gateway.model import Inspection

    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return Inspection(message_id=str(msg.get("Message-ID", "")), subject=str(msg.get("Subject", "")))


@contextmanager
def bench(tmp_path: Path, sink_tls=None, **overrides: Any):
    """An ActionBench whose next hop is a fresh Sink; `overrides` are dotted settings keys."""
    with Sink(tls_context=sink_tls) as sink:
        data_dir = tmp_path / "data"
        values = {"data_dir": str(data_dir), "delivery.upstream": sink.address, "delivery.tls": "none",
                  "delivery.connect_timeout": 5, "delivery.command_timeout": 10}
        values.update(overrides)
        yield ActionBench(load_settings(None, values), sink, data_dir)


def parsed(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def body_after_trace(data: bytes, original: bytes) -> bool:
    """The sink got the original bytes, below the gateway's own headers."""
    return data.endswith(original)
