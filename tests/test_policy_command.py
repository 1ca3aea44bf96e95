"""`dlp-gateway policy check` and `policy test` as an administrator runs them."""

from __future__ import annotations

from dlp_gateway.cli import main
from tests.policy_helpers import write_policy

TRIAL = """\
rules:
  - name: no-drafts-outside
    when: {header: {name: Subject, pattern: "^draft"}, recipient: "*.example"}
    action: quarantine
  - name: tag-partners
    when: {recipient: partner.example}
    action: tag
    subject_prefix: "[EXTERNAL] "
"""


def message(tmp_path, subject: str = "Draft cable", body: str = "Please review.") -> str:
    path = tmp_path / "m.eml"
    path.write_bytes(f"From: Alice <alice@mofa.example>\r\nTo: bob@partner.example\r\nSubject: {subject}\r\n"
                     f"Message-ID: <m1@mofa.example>\r\n\r\n{body}\r\n".encode())
    return str(path)


def test_check_accepts_the_shipped_policy(capsys, tmp_path):
    assert main(["policy", "check", "--data-dir", str(tmp_path)]) == 0
    assert "OK, 5 rule(s)" in capsys.readouterr().out


def test_check_reports_file_line_field_and_exits_1(capsys, tmp_path):
    path = write_policy(tmp_path / "p", "rules:\n  - name: a\n    action: quarantine\n    when: {levle_at_least: secret}\n")
    assert main(["policy", "check", str(tmp_path / "p"), "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:4: rules[0].when.levle_at_least: unknown key" in err


def test_test_names_each_rule_considered_and_the_one_that_matched(capsys, tmp_path):
    write_policy(tmp_path / "p", TRIAL)
    code = main(["policy", "test", message(tmp_path), "--rcpt", "bob@partner.example",
                 "--policy-dir", str(tmp_path / "p"), "--data-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "[x] no-drafts-outside" in out and "header subject matches /^draft/" in out
    assert "tag-partners" not in out.split("Recipient")[1]  # first match wins: later rules are not considered
    assert "=> action quarantine by rule no-drafts-outside (mode enforce)" in out
    assert "Envelope: from <alice@mofa.example>" in out  # --from defaults to the From header


def test_test_shows_the_default_when_nothing_matches(capsys, tmp_path):
    write_policy(tmp_path / "p", TRIAL)
    main(["policy", "test", message(tmp_path, subject="Lunch"), "--rcpt", "carol@mofa.example",
          "--policy-dir", str(tmp_path / "p"), "--data-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert "[ ] no-drafts-outside" in out and "[ ] tag-partners" in out
    assert "[x] default" in out
    assert "=> action deliver by rule default" in out


def test_test_prints_findings_and_the_shipped_policy_decision(capsys, tmp_path):
    path = message(tmp_path, subject="Cable", body="機密（本件至125年3月2日解密）\r\n\r\nThe text of the cable.")
    assert main(["policy", "test", path, "--rcpt", "bob@partner.example", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "level=confidential" in out and "Highest level: confidential" in out
    assert "=> action quarantine by rule national-secret" in out and "incident level: 4" in out
