"""The never-lose rule in `Gateway.handle`: one SMTP reply per message from its outcomes.

The gateway runs in this process with the real pipeline, real actions, a real quarantine
and a real SMTP sink. Policies here are tiny classes with `decide`, so each test states
exactly which decision the gateway gets; the inspection worker pool has its own tests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dlp_gateway.config import Settings, load_settings
from dlp_gateway.gateway import Gateway, Reply
from dlp_gateway.inspector import InspectionTimeout
from dlp_gateway.model import Action, Decision, Envelope, InspectionReport, Outcome
from dlp_gateway.pipeline import WorkerContext, inspect_message
from tests.gatewayproc import Sink, make_message


class InProcessInspector:
    """The real pipeline, called in this process instead of a worker."""

    def __init__(self, settings: Settings, fail: Exception | None = None) -> None:
        self.ctx = WorkerContext.from_settings(settings)
        self.fail = fail

    async def start(self) -> None: ...

    async def inspect(self, raw: bytes) -> InspectionReport:
        if self.fail is not None:
            raise self.fail
        return inspect_message(raw, self.ctx)

    async def reload(self) -> None: ...

    async def close(self) -> None: ...


class PerRecipientPolicy:
    """Decides by recipient: {"bob@x": "deliver", ...}; params per action if given."""

    def __init__(self, actions: dict[str, str], params: tuple = ()) -> None:
        self.actions = actions
        self.params = params

    def decide(self, report: InspectionReport, envelope: Envelope) -> list[Decision]:
        return [Decision(r, self.actions[r], f"rule-{self.actions[r]}", "test", params=self.params)
                for r in envelope.rcpt_tos if r in self.actions]


class BrokenPolicy:
    def decide(self, report: InspectionReport, envelope: Envelope) -> list[Decision]:
        raise RuntimeError("bug in a rule")


def settings_for(tmp_path: Path, sink: Sink) -> Settings:
    return load_settings(None, {
        "data_dir": str(tmp_path),
        "delivery.upstream": sink.address,
        "delivery.tls": "none",
        "log.decision_log": str(tmp_path / "decisions.jsonl"),
        "smtp.hostname": "gateway.test",
    })


def handle(tmp_path: Path, sink: Sink, policy: Any, rcpts: tuple[str, ...], *, fail: Exception | None = None,
           before: Callable[[Gateway], None] | None = None) -> tuple[Reply, Gateway]:
    settings = settings_for(tmp_path, sink)

    async def run() -> tuple[Reply, Gateway]:
        gateway = Gateway(settings, policy=policy, inspector=InProcessInspector(settings, fail))
        await gateway.start()
        if before:
            before(gateway)
        try:
            reply = await gateway.handle(Envelope("alice@example.test", rcpts, peer="127.0.0.1", helo="c.test"), make_message())
        finally:
            await gateway.close()
        return reply, gateway

    return asyncio.run(run())


def decisions_log(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]


def test_a_failing_policy_answers_451_and_is_logged(tmp_path: Path, sink: Sink) -> None:
    reply, _ = handle(tmp_path, sink, BrokenPolicy(), ("bob@x.test",))
    assert reply.code == 451
    (entry,) = decisions_log(tmp_path)
    assert entry["action"] == "tempfail" and "bug in a rule" in entry["error"]
    assert sink.messages == []


def test_an_inspection_timeout_answers_451(tmp_path: Path, sink: Sink) -> None:
    reply, _ = handle(tmp_path, sink, PerRecipientPolicy({"bob@x.test": "deliver"}), ("bob@x.test",),
                      fail=InspectionTimeout("worker killed after 120 s"))
    assert reply.code == 451 and sink.messages == []
    assert decisions_log(tmp_path)[0]["error"].startswith("worker killed")


def test_a_recipient_the_policy_forgot_answers_451(tmp_path: Path, sink: Sink) -> None:
    reply, _ = handle(tmp_path, sink, PerRecipientPolicy({"bob@x.test": "deliver"}), ("bob@x.test", "carol@x.test"))
    assert reply.code == 451


def test_an_action_without_handler_answers_451(tmp_path: Path, sink: Sink) -> None:
    reply, _ = handle(tmp_path, sink, PerRecipientPolicy({"bob@x.test": "teleport"}), ("bob@x.test",))
    assert reply.code == 451 and "teleport" in reply.text


def test_a_quarantine_that_cannot_be_written_answers_451(tmp_path: Path, sink: Sink) -> None:
    def break_quarantine(gateway: Gateway) -> None:
        qdir = gateway.services.quarantine.dir
        qdir.rmdir()
        qdir.write_text("not a directory")

    reply, _ = handle(tmp_path, sink, PerRecipientPolicy({"bob@x.test": "quarantine"}), ("bob@x.test",), before=break_quarantine)
    assert reply.code == 451 and "quarantine" in reply.text


def test_reject_answers_5xx_with_the_policys_text(tmp_path: Path, sink: Sink) -> None:
    policy = PerRecipientPolicy({"bob@x.test": "reject"}, params=(("message", "remove the classified attachment and resend"),))
    reply, _ = handle(tmp_path, sink, policy, ("bob@x.test",))
    assert reply.code == 550 and reply.text == "5.7.1 remove the classified attachment and resend"


def test_split_decisions_deliver_some_hold_others_and_hooks_see_only_the_delivered(tmp_path: Path, sink: Sink) -> None:
    seen: list[tuple[str, ...]] = []
    policy = PerRecipientPolicy({"bob@x.test": "deliver", "carol@x.test": "quarantine"})
    reply, gateway = handle(tmp_path, sink, policy, ("bob@x.test", "carol@x.test"),
                            before=lambda gw: gw.services.on_delivered.append(lambda ctx, rcpts, outcome: seen.append(rcpts)))
    assert reply.code == 250
    assert [m.rcpt_tos for m in sink.wait_for(1)] == [["bob@x.test"]]
    assert seen == [("bob@x.test",)]
    (entry,) = decisions_log(tmp_path)
    assert entry["action"] == "quarantine"
    assert {tuple(o["recipients"]): o["action"] for o in entry["outcomes"]} == {("bob@x.test",): "deliver", ("carol@x.test",): "quarantine"}


def test_a_temporary_failure_for_one_recipient_fails_the_whole_message(tmp_path: Path, sink: Sink) -> None:
    policy = PerRecipientPolicy({"bob@x.test": "deliver", "carol@x.test": "tempfail"})
    reply, _ = handle(tmp_path, sink, policy, ("bob@x.test", "carol@x.test"))
    assert reply.code == 451  # bob may get a duplicate on retry: better than carol losing it


def outcome(code: int, *rcpts: str, action: Action = Action.DELIVER) -> Outcome:
    return Outcome(rcpts, action, code, f"{code // 100}.0.0 text {code}")


@pytest.mark.parametrize(
    ("outcomes", "code", "bounced"),
    [
        ([outcome(250, "a"), outcome(250, "b", action=Action.QUARANTINE)], 250, []),
        ([outcome(250, "a"), outcome(550, "b")], 250, ["b"]),
        ([outcome(550, "a"), outcome(553, "b")], 550, []),
        ([outcome(250, "a"), outcome(451, "b")], 451, []),
        ([outcome(550, "a"), outcome(421, "b")], 421, []),
        ([outcome(250, "a")], 451, []),  # "b" has no outcome at all
    ],
)
def test_outcomes_combine_into_one_reply(tmp_path: Path, sink: Sink, outcomes: list[Outcome], code: int, bounced: list[str]) -> None:
    gateway = Gateway(settings_for(tmp_path, sink), policy=BrokenPolicy(), inspector=None)
    try:
        reply, refused = gateway._combine(Envelope("s@x", ("a", "b")), outcomes)
    finally:
        gateway.services.quarantine.close()
    assert reply.code == code
    assert [r for o in refused for r in o.recipients] == bounced


def test_policy_reject_for_some_recipients_delivers_to_the_others_and_bounces(tmp_path: Path, sink: Sink) -> None:
    policy = PerRecipientPolicy({"bob@x.test": "deliver", "carol@x.test": "reject"})
    reply, _ = handle(tmp_path, sink, policy, ("bob@x.test", "carol@x.test"))
    assert reply.code == 250
    delivered, bounce = sink.wait_for(2)
    assert delivered.rcpt_tos == ["bob@x.test"]
    assert bounce.rcpt_tos == ["alice@example.test"] and b"Final-Recipient: rfc822; carol@x.test" in bounce.data
    assert b"Status: 5.7.1" in bounce.data
