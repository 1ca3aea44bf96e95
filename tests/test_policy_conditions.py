"""Every condition of the policy schema, each shown holding and not holding, through real YAML."""

from __future__ import annotations

import pytest

from dlp_gateway.model import Finding, Level, ProblemKind
from tests.policy_helpers import envelope, marking, part, policy_from, problem, report


def decide_one(tmp_path, when: str, rep, env, internal=()):
    policy = policy_from(tmp_path, f"""
        rules:
          - name: probe
            when: {when}
            action: quarantine
        """, internal)
    return policy.decide(rep, env)[0]


FP = Finding("fingerprint", "doc", "a.pdf", "42 shingles", document_id="d1", label="cable-2026",
             share_of_part=0.1, share_of_document=0.6)
YARA = Finding("yara", "roc_official_letter", "a.docx", "發文字號", tags=("official", "roc"), confidence=0.8)

CASES = {
    "level_at_least": ("{level_at_least: secret}", report(marking(Level.TOP_SECRET)), report(marking(Level.CONFIDENTIAL))),
    "marking_system": ("{marking_system: prc}", report(marking(Level.RESTRICTED, "PRC")), report(marking(Level.SECRET, "US"))),
    "marking_system_eu": ("{marking_system: EU}", report(marking(Level.RESTRICTED, "EU")), report(marking(Level.RESTRICTED, "NATO"))),
    "finding_rule_glob": ("{finding: {detector: yara, rule: 'roc_*'}}", report(YARA), report(marking(Level.SECRET))),
    "finding_tag": ("{finding: {tag: official, min_confidence: 0.5}}", report(YARA), report(Finding("yara", "x", "b", "e", tags=("other",)))),
    "fingerprint_label_share": ("{fingerprint: {label: 'cable-*', min_share: 0.5}}", report(FP),
                                report(Finding("fingerprint", "doc", "a", "e", document_id="d1", label="cable-1", share_of_document=0.2))),
    "problem_kind": ("{problem: [encrypted, timeout]}", report(problems=(problem(ProblemKind.ENCRYPTED),)),
                     report(problems=(problem(ProblemKind.CORRUPT),))),
    "problem_any": ("{problem: any}", report(problems=(problem(ProblemKind.LIMIT_EXCEEDED),)), report()),
    "file_type": ("{file_type: 'application/x-dosexec'}", report(parts=(part("application/x-dosexec"),)),
                  report(parts=(part("application/pdf"),))),
    "type_mismatch": ("{type_mismatch: true}", report(parts=(part("application/zip", mismatch=True),)),
                      report(parts=(part("application/pdf"),))),
    "size": ("{size: {at_least: 1MB, below: 10MB}}", report(size=2_000_000), report(size=20_000_000)),
    "header": ("{header: {name: X-Classification, pattern: secret}}", report(headers={"x-classification": ["TOP SECRET"]}),
               report(headers={"x-classification": ["public"]})),
    "all": ("{all: [{level_at_least: restricted}, {problem: any}]}",
            report(marking(Level.RESTRICTED), problems=(problem(ProblemKind.CORRUPT),)), report(marking(Level.RESTRICTED))),
    "any": ("{any: [{level_at_least: secret}, {problem: encrypted}]}",
            report(problems=(problem(ProblemKind.ENCRYPTED),)), report(marking(Level.RESTRICTED))),
    "not": ("{not: {level_at_least: restricted}}", report(), report(marking(Level.RESTRICTED))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_content_condition_holds_and_does_not(tmp_path, name):
    when, matching, other = CASES[name]
    assert decide_one(tmp_path / "a", when, matching, envelope()).action == "quarantine"
    assert decide_one(tmp_path / "b", when, other, envelope()).action == "deliver"


def test_sender_patterns_cover_address_domain_and_glob(tmp_path):
    when = "{sender: ['boss@mofa.example', '*.consulate.example', 'ops-*@embassy.example']}"
    for sender, expected in [("Boss@MOFA.example", "quarantine"), ("x@tw.consulate.example", "quarantine"),
                             ("ops-1@embassy.example", "quarantine"), ("x@mofa.example", "deliver"),
                             ("x@consulate.example", "deliver")]:
        got = decide_one(tmp_path / sender, when, report(), envelope(sender=sender))
        assert got.action == expected, sender


def test_recipient_patterns_from_a_file(tmp_path):
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "partners.txt").write_text("# partners\npartner.example\nbob@other.example  # one person\n")
    policy = policy_from(tmp_path, """
        rules:
          - name: partners
            when: {recipient: {file: partners.txt}}
            action: quarantine
        """)
    decisions = policy.decide(report(), envelope("a@partner.example", "bob@other.example", "eve@other.example"))
    assert [d.action for d in decisions] == ["quarantine", "quarantine", "deliver"]


def test_direction_uses_the_internal_domains(tmp_path):
    when = "{direction: outbound}"
    internal = ("mofa.example",)
    out = decide_one(tmp_path / "1", when, report(), envelope("x@partner.example"), internal)
    inside = decide_one(tmp_path / "2", when, report(), envelope("x@dept.mofa.example"), internal)
    assert (out.action, inside.action) == ("quarantine", "deliver")
    inbound = decide_one(tmp_path / "3", "{direction: inbound}", report(),
                         envelope("x@mofa.example", sender="a@partner.example"), internal)
    assert inbound.action == "quarantine" and "direction is inbound" in inbound.reason


def test_inbound_tls_condition(tmp_path):
    assert decide_one(tmp_path / "1", "{tls: false}", report(), envelope(tls=False)).action == "quarantine"
    assert decide_one(tmp_path / "2", "{tls: false}", report(), envelope(tls=True)).action == "deliver"


def test_several_keys_in_one_condition_must_all_hold(tmp_path):
    when = "{level_at_least: restricted, direction: outbound}"
    internal = ("mofa.example",)
    assert decide_one(tmp_path / "1", when, report(marking(Level.RESTRICTED)), envelope("x@out.example"), internal).action == "quarantine"
    assert decide_one(tmp_path / "2", when, report(marking(Level.RESTRICTED)), envelope("x@mofa.example"), internal).action == "deliver"
