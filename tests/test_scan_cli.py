"""`dlp-gateway scan [--json] FILE.eml...`: the relay's inspection and policy, without sending."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import docgen
import pytest
import smime_certs

from dlp_gateway.cli import main
from dlp_gateway.commands.scan import contract_action
from dlp_gateway.model import Decision

LETTER = ("外交部　函\n發文字號：外政字第1150012345號\n密等及解密條件或保密期限：{field}\n"
          "主旨：有關雙邊經貿諮商會議籌備事宜，請查照。\n說明：請依規定辦理。")


def write(tmp_path: Path, name: str, message: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(message)
    return str(path)


def scan(capsys, tmp_path: Path, *args: str) -> tuple[int, list[dict]]:
    code = main(["scan", "--json", "--data-dir", str(tmp_path / "data"), *args])
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines() if line.strip()]


def test_a_clean_message_is_delivered_with_exit_status_0(capsys, tmp_path):
    eml = write(tmp_path, "clean.eml", docgen.make_message("午餐", LETTER.format(field="")))
    code, [result] = scan(capsys, tmp_path, eml)
    assert code == 0
    assert (result["file"], result["action"], result["level"], result["rule"]) == (eml, "deliver", None, "default")
    # the document number is reported as a signal, with no level
    assert [(f["rule"], f["level"]) for f in result["findings"]] == [("official_documents.roc_document_number", None)]


def test_a_marked_attachment_is_quarantined_with_exit_status_1(capsys, tmp_path):
    pdf = docgen.make_pdf([LETTER.format(field="")], header="機　密")
    eml = write(tmp_path, "marked.eml", docgen.make_message("資料", "附件", [("a.pdf", pdf, "application/pdf")]))
    code, [result] = scan(capsys, tmp_path, eml)
    assert code == 1
    assert (result["action"], result["level"], result["rule"]) == ("quarantine", "confidential", "national-secret")
    banner = [f for f in result["findings"] if f["rule"] == "roc_banner"]
    assert banner and banner[0]["location"] == "a.pdf › page 1 › header" and banner[0]["system"] == "ROC"


def test_one_json_line_per_message_in_order(capsys, tmp_path):
    files = [write(tmp_path, f"m{i}.eml", docgen.make_message("s", LETTER.format(field=field)))
             for i, field in enumerate(["", "極機密（本件於公布時解密）", "普通"])]
    code, results = scan(capsys, tmp_path, *files)
    assert code == 1
    assert [(r["file"], r["action"], r["level"]) for r in results] == [
        (files[0], "deliver", None), (files[1], "quarantine", "secret"), (files[2], "deliver", None)]


def test_an_unreadable_file_is_exit_status_2_and_the_others_are_still_scanned(capsys, tmp_path):
    good = write(tmp_path, "ok.eml", docgen.make_message("s", "hello"))
    code = main(["scan", "--json", "--data-dir", str(tmp_path / "data"), str(tmp_path / "missing.eml"), good])
    captured = capsys.readouterr()
    assert code == 2
    assert "missing.eml" in captured.err and "No such file" in captured.err
    assert json.loads(captured.out)["action"] == "deliver"


def test_restricted_content_is_encrypted_to_a_certificate_holder(capsys, tmp_path):
    certs = tmp_path / "data" / "certs"
    certs.mkdir(parents=True)
    (certs / "desk@mofa.example.pem").write_bytes(smime_certs.recipient("desk@mofa.example").cert_pem())
    eml = write(tmp_path, "r.eml", docgen.make_message("s", LETTER.format(field="密（附件抽存後解密）"),
                                                       to="desk@mofa.example, other@partner.example"))
    code, [result] = scan(capsys, tmp_path, eml)
    by_rcpt = {r["recipient"]: r["action"] for r in result["recipients"]}
    assert by_rcpt == {"desk@mofa.example": "encrypt", "other@partner.example": "quarantine"}
    assert (result["action"], result["level"], code) == ("quarantine", "restricted", 1)


def test_flags_override_the_envelope_from_headers(capsys, tmp_path):
    eml = write(tmp_path, "e.eml", docgen.make_message("s", "hi", to="a@x.example", headers={"Cc": "b@y.example"}))
    _, [from_headers] = scan(capsys, tmp_path, eml)
    _, [from_flags] = scan(capsys, tmp_path, "--rcpt", "c@z.example", "--from", "me@x.example", eml)
    assert [r["recipient"] for r in from_headers["recipients"]] == ["a@x.example", "b@y.example"]
    assert [r["recipient"] for r in from_flags["recipients"]] == ["c@z.example"]


@pytest.mark.parametrize(("action", "params", "mode", "expected"), [
    ("deliver", (), "enforce", "deliver"), ("tag", (), "enforce", "deliver"), ("bcc", (), "enforce", "deliver"),
    ("require_tls", (), "enforce", "deliver"), ("redirect", (), "enforce", "quarantine"),
    ("quarantine", (), "enforce", "quarantine"), ("reject", (), "enforce", "reject"),
    ("quarantine", (), "monitor", "deliver"), ("encrypt", (("fallback", "reject"),), "enforce", "reject"),
    ("encrypt", (("fallback", "deliver"),), "enforce", "deliver"), ("something_new", (), "enforce", "quarantine"),
])
def test_policy_actions_map_to_contract_actions(tmp_path, action, params, mode, expected):
    decision = Decision("x@nocert.example", action, "r", "why", mode, params)
    assert contract_action(decision, tmp_path) == expected


def test_human_output_names_action_rule_level_and_findings(capsys, tmp_path):
    eml = write(tmp_path, "h.eml", docgen.make_message("【機密】電報", "請參閱"))
    code = main(["scan", "--data-dir", str(tmp_path / "data"), eml])
    out = capsys.readouterr().out
    assert code == 1
    assert f"{eml}: quarantine (rule national-secret, level confidential)" in out
    assert "roc_subject confidential ROC at subject" in out


def test_a_rule_file_that_does_not_compile_is_exit_status_2_naming_it(capsys, tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.yar").write_text("rule x {\n condition: and\n}\n")
    config = tmp_path / "config.yaml"
    config.write_text(f"detect:\n  yara_dir: {rules}\n")
    eml = write(tmp_path, "m.eml", docgen.make_message("s", "hi"))
    code = main(["scan", "--config", str(config), "--data-dir", str(tmp_path / "data"), eml])
    assert code == 2
    assert f"{rules / 'bad.yar'}:2:" in capsys.readouterr().err


def test_the_installed_command_runs_and_documents_its_exit_status(tmp_path):
    eml = write(tmp_path, "m.eml", docgen.make_message("s", LETTER.format(field="機密（本件至120年1月1日解密）")))
    run = subprocess.run([sys.executable, "-m", "dlp_gateway", "scan", "--json", "--data-dir", str(tmp_path / "d"), eml],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    assert json.loads(run.stdout)["level"] == "confidential"
    usage = subprocess.run([sys.executable, "-m", "dlp_gateway", "scan", "--help"], capture_output=True, text=True, timeout=60)
    assert "exit status" in usage.stdout and "would not be delivered" in usage.stdout


def test_every_registered_action_has_the_contract_action_the_relay_carries_out(tmp_path):
    from dlp_gateway.actions import load_handlers

    held = {"quarantine", "redirect"}  # the recipient does not get the message
    for name in load_handlers():
        decision = Decision("x@nocert.example", name, "r", "why", "enforce", (("fallback", "deliver"),))
        expected = {"reject": "reject", "tempfail": "tempfail"}.get(name, "quarantine" if name in held else "deliver")
        assert contract_action(decision, tmp_path) == expected, name
