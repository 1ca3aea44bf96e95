"""Nothing a sender writes can rewrite the officer's terminal (issue #13, "nothing smuggled").

Each test quarantines or scans a real message whose Subject, sender or body carries
terminal control (ESC[2J clears the screen, BEL, an OSC title sequence, the C1 CSI) and
Unicode bidi overrides, runs the real command, and checks that no raw control character
reaches the output while a visible escape does.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from dlp_gateway.audit import DecisionLog
from dlp_gateway.cli import main
from dlp_gateway.commands.serve import PrintableFormatter
from dlp_gateway.config import load_settings
from dlp_gateway.model import Envelope
from dlp_gateway.pipeline import WorkerContext, inspect_message
from dlp_gateway.store.quarantine import QuarantineStore
from dlp_gateway.termsafe import json_text, printable

# C0 (newline and tab are checked separately where the layout keeps them), DEL, C1, bidi.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HOSTILE_SUBJECT = "Lunch \x1b[2J\x07 menu \u202egpj.exe\u202c \x9b31m"
HOSTILE_SENDER = "evil\x1b]0;owned\x07@attacker.test"


def hostile_message() -> bytes:
    return (
        "From: <evil@attacker.test>\r\nTo: <bob@example.test>\r\n"
        f"Subject: {HOSTILE_SUBJECT}\r\nMessage-ID: <x\x1b[5m@attacker.test>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "TOP SECRET\r\n\r\nThe plan \x1b[2J is here.\r\n"
    ).encode()


def hold_hostile_message(data_dir: Path) -> str:
    """Quarantine the message the way the relay does: inspect it, then `put` with its report."""
    settings = load_settings(None, {"data_dir": str(data_dir)})
    raw = hostile_message()
    report = inspect_message(raw, WorkerContext.from_settings(settings))
    store = QuarantineStore(data_dir)
    try:
        envelope = Envelope(HOSTILE_SENDER, ("bob@example.test",), peer="127.0.0.1")
        record = store.put(envelope, raw, ["bob@example.test"], "hold-top-secret", "marked \x1b[1mTOP SECRET", report)
    finally:
        store.close()
    assert record.subject == HOSTILE_SUBJECT  # the control characters really are in the index
    return record.id


def test_quarantine_show_prints_subject_and_sender_controls_as_visible_escapes(tmp_path, capsys):
    qid = hold_hostile_message(tmp_path)
    assert main(["quarantine", "show", qid, "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert not RAW_CONTROL.search(out)
    assert "subject:     Lunch \\x1b[2J\\x07 menu \\u202egpj.exe\\u202c \\x9b31m" in out
    assert "from:        <evil\\x1b]0;owned\\x07@attacker.test>" in out


def test_quarantine_show_content_escapes_controls_but_keeps_the_lines(tmp_path, capsys):
    qid = hold_hostile_message(tmp_path)
    assert main(["quarantine", "show", qid, "--content", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert not RAW_CONTROL.search(out)
    assert "\nThe plan \\x1b[2J is here.\n" in out


def test_quarantine_list_prints_sender_controls_as_visible_escapes(tmp_path, capsys):
    hold_hostile_message(tmp_path)
    assert main(["quarantine", "list", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert not RAW_CONTROL.search(out)
    assert "evil\\x1b]0;owned\\x07@attacker.test -> bob@example.test" in out


def test_quarantine_show_json_escapes_c1_and_bidi_yet_parses_to_the_same_subject(tmp_path, capsys):
    qid = hold_hostile_message(tmp_path)
    assert main(["quarantine", "show", qid, "--json", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert not RAW_CONTROL.search(out)
    assert json.loads(out)["subject"] == HOSTILE_SUBJECT


def test_policy_test_prints_message_id_controls_as_visible_escapes(tmp_path, capsys):
    path = tmp_path / "m.eml"
    path.write_bytes(hostile_message())
    assert main(["policy", "test", str(path), "--rcpt", "bob@example.test", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert not RAW_CONTROL.search(out)
    assert "Message-ID <x\\x1b" in out  # the parser keeps the id up to the bracket


def test_scan_human_output_prints_file_name_controls_as_visible_escapes(tmp_path, capsys):
    path = tmp_path / "a\x1b[2Jb\u202e.eml"
    path.write_bytes(hostile_message())
    main(["scan", str(path), "--data-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert not RAW_CONTROL.search(out)
    assert "a\\x1b[2Jb\\u202e.eml: quarantine" in out


def test_log_line_with_a_hostile_address_stays_one_escaped_line():
    record = logging.LogRecord("dlp_gateway.test", logging.WARNING, __file__, 1,
                               "refused <%s>", ("a\x1b[2J\r\nFAKE forged line\u202e@x.test",), None)
    line = PrintableFormatter("%(levelname)s %(message)s").format(record)
    assert line == "WARNING refused <a\\x1b[2J\\x0d\\x0aFAKE forged line\\u202e@x.test>"


def test_decision_log_line_escapes_c1_and_bidi_controls(tmp_path):
    target = tmp_path / "decisions.jsonl"
    log = DecisionLog(str(target))
    log.write({"subject": HOSTILE_SUBJECT, "from": "機密 \u2066x\u2069"})
    log.close()
    text = target.read_text(encoding="utf-8")
    assert not RAW_CONTROL.search(text)
    assert json.loads(text)["subject"] == HOSTILE_SUBJECT
    assert "機密" in text  # other scripts stay readable, not \u-escaped


@pytest.mark.parametrize("text", ["plain ASCII", "極機密 文件", "tab\tand newline\n"])
def test_printable_leaves_ordinary_text_alone_in_multiline_mode(text):
    assert printable(text, multiline=True) == text


def test_printable_escapes_newline_in_a_one_line_field():
    assert printable("Subject\nstatus:      released") == "Subject\\x0astatus:      released"


def test_json_text_is_valid_json_for_every_escaped_character():
    value = "".join(chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
    out = json_text({"v": value})
    assert not RAW_CONTROL.search(out)
    assert json.loads(out) == {"v": value}


def test_quarantine_show_raw_writes_the_exact_bytes_to_a_pipe(tmp_path, capsysbinary):
    qid = hold_hostile_message(tmp_path)
    assert main(["quarantine", "show", qid, "--content", "--raw", "--data-dir", str(tmp_path)]) == 0
    assert capsysbinary.readouterr().out.endswith(hostile_message())


def test_fingerprint_list_prints_label_and_file_name_controls_as_visible_escapes(tmp_path, capsys):
    doc = tmp_path / "cable\x1b[2J.txt"
    doc.write_text("The delegation met the deputy minister to review the agenda of the next round. " * 20)
    assert main(["fingerprint", "add", "--label", "cable \u202eexe.pdf\x07", str(doc), "--data-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["fingerprint", "list", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert not RAW_CONTROL.search(out)
    assert "cable \\u202eexe.pdf\\x07\tcable\\x1b[2J.txt" in out


@pytest.mark.slow
def test_message_held_by_the_real_server_is_shown_without_raw_controls(tmp_path):
    import subprocess
    import sys

    from tests.gatewayproc import REPO, send, start_gateway

    with start_gateway(tmp_path) as gw:
        code, text = send(gw.port, hostile_message(), sender="evil@attacker.test")
        assert code == 250 and "held for review" in text
        qid = text.rsplit(" as ", 1)[1].rstrip(")")
        for args in (["list"], ["show", qid], ["show", qid, "--content"]):
            done = subprocess.run([sys.executable, "-m", "dlp_gateway", "quarantine", *args,
                                   "--config", str(gw.config_path)],
                                  cwd=REPO, capture_output=True, timeout=60)
            assert done.returncode == 0, done.stderr
            out = done.stdout.decode("utf-8")
            assert not RAW_CONTROL.search(out), args
        assert "\\x1b[2J\\x07" in out and "\\u202egpj.exe" in out
        log = gw.log()  # the server's own log lines, written while it held the message
    assert not RAW_CONTROL.search(log.replace("\r", ""))
