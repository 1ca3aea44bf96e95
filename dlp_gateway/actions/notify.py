"""Notices: any rule can also tell the sender and/or named addresses what happened.

A notice says which message (Message-ID, gateway id, date), to whom, what the gateway
did, the rule and reason, and the quarantine id to quote, and nothing of the message
itself: no Subject, no body, no attachment, because the notice may go where the
message was not allowed to. The rule's `template` ($placeholders, see
policy/schema.py `NOTICE_FIELDS`) replaces the default text.

Notices go out through the gateway's normal delivery path with the null sender (as
DSNs do, so a notice can never bounce back into a loop) and `Auto-Submitted:
auto-generated` (RFC 3834). They are sent only for final outcomes (2xx or 5xx): a 4xx
means the client retries, and the retry would notify again. A notice that cannot be
sent is logged; it never changes the message's own outcome.
"""

from __future__ import annotations

import email.utils
import logging
from email.message import EmailMessage
from email.policy import SMTP
from string import Template

from dlp_gateway.actions.base import MessageContext
from dlp_gateway.model import Decision, Outcome
from dlp_gateway.smtp.delivery import OutboundMessage

log = logging.getLogger(__name__)

DEFAULT_TEMPLATE = """\
The mail security gateway handled your message as follows.

Message:       $message_id
Date:          $date
Sender:        $sender
Recipients:    $recipients
Action:        $action
Rule:          $rule
Reason:        $reason
Quarantine id: $quarantine_id
Gateway id:    $gateway_id

If you believe this is a mistake, contact the security office and quote the
quarantine id or the gateway id. This notice does not contain the message.
"""


def notice_fields(ctx: MessageContext, decisions: list[Decision], outcomes: list[Outcome]) -> dict[str, str]:
    recipients = [d.recipient for d in decisions]
    return {
        "gateway_id": ctx.envelope.gateway_id,
        "quarantine_id": ", ".join(sorted({o.quarantine_id for o in outcomes if o.quarantine_id})) or "(none)",
        "rule": decisions[0].rule,
        "reason": "; ".join(dict.fromkeys([o.detail for o in outcomes if o.quarantine_id and o.detail] or [d.reason for d in decisions])),
        "action": ", ".join(dict.fromkeys(o.action.value for o in outcomes)),
        "sender": ctx.envelope.mail_from or "<>",
        "recipients": ", ".join(recipients),
        "message_id": ctx.report.inspection.message_id or "(no Message-ID)",
        "date": email.utils.formatdate(ctx.envelope.received_at, localtime=False),
    }


def build_notice(ctx: MessageContext, notify: dict, to: list[str], fields: dict[str, str]) -> bytes:
    text = Template(notify.get("template") or DEFAULT_TEMPLATE).safe_substitute(fields)
    msg = EmailMessage(policy=SMTP)
    hostname = getattr(ctx.services, "hostname", "localhost")
    msg["From"] = f"Mail security gateway <postmaster@{hostname}>"
    msg["To"] = ", ".join(to)
    subject = Template(notify.get("subject") or "Mail security gateway: $action for your message").safe_substitute(fields)
    msg["Subject"] = " ".join(subject.split())
    msg["Date"] = email.utils.formatdate(localtime=False)
    msg["Message-ID"] = email.utils.make_msgid("dlp-notice", domain=hostname)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-DLP-Gateway-Id"] = ctx.envelope.gateway_id
    msg.set_content(text)
    return msg.as_bytes()


async def send_notices(ctx: MessageContext, decisions: list[Decision], outcomes: list[Outcome]) -> list[OutboundMessage]:
    """Send the notices the decisions ask for; return the messages handed to delivery."""
    groups: dict[tuple[str, object], list[Decision]] = {}
    for decision in decisions:
        notify = decision.param("notify")
        if notify and decision.mode != "monitor":
            groups.setdefault((decision.rule, notify), []).append(decision)
    sent: list[OutboundMessage] = []
    for (_, frozen), group in groups.items():
        notify = dict(frozen)  # type: ignore[call-overload]
        rcpts = {d.recipient for d in group}
        related = [o for o in outcomes if rcpts & set(o.recipients)]
        if not related or all(400 <= o.code < 500 for o in related):
            continue
        to = list(notify.get("to", ()))
        if notify.get("sender") and ctx.envelope.mail_from:
            to.insert(0, ctx.envelope.mail_from)
        to = list(dict.fromkeys(to))
        if not to:
            continue
        data = build_notice(ctx, notify, to, notice_fields(ctx, group, related))
        message = OutboundMessage(mail_from="", recipients=tuple(to), data=data)
        try:
            result = await ctx.services.delivery.deliver(message)
        except Exception:
            log.exception("%s: cannot send the notice for rule %s", ctx.envelope.gateway_id, group[0].rule)
            continue
        if not result.all_accepted:
            log.warning("%s: notice for rule %s not accepted: %s", ctx.envelope.gateway_id, group[0].rule, result.results)
        sent.append(message)
    return sent
