"""The action interface: a name, a description and one method.

The gateway groups a message's per-recipient `Decision`s by action and parameters and
hands each group to the action of that name, which carries it out and returns
`Outcome`s (one per group of recipients that fared alike). Actions return results,
they never raise for control flow: an action that cannot do its job returns an outcome
with a 4xx code, so the client retries and nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from dlp_gateway.model import Decision, Envelope, InspectionReport, Outcome

if TYPE_CHECKING:
    from dlp_gateway.config import Settings


@dataclass(slots=True)
class MessageContext:
    """One message on its way through the actions."""

    envelope: Envelope
    raw: bytes
    report: InspectionReport
    settings: Settings
    services: Any  # the running gateway's services (delivery, quarantine store, metrics, ...)
    extra_headers: list[tuple[str, str]] = field(default_factory=list)


class ActionHandler(Protocol):
    name: str
    description: str

    async def apply(self, ctx: MessageContext, decisions: list[Decision]) -> list[Outcome]:
        """Carry out the decisions (all with this action and the same parameters)."""
        ...
