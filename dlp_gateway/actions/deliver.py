"""The `deliver` action: send the message to the next hop (or the Maildir) unchanged.

`send` is the one way any action hands bytes to the next hop (encrypt, redirect, bcc
reuse it): it prepends the trace headers (Received, X-DLP-* from `ctx.extra_headers`)
above the original bytes, keeps the envelope (MAIL FROM parameters, each recipient's
RCPT parameters), and turns the per-recipient results into outcomes: accepted → 2xx,
refused by the next hop → its own 5xx, anything else → 4xx.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Sequence

from dlp_gateway import metrics
from dlp_gateway.actions.base import MessageContext
from dlp_gateway.model import Action, Decision, Outcome
from dlp_gateway.smtp.delivery import (
    DeliveryResult,
    OutboundMessage,
    header_line,
    recipients_with_options,
)


def trace_headers(ctx: MessageContext, recipients: Sequence[str]) -> bytes:
    """The Received header of this hop, then the X-DLP-* headers actions asked for."""
    env = ctx.envelope
    hostname = ctx.services.hostname
    helo = env.helo or "unknown"
    peer = f"[{env.peer}]" if env.peer else "unknown"
    proto = "ESMTPS" if env.tls else "ESMTP"
    utf8 = any(o.upper() == "SMTPUTF8" for o in env.mail_options)
    if utf8:
        proto = "UTF8SMTPS" if env.tls else "UTF8SMTP"
    for_clause = f" for <{recipients[0]}>" if len(recipients) == 1 else ""
    date = email.utils.formatdate(env.received_at, localtime=False)
    received = f"from {helo} ({peer}) by {hostname} (dlp-gateway) with {proto} id {env.gateway_id}{for_clause}; {date}"
    out = header_line("Received", received)
    for name, value in ctx.extra_headers:
        out += header_line(name, value)
    return out


def outcomes_from_result(
    result: DeliveryResult, action: Action, rule: str, detail: str = ""
) -> list[Outcome]:
    """Group per-recipient results into outcomes with the code each group implies."""
    groups: dict[tuple[int, str], list[str]] = {}
    for item in result.results:
        groups.setdefault((item.code, item.message), []).append(item.recipient)
    outcomes = []
    for (code, message), recipients in groups.items():
        if 200 <= code < 300:
            kind = action
        elif code >= 500:
            kind = Action.REJECT
        else:
            kind = Action.TEMPFAIL
        text = " ".join(message.split())
        outcomes.append(
            Outcome(tuple(recipients), kind, code, text, rule=rule, detail=detail or f"next hop {result.next_hop}")
        )
    return outcomes


async def send(
    ctx: MessageContext,
    recipients: Sequence[str],
    *,
    action: Action = Action.DELIVER,
    rule: str = "",
    body: bytes | None = None,
    mail_from: str | None = None,
) -> list[Outcome]:
    """Deliver `body` (default: the original bytes) to `recipients` with trace headers on top."""
    env = ctx.envelope
    chosen, options = recipients_with_options(recipients, env.rcpt_tos, env.rcpt_options)
    data = trace_headers(ctx, chosen) + (ctx.raw if body is None else body)
    message = OutboundMessage(
        mail_from=env.mail_from if mail_from is None else mail_from,
        recipients=chosen,
        data=data,
        mail_options=env.mail_options,
        rcpt_options=options,
    )
    started = time.perf_counter()
    result = await ctx.services.delivery.deliver(message)
    metrics.DELIVERY_SECONDS.observe(time.perf_counter() - started)
    if not result.all_accepted:
        metrics.UPSTREAM_ERRORS.inc()
    return outcomes_from_result(result, action, rule)


class DeliverAction:
    name = "deliver"
    description = "Send the message unchanged (apart from trace headers) to the next hop."

    async def apply(self, ctx: MessageContext, decisions: list[Decision]) -> list[Outcome]:
        return await send(ctx, [d.recipient for d in decisions], rule=decisions[0].rule)


HANDLERS = [DeliverAction()]
