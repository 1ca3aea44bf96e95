"""Actions: carry out the policy's per-recipient decisions.

`HANDLERS` maps an action name to its handler (see base.py for the interface).
`HANDLER_MODULES` lists the modules that provide handlers; each exposes `HANDLERS`, a
list of handler instances. To add an action, write its module and add one line to
`HANDLER_MODULES` (a module not built yet is skipped).

`carry_out` groups a message's decisions by (action, parameters) and hands each group
to its handler. A missing handler or a handler that raises becomes a 4xx outcome for
its recipients, so the client retries and nothing is lost.
"""

from __future__ import annotations

import importlib
import logging

from dlp_gateway.actions.base import ActionHandler, MessageContext
from dlp_gateway.model import Action, Decision, Outcome

log = logging.getLogger(__name__)

HANDLER_MODULES = [
    "dlp_gateway.actions.deliver",
    "dlp_gateway.actions.quarantine",
    "dlp_gateway.actions.reject",
    "dlp_gateway.actions.tag",
    "dlp_gateway.actions.encrypt",
    "dlp_gateway.actions.require_tls",
    "dlp_gateway.actions.redirect",
    "dlp_gateway.actions.watermark",
]

HANDLERS: dict[str, ActionHandler] = {}


def register(handler: ActionHandler) -> ActionHandler:
    """Make `handler` available under `handler.name` (a later registration replaces it)."""
    HANDLERS[handler.name] = handler
    return handler


_loaded_from: tuple[str, ...] = ()


def load_handlers() -> dict[str, ActionHandler]:
    """Import every module of HANDLER_MODULES and register its handlers (idempotent).

    Runs for every message, so after the first time it only checks the list is unchanged.
    """
    global _loaded_from
    if _loaded_from == tuple(HANDLER_MODULES):
        return HANDLERS
    for name in HANDLER_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        for handler in getattr(module, "HANDLERS", []):
            HANDLERS.setdefault(handler.name, handler)
    _loaded_from = tuple(HANDLER_MODULES)
    return HANDLERS


def _group_key(decision: Decision) -> tuple[str, str]:
    return decision.action, repr(decision.params)


async def carry_out(ctx: MessageContext, decisions: list[Decision]) -> list[Outcome]:
    """Run each (action, params) group through its handler; return all outcomes."""
    load_handlers()
    groups: dict[tuple[str, str], list[Decision]] = {}
    for decision in decisions:
        groups.setdefault(_group_key(decision), []).append(decision)
    outcomes: list[Outcome] = []
    for (action, _), group in groups.items():
        recipients = tuple(d.recipient for d in group)
        handler = HANDLERS.get(action)
        if handler is None:
            log.error("%s: no handler for action %r (rule %s); answering 451", ctx.envelope.gateway_id, action, group[0].rule)
            outcomes.append(_tempfail(recipients, group[0].rule, f"4.3.0 no handler for action {action!r}"))
            continue
        try:
            outcomes.extend(await handler.apply(ctx, group))
        except Exception as exc:  # a handler bug must cost a retry, never the message
            log.exception("%s: action %s failed", ctx.envelope.gateway_id, action)
            outcomes.append(_tempfail(recipients, group[0].rule, f"4.3.0 action {action} failed: {exc}"))
    await _send_notices(ctx, decisions, outcomes)
    return outcomes


async def _send_notices(ctx: MessageContext, decisions: list[Decision], outcomes: list[Outcome]) -> None:
    """The rules' `notify` (actions/notify.py); a notice never changes the message's outcome."""
    try:
        from dlp_gateway.actions.notify import send_notices

        await send_notices(ctx, decisions, outcomes)
    except Exception:
        log.exception("%s: sending notices failed", ctx.envelope.gateway_id)


def _tempfail(recipients: tuple[str, ...], rule: str, text: str) -> Outcome:
    return Outcome(recipients=recipients, action=Action.TEMPFAIL, code=451, message=text, rule=rule)


__all__ = ["HANDLERS", "HANDLER_MODULES", "ActionHandler", "MessageContext", "carry_out", "load_handlers", "register"]
