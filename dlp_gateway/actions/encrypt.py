"""The `encrypt` action: S/MIME-encrypt to each recipient's certificate, then deliver.

Recipients with a usable certificate (see smime.py) get one enveloped-data message
encrypted to all of their certificates; recipients without one go to the rule's
`fallback` (default `quarantine`), so restricted content never leaves in clear because
a certificate is missing, expired or of the wrong kind.
"""

from __future__ import annotations

import asyncio
import logging

from dlp_gateway.actions.base import MessageContext
from dlp_gateway.actions.deliver import send
from dlp_gateway.actions.fallback import run_fallback
from dlp_gateway.actions.smime import encrypt_message, find_certificate
from dlp_gateway.model import Action, Decision, Outcome

log = logging.getLogger(__name__)


class EncryptAction:
    name = "encrypt"
    description = "S/MIME-encrypt (AES-256) to the recipient's certificate and deliver; else the fallback."

    async def apply(self, ctx: MessageContext, decisions: list[Decision]) -> list[Outcome]:
        certs_dir = ctx.settings.certs_dir
        holders: list[tuple[Decision, object]] = []
        others: list[tuple[Decision, str]] = []
        for decision in decisions:
            lookup = find_certificate(certs_dir, decision.recipient)
            if lookup.certificate is not None:
                holders.append((decision, lookup.certificate))
            else:
                log.info("%s: %s: %s", ctx.envelope.gateway_id, decision.recipient, lookup.reason)
                others.append((decision, lookup.reason))
        outcomes: list[Outcome] = []
        if holders:
            first = holders[0][0]
            body = await asyncio.to_thread(
                encrypt_message,
                ctx.raw,
                [cert for _, cert in holders],  # type: ignore[misc]
                keep_subject=bool(first.param("keep_subject", True)),
                subject_text=str(first.param("subject_text", "Encrypted message")),
            )
            outcomes += await send(ctx, [d.recipient for d, _ in holders], action=Action.ENCRYPT, rule=first.rule, body=body)
        if others:
            outcomes += await run_fallback(ctx, others)
        return outcomes


HANDLERS = [EncryptAction()]
