"""Handing recipients an action could not serve to the rule's `fallback` action.

`encrypt` (no usable certificate) and `require_tls` (no verified TLS to the next hop)
have a fallback in the policy (`deliver`, `quarantine` or `reject`). The fallback runs
through the same registry as any action, with a decision that keeps the rule, says why
the first action could not be done, and keeps the rule's `notify`.
"""

from __future__ import annotations

from dlp_gateway.actions.base import MessageContext
from dlp_gateway.model import Action, Decision, Outcome


def fallback_decision(decision: Decision, why: str) -> Decision:
    fallback = str(decision.param("fallback", "quarantine"))
    params = tuple((k, v) for k, v in decision.params if k == "notify")
    return Decision(decision.recipient, fallback, decision.rule, f"{decision.reason}; {why}; fallback {fallback}",
                    decision.mode, params, decision.incident_level)


async def run_fallback(ctx: MessageContext, pairs: list[tuple[Decision, str]]) -> list[Outcome]:
    """Run each (decision, why-not) through its rule's fallback handler, grouped by fallback and reason."""
    from dlp_gateway.actions import load_handlers

    handlers = load_handlers()
    groups: dict[tuple[str, str], list[Decision]] = {}
    for decision, why in pairs:
        fb = fallback_decision(decision, why)
        groups.setdefault((fb.action, fb.reason), []).append(fb)
    outcomes: list[Outcome] = []
    for (action, _), group in groups.items():
        handler = handlers.get(action)
        if handler is None:
            outcomes.append(Outcome(tuple(d.recipient for d in group), Action.TEMPFAIL, 451,
                                    f"4.3.0 no handler for fallback action {action!r}", rule=group[0].rule))
            continue
        outcomes.extend(await handler.apply(ctx, group))
    return outcomes
