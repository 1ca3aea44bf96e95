"""Evaluation: order, first match, per recipient, default, monitor mode, incident levels."""

from __future__ import annotations

from dlp_gateway.config import SHIPPED_POLICIES
from dlp_gateway.model import Finding, Level, ProblemKind
from dlp_gateway.policy import load_policy
from tests.policy_helpers import envelope, marking, policy_from, problem, report, write_policy


def test_first_matching_rule_wins(tmp_path):
    policy = policy_from(tmp_path, """
        rules:
          - {name: first, when: {level_at_least: restricted}, action: quarantine}
          - {name: second, when: {level_at_least: restricted}, action: reject}
        """)
    decision = policy.decide(report(marking(Level.SECRET)), envelope())[0]
    assert (decision.rule, decision.action) == ("first", "quarantine")


def test_default_applies_when_no_rule_matches(tmp_path):
    policy = policy_from(tmp_path, """
        default: {action: tag, subject_prefix: "[checked] "}
        rules:
          - {name: r, when: {level_at_least: secret}, action: quarantine}
        """)
    decision = policy.decide(report(), envelope())[0]
    assert (decision.rule, decision.action, decision.reason) == ("default", "tag", "no rule matched")
    assert decision.param("subject_prefix") == "[checked] "


def test_each_recipient_gets_its_own_decision(tmp_path):
    policy = policy_from(tmp_path, """
        rules:
          - {name: partners-encrypt, when: {level_at_least: restricted, recipient: partner.example}, action: encrypt}
          - {name: outside, when: {level_at_least: restricted, direction: outbound}, action: quarantine}
        """, internal_domains=("mofa.example",))
    env = envelope("a@mofa.example", "b@partner.example", "c@news.example")
    decisions = policy.decide(report(marking(Level.RESTRICTED)), env)
    assert [(d.recipient, d.action, d.rule) for d in decisions] == [
        ("a@mofa.example", "deliver", "default"),
        ("b@partner.example", "encrypt", "partners-encrypt"),
        ("c@news.example", "quarantine", "outside"),
    ]


def test_decision_carries_action_parameters_and_notify(tmp_path):
    policy = policy_from(tmp_path, """
        rules:
          - name: r
            action: reject
            code: 554
            message: Classified content may not be mailed
            notify: {sender: true, to: [soc@mofa.example]}
        """)
    decision = policy.decide(report(), envelope())[0]
    assert decision.param("code") == 554 and decision.param("message") == "Classified content may not be mailed"
    notify = dict(decision.param("notify"))
    assert notify["sender"] is True and notify["to"] == ("soc@mofa.example",)
    hash(decision.params)  # decisions are grouped by their parameters


def test_monitor_rule_delivers_but_records_what_it_would_have_done(tmp_path):
    policy = policy_from(tmp_path, """
        rules:
          - {name: trial, mode: monitor, when: {header: {name: subject, pattern: draft}}, action: quarantine}
        """)
    decision = policy.decide(report(headers={"subject": ["Draft cable"]}), envelope())[0]
    assert (decision.mode, decision.action, decision.rule) == ("monitor", "quarantine", "trial")
    assert decision.reason.startswith("monitor: would have quarantine")


def test_monitor_rule_cannot_switch_off_a_later_enforced_rule(tmp_path):
    policy = policy_from(tmp_path, """
        rules:
          - {name: trial, mode: monitor, when: {level_at_least: restricted}, action: deliver}
          - {name: secret, when: {level_at_least: secret}, action: quarantine}
        """)
    decision = policy.decide(report(marking(Level.SECRET)), envelope())[0]
    assert (decision.mode, decision.action, decision.rule) == ("enforce", "quarantine", "secret")
    assert "monitor rule trial would have: deliver" in decision.reason


def test_file_mode_monitor_applies_to_its_rules_unless_a_rule_overrides(tmp_path):
    write_policy(tmp_path / "p", """
        mode: monitor
        rules:
          - {name: watched, when: {level_at_least: restricted}, action: reject}
          - {name: enforced, mode: enforce, when: {problem: any}, action: quarantine}
        """)
    policy = load_policy(tmp_path / "p")
    assert [r.mode for r in policy.rules] == ["monitor", "enforce"]


def test_incident_level_is_4_for_national_secrets_and_3_for_restricted():
    policy = load_policy(SHIPPED_POLICIES)
    for level, expected in [(Level.CONFIDENTIAL, 4), (Level.TOP_SECRET, 4), (Level.RESTRICTED, 3)]:
        assert policy.decide(report(marking(level)), envelope())[0].incident_level == expected
    assert policy.decide(report(), envelope())[0].incident_level is None


def test_default_policy_holds_national_secrets_uninspectable_and_fingerprints():
    policy = load_policy(SHIPPED_POLICIES)
    fp = Finding("fingerprint", "doc", "a.pdf", "e", document_id="d", label="x", share_of_document=0.4)
    cases = [
        (report(marking(Level.CONFIDENTIAL, "PRC")), "quarantine", "national-secret"),
        (report(problems=(problem(ProblemKind.TIMEOUT),)), "quarantine", "uninspectable"),
        (report(fp), "quarantine", "registered-document"),
        (report(marking(Level.RESTRICTED)), "encrypt", "restricted-encrypt"),
        (report(), "deliver", "default"),
    ]
    for rep, action, rule in cases:
        decision = policy.decide(rep, envelope())[0]
        assert (decision.action, decision.rule) == (action, rule)
    assert policy.decide(report(marking(Level.RESTRICTED)), envelope())[0].param("fallback") == "quarantine"


def test_explanation_lists_every_rule_considered(tmp_path):
    policy = load_policy(SHIPPED_POLICIES)
    evaluation = policy.evaluate(report(marking(Level.RESTRICTED)), envelope(), "bob@partner.example")
    assert [(s.rule.name, s.matched) for s in evaluation.steps] == [
        ("national-secret", False), ("uninspectable", False), ("executable", False), ("registered-document", False),
        ("restricted-encrypt", True)]
    assert "restricted" in evaluation.steps[-1].why
