"""Loading policy files: errors name the file, the line and the field."""

from __future__ import annotations

import pytest

from dlp_gateway.config import SHIPPED_POLICIES
from dlp_gateway.policy import PolicyError, load_policy
from tests.policy_helpers import write_policy


def errors_of(tmp_path, text: str, name: str = "site.yaml") -> list[str]:
    write_policy(tmp_path / "p", text, name)
    with pytest.raises(PolicyError) as info:
        load_policy(tmp_path / "p")
    return info.value.problems


def test_shipped_default_policy_loads():
    policy = load_policy(SHIPPED_POLICIES)
    assert [r.name for r in policy.rules] == ["national-secret", "uninspectable", "executable", "registered-document",
                                             "restricted-encrypt"]
    assert policy.default.action == "deliver"


def test_unknown_key_names_file_line_and_field(tmp_path):
    problems = errors_of(tmp_path, """\
        rules:
          - name: a
            when:
              levle_at_least: secret
            action: quarantine
        """)
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / 'p' / 'site.yaml'}:4: rules[0].when.levle_at_least: unknown key")


def test_wrong_type_names_the_field(tmp_path):
    problems = errors_of(tmp_path, """\
        rules:
          - name: a
            when: {size: {at_least: lots}}
            action: quarantine
        """)
    assert any(":3: rules[0].when.size.at_least:" in p for p in problems), problems


def test_bad_regular_expression_is_an_error(tmp_path):
    problems = errors_of(tmp_path, """\
        rules:
          - name: a
            action: quarantine
            when:
              header:
                name: Subject
                pattern: "(unclosed"
        """)
    assert any(":7: rules[0].when.header.pattern: regular expression" in p for p in problems), problems


def test_bad_glob_is_an_error(tmp_path):
    problems = errors_of(tmp_path, """\
        rules:
          - name: a
            action: quarantine
            when: {sender: ["[abc@example.org"]}
        """)
    assert any(":4: rules[0].when.sender" in p and "unclosed" in p for p in problems), problems


def test_unknown_action_and_bad_level_are_errors(tmp_path):
    problems = errors_of(tmp_path, """\
        rules:
          - name: a
            action: shred
          - name: b
            when: {level_at_least: classified}
            action: quarantine
        """)
    assert any(":2: rules[0]" in p and "shred" in p for p in problems), problems
    assert any(":5: rules[1].when.level_at_least:" in p for p in problems), problems


def test_parameter_of_another_action_is_an_error(tmp_path):
    problems = errors_of(tmp_path, """\
        rules:
          - name: a
            action: quarantine
            fallback: deliver
        """)
    assert any(":4: rules[0].fallback: unknown key" in p for p in problems), problems


def test_yaml_syntax_error_names_the_line(tmp_path):
    problems = errors_of(tmp_path, "rules:\n  - name: a\n    action: [quarantine\n")
    assert problems[0].startswith(f"{tmp_path / 'p' / 'site.yaml'}:") and "not valid YAML" in problems[0]


def test_duplicate_rule_names_across_files_are_errors(tmp_path):
    write_policy(tmp_path / "p", "rules: [{name: a, action: deliver}]\n", "10-a.yaml")
    problems = errors_of(tmp_path, "rules: [{name: a, action: quarantine}]\n", "20-b.yaml")
    assert any("20-b.yaml:1: rules[0].name: rule name 'a' is already used at" in p and "10-a.yaml:1" in p for p in problems)


def test_errors_of_every_file_are_reported_together(tmp_path):
    write_policy(tmp_path / "p", "rules: [{name: a, action: quarantine, colour: red}]\n", "10-a.yaml")
    problems = errors_of(tmp_path, "mode: sometimes\n", "20-b.yaml")
    assert any("10-a.yaml:1: rules[0].colour" in p for p in problems)
    assert any("20-b.yaml:1: mode:" in p for p in problems)


def test_files_are_read_in_name_order(tmp_path):
    write_policy(tmp_path / "p", "rules: [{name: second, action: quarantine}]\n", "20-b.yaml")
    write_policy(tmp_path / "p", "rules: [{name: first, action: deliver}]\n", "10-a.yaml")
    assert [r.name for r in load_policy(tmp_path / "p").rules] == ["first", "second"]


def test_missing_address_file_is_an_error(tmp_path):
    problems = errors_of(tmp_path, "rules: [{name: a, action: quarantine, when: {recipient: {file: none.txt}}}]\n")
    assert any("rules[0].when.recipient" in p and "cannot read address file" in p for p in problems), problems


def test_unknown_template_placeholder_is_an_error(tmp_path):
    problems = errors_of(tmp_path, """\
        rules:
          - name: a
            action: quarantine
            notify: {sender: true, template: "held: $body"}
        """)
    assert any(":4: rules[0].notify" in p and "body" in p for p in problems), problems


def test_empty_directory_is_an_error(tmp_path):
    (tmp_path / "p").mkdir()
    with pytest.raises(PolicyError, match="no \\*.yaml policy files"):
        load_policy(tmp_path / "p")


def test_missing_required_key_is_named(tmp_path):
    problems = errors_of(tmp_path, "rules:\n  - name: a\n    action: redirect\n")
    assert problems == [f"{tmp_path / 'p' / 'site.yaml'}:2: rules[0].to: this key is required here"]


def test_direction_without_internal_domains_is_a_warning(tmp_path):
    write_policy(tmp_path / "p", "rules: [{name: out, action: quarantine, when: {not: {direction: inbound}}}]\n")
    assert "internal_domains is empty" in load_policy(tmp_path / "p").warnings()[0]
    assert load_policy(tmp_path / "p", ["mofa.example"]).warnings() == []
