"""The `require_tls` action: deliver only over verified TLS to the next hop, else the fallback.

The message gets its own connection with `delivery.tls: verified` for this one
transaction (DeliveryPool.deliver's `tls` override): STARTTLS must be offered and the
next hop's certificate must verify against `delivery.tls_ca_file` (or the system store)
for `delivery.tls_server_name` (or the host). When the next hop does not offer TLS or
its certificate does not verify (the delivery reports 454 4.7.x), the recipients go to
the rule's `fallback`. Other temporary trouble (next hop down) stays a 4xx, so the
client retries. With no next hop configured, mail goes into the local Maildir: no
network hop exists to protect, so it is delivered.
"""

from __future__ import annotations

import time

from dlp_gateway import metrics
from dlp_gateway.actions.base import MessageContext
from dlp_gateway.actions.deliver import outcomes_from_result, trace_headers
from dlp_gateway.actions.fallback import run_fallback
from dlp_gateway.model import Action, Decision, Outcome
from dlp_gateway.smtp.delivery import OutboundMessage, recipients_with_options


def _tls_refused(code: int, message: str) -> bool:
    return code == 454 or message.startswith("4.7.")


class RequireTlsAction:
    name = "require_tls"
    description = "Deliver only over verified TLS to the next hop; otherwise the rule's fallback."

    async def apply(self, ctx: MessageContext, decisions: list[Decision]) -> list[Outcome]:
        from dlp_gateway.actions.deliver import send

        first = decisions[0]
        recipients = [d.recipient for d in decisions]
        if not ctx.settings.delivery.upstream:
            return await send(ctx, recipients, rule=first.rule)
        env = ctx.envelope
        chosen, options = recipients_with_options(recipients, env.rcpt_tos, env.rcpt_options)
        message = OutboundMessage(env.mail_from, chosen, trace_headers(ctx, chosen) + ctx.raw, env.mail_options, options)
        started = time.perf_counter()
        result = await ctx.services.delivery.deliver(message, tls="verified")
        metrics.DELIVERY_SECONDS.observe(time.perf_counter() - started)
        refused = {r.recipient: r.message for r in result.results if _tls_refused(r.code, r.message)}
        outcomes: list[Outcome] = []
        if len(refused) < len(result.results):
            result.results = [r for r in result.results if r.recipient not in refused]
            if not result.all_accepted:
                metrics.UPSTREAM_ERRORS.inc()
            outcomes += outcomes_from_result(result, Action.DELIVER, first.rule, detail=f"verified TLS to {result.next_hop}")
        if refused:
            by_rcpt = {d.recipient: d for d in decisions}
            outcomes += await run_fallback(ctx, [(by_rcpt[r], f"no verified TLS to the next hop ({text})") for r, text in refused.items()])
        return outcomes


HANDLERS = [RequireTlsAction()]
