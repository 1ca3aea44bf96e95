"""The `quarantine` action: hold the message durably for a security officer.

The outcome is 250 only once the message file and its index row are on disk
(see store/quarantine.py); any failure to store is a 451, so the client retries.
"""

from __future__ import annotations

import asyncio
import logging

from dlp_gateway.actions.base import MessageContext
from dlp_gateway.model import Action, Decision, Outcome

log = logging.getLogger(__name__)


class QuarantineAction:
    name = "quarantine"
    description = "Hold the message in the quarantine; an officer releases or deletes it."

    async def apply(self, ctx: MessageContext, decisions: list[Decision]) -> list[Outcome]:
        recipients = tuple(d.recipient for d in decisions)
        rule = decisions[0].rule
        reason = "; ".join(sorted({d.reason for d in decisions}))
        store = ctx.services.quarantine
        try:
            record = await asyncio.to_thread(store.put, ctx.envelope, ctx.raw, recipients, rule, reason, ctx.report)
        except Exception as exc:
            log.exception("%s: cannot quarantine", ctx.envelope.gateway_id)
            return [Outcome(recipients, Action.TEMPFAIL, 451, f"4.3.0 cannot store the message in the quarantine: {exc}", rule=rule)]
        return [
            Outcome(
                recipients,
                Action.QUARANTINE,
                250,
                f"2.6.0 held for review as {record.id}",
                rule=rule,
                quarantine_id=record.id,
                detail=reason,
            )
        ]


HANDLERS = [QuarantineAction()]
