"""Notices, and one message whose recipients get different actions."""

from __future__ import annotations

from dlp_gateway.model import Action, Decision, Envelope, Level
from dlp_gateway.policy.evaluate import freeze
from tests.actions_helpers import bench, parsed
from tests.gatewayproc import make_message
from tests.policy_helpers import envelope, marking, policy_from, report

RAW = make_message(subject="Basing rights memo", body="The confidential negotiating text is here.")
NOTIFY = freeze({"sender": True, "to": ["soc@mofa.example"], "subject": "Held by the gateway", "template": ""})


def test_notice_reaches_sender_and_security_with_id_and_reason_but_no_content(tmp_path):
    with bench(tmp_path) as b:
        decision = Decision("bob@partner.example", "quarantine", "national-secret", "level confidential at body",
                            params=(("notify", NOTIFY),), incident_level=4)
        (outcome,) = b.run(RAW, Envelope("alice@mofa.example", ("bob@partner.example",)), [decision])
        (notice,) = b.sink.wait_for(1)
    assert outcome.action == Action.QUARANTINE
    assert notice.mail_from in ("", "<>") and notice.rcpt_tos == ["alice@mofa.example", "soc@mofa.example"]
    msg = parsed(notice.data)
    text = msg.get_content()
    assert msg["Subject"] == "Held by the gateway" and msg["Auto-Submitted"] == "auto-generated"
    assert outcome.quarantine_id in text and "level confidential at body" in text and "national-secret" in text
    assert b"Basing rights" not in notice.data and b"negotiating text" not in notice.data


def test_notice_uses_the_rule_template(tmp_path):
    notify = freeze({"sender": True, "to": [], "subject": "Held", "template": "Held as $quarantine_id by $rule."})
    with bench(tmp_path) as b:
        decision = Decision("bob@partner.example", "quarantine", "r1", "why", params=(("notify", notify),))
        (outcome,) = b.run(RAW, Envelope("alice@mofa.example", ("bob@partner.example",)), [decision])
        (notice,) = b.sink.wait_for(1)
    assert parsed(notice.data).get_content().strip() == f"Held as {outcome.quarantine_id} by r1."


def test_no_notice_for_a_temporary_failure(tmp_path):
    with bench(tmp_path) as b:
        b.sink.mode = "tempfail"
        decision = Decision("bob@partner.example", "deliver", "r", "why", params=(("notify", NOTIFY),))
        (outcome,) = b.run(RAW, Envelope("alice@mofa.example", ("bob@partner.example",)), [decision])
        assert outcome.code == 451 and b.sink.messages == [] and b.sink.connections == 1


def test_recipients_of_one_message_get_their_own_outcomes(tmp_path):
    policy = policy_from(tmp_path, """
        rules:
          - {name: inside, when: {direction: internal}, action: deliver}
          - {name: partner, when: {recipient: partner.example}, action: quarantine}
          - {name: press, when: {recipient: news.example}, action: reject, message: "Not to the press"}
        """, internal_domains=("mofa.example",))
    env = envelope("desk@mofa.example", "bob@partner.example", "eve@news.example")
    decisions = policy.decide(report(marking(Level.RESTRICTED)), env)
    with bench(tmp_path) as b:
        outcomes = b.run(RAW, env, decisions)
        (delivered,) = b.sink.wait_for(1)
        held = b.quarantined()
    by_rcpt = {r: (o.action, o.code) for o in outcomes for r in o.recipients}
    assert by_rcpt == {"desk@mofa.example": (Action.DELIVER, 250), "bob@partner.example": (Action.QUARANTINE, 250),
                       "eve@news.example": (Action.REJECT, 550)}
    assert delivered.rcpt_tos == ["desk@mofa.example"] and held[0].recipients == ["bob@partner.example"]
