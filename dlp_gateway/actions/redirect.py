"""`redirect` (to a security mailbox instead of the recipients) and `bcc` (as well as them).

The copy carries `X-DLP-Original-Recipients`, `X-DLP-Rule` and `X-DLP-Reason` headers on
top so the security office sees where it was going and why. Order matters for the
never-lose rule: the security copy is sent first, and only when the mailbox accepted it
is the message delivered (bcc) or reported done (redirect). If the mailbox refuses it
for good, a redirected message is quarantined rather than lost; a temporary refusal is a
4xx so the client retries.
"""

from __future__ import annotations

from dlp_gateway.actions.base import MessageContext
from dlp_gateway.actions.deliver import send
from dlp_gateway.model import Action, Decision, Outcome
from dlp_gateway.smtp.delivery import DeliveryResult, OutboundMessage, header_line


async def send_copy(ctx: MessageContext, decisions: list[Decision], to: list[str]) -> DeliveryResult:
    first = decisions[0]
    headers = (
        header_line("X-DLP-Original-Recipients", ", ".join(d.recipient for d in decisions))
        + header_line("X-DLP-Rule", first.rule)
        + header_line("X-DLP-Reason", first.reason[:500])
        + header_line("X-DLP-Gateway-Id", ctx.envelope.gateway_id)
    )
    message = OutboundMessage(mail_from=ctx.envelope.mail_from, recipients=tuple(to), data=headers + ctx.raw,
                              mail_options=ctx.envelope.mail_options)
    return await ctx.services.delivery.deliver(message)


class RedirectAction:
    name = "redirect"
    description = "Send the message to the security mailbox instead of its recipients."

    async def apply(self, ctx: MessageContext, decisions: list[Decision]) -> list[Outcome]:
        first = decisions[0]
        recipients = tuple(d.recipient for d in decisions)
        to = list(first.param("to", ()))
        result = await send_copy(ctx, decisions, to)
        if result.all_accepted:
            return [Outcome(recipients, Action.DELIVER, 250, f"2.0.0 redirected to {', '.join(to)}", rule=first.rule,
                            detail=f"redirected to {', '.join(to)}; not delivered to the recipients")]
        if result.temporary:
            worst = result.temporary[0]
            return [Outcome(recipients, Action.TEMPFAIL, 451, f"4.3.0 security mailbox not reachable now: {worst.message}", rule=first.rule)]
        from dlp_gateway.actions import load_handlers

        held = [Decision(d.recipient, "quarantine", d.rule, f"{d.reason}; security mailbox refused the redirect",
                         d.mode, tuple((k, v) for k, v in d.params if k == "notify"), d.incident_level) for d in decisions]
        return await load_handlers()["quarantine"].apply(ctx, held)


class BccAction:
    name = "bcc"
    description = "Deliver the message and send a copy to the security mailbox."

    async def apply(self, ctx: MessageContext, decisions: list[Decision]) -> list[Outcome]:
        first = decisions[0]
        recipients = tuple(d.recipient for d in decisions)
        to = list(first.param("to", ()))
        result = await send_copy(ctx, decisions, to)
        if not result.all_accepted:
            text = result.results[0].message if result.results else "no answer"
            return [Outcome(recipients, Action.TEMPFAIL, 451, f"4.3.0 the copy to the security mailbox failed: {text}", rule=first.rule)]
        return await send(ctx, list(recipients), rule=first.rule)


HANDLERS = [RedirectAction(), BccAction()]
