"""The `reject` action (a permanent 5xx with the policy's text) and `tempfail` (a 4xx).

Policy parameters: `code` (default 550 for reject, 451 for tempfail) and `message`
(default: the rule's reason). The text is what the sender's mail server shows the user,
so policies should say what to do ("remove the classified attachment and resend").
"""

from __future__ import annotations

import re

from dlp_gateway.actions.base import MessageContext
from dlp_gateway.model import Action, Decision, Outcome

_ENHANCED = re.compile(r"^\d\.\d{1,3}\.\d{1,3} ")


def _reply(decision: Decision, default_code: int, low: int, high: int, enhanced: str) -> tuple[int, str]:
    try:
        code = int(decision.param("code", default_code))
    except (TypeError, ValueError):
        code = default_code
    if not low <= code < high:
        code = default_code
    text = str(decision.param("message") or f"message refused by policy rule {decision.rule}: {decision.reason}")
    text = " ".join(text.split())
    if not _ENHANCED.match(text):
        text = f"{enhanced} {text}"
    return code, text


class RejectAction:
    name = "reject"
    description = "Refuse the message permanently (5xx) with the policy's text."

    async def apply(self, ctx: MessageContext, decisions: list[Decision]) -> list[Outcome]:
        code, text = _reply(decisions[0], 550, 500, 600, "5.7.1")
        return [Outcome(tuple(d.recipient for d in decisions), Action.REJECT, code, text, rule=decisions[0].rule)]


class TempfailAction:
    name = "tempfail"
    description = "Refuse the message for now (4xx); the sender's server retries later."

    async def apply(self, ctx: MessageContext, decisions: list[Decision]) -> list[Outcome]:
        code, text = _reply(decisions[0], 451, 400, 500, "4.7.1")
        return [Outcome(tuple(d.recipient for d in decisions), Action.TEMPFAIL, code, text, rule=decisions[0].rule)]


HANDLERS = [RejectAction(), TempfailAction()]
