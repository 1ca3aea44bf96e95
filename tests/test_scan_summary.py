"""`dlp-gateway scan --summary DIR...`: a survey of a directory of messages, by action and reason."""

from __future__ import annotations

import json
from pathlib import Path

import docgen
import pytest

from dlp_gateway.cli import main

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = str(ROOT / "policies")
LETTER = "外交部　函\n發文字號：外政字第1150012345號\n主旨：有關雙邊經貿諮商會議籌備事宜，請查照。"


def corpus(tmp_path: Path) -> Path:
    """Clean, marked, encrypted ZIP, junk and empty files, some in a subdirectory.

    The junk is printable noise: what binary junk gets is up to the readers and the
    policy (see test_summary_survives_junk_and_empty_files), not to the survey."""
    root = tmp_path / "mail"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "clean.eml").write_bytes(docgen.make_message("午餐", "明天中午一起吃飯嗎？"))
    (root / "clean2.eml").write_bytes(docgen.make_message("lunch", "see you at noon"))
    (root / "sub" / "marked.eml").write_bytes(docgen.make_message("s", LETTER + "\n極機密（本件於公布時解密）"))
    (root / "sub" / "locked.eml").write_bytes(docgen.make_message(
        "資料", "附件", [("a.zip", docgen.make_encrypted_zip({"a.txt": b"x"}), "application/zip")]))
    (root / "sub" / "deeper" / "locked2.eml").write_bytes(docgen.make_message(
        "資料", "附件", [("b.zip", docgen.make_encrypted_zip({"b.txt": b"y"}), "application/zip")]))
    (root / "junk.txt").write_bytes(bytes(range(32, 127)) * 40)
    (root / "empty.eml").write_bytes(b"")
    return root


def summary(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> tuple[int, dict]:
    code = main(["scan", "--summary", "--json", "--data-dir", str(tmp_path / "data"), "--policy", SHIPPED, *args])
    return code, json.loads(capsys.readouterr().out)


def test_summary_counts_every_file_under_the_directories_by_action(capsys, tmp_path):
    code, out = summary(capsys, tmp_path, str(corpus(tmp_path)))
    assert code == 0
    assert out["total"] == 7
    assert out["actions"] == {"deliver": 4, "quarantine": 3}
    assert out["held"] == 3 and out["held_share"] == round(3 / 7, 4)


def test_summary_groups_held_messages_by_reason_with_examples(capsys, tmp_path):
    root = corpus(tmp_path)
    _, out = summary(capsys, tmp_path, "--examples", "1", str(root))
    assert out["reasons"] == {
        "password-protected file": {"count": 2, "examples": [str(root / "sub" / "locked.eml")]},
        "classified marking (secret)": {"count": 1, "examples": [str(root / "sub" / "marked.eml")]},
    }


def test_summary_survives_junk_and_empty_files(capsys, tmp_path):
    root = tmp_path / "odd"
    root.mkdir()
    (root / "empty").write_bytes(b"")
    (root / "junk").write_bytes(b"\x00\x01\x02\xff" * 5000)
    (root / "headers-only").write_bytes(b"Content-Type: multipart/mixed; boundary=x\r\n")
    code, out = summary(capsys, tmp_path, str(root))
    assert code == 0
    assert out["total"] == 3 and sum(out["actions"].values()) == 3
    assert "error" not in out["actions"]


def test_summary_counts_a_file_it_cannot_read_and_goes_on(capsys, tmp_path):
    root = tmp_path / "m"
    root.mkdir()
    (root / "a.eml").write_bytes(docgen.make_message("s", "hello"))
    (root / "b.eml").symlink_to(root / "missing.eml")  # listed, but unreadable
    code, out = summary(capsys, tmp_path, str(root), str(root / "a.eml"))  # a.eml named twice counts once
    assert code == 0
    assert out["total"] == 2
    assert out["actions"] == {"deliver": 1, "error": 1}
    assert out["reasons"] == {"unreadable file": {"count": 1, "examples": [str(root / "b.eml")]}}


def test_summary_of_a_path_that_does_not_exist_is_a_usage_error(capsys, tmp_path):
    code = main(["scan", "--summary", "--data-dir", str(tmp_path / "data"), "--policy", SHIPPED, str(tmp_path / "nope")])
    assert code == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_human_summary_lists_actions_and_reasons(capsys, tmp_path):
    root = corpus(tmp_path)
    code = main(["scan", "--summary", "--data-dir", str(tmp_path / "data"), "--policy", SHIPPED, str(root)])
    out = capsys.readouterr().out
    assert code == 0
    assert "messages: 7" in out
    assert "quarantine       3" in out
    assert "     2  password-protected file" in out
    assert f"e.g. {root / 'sub' / 'marked.eml'}" in out


def test_summary_names_messages_over_the_smtp_message_size(capsys, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("smtp: {max_message_size: 2048}\n")
    root = tmp_path / "m"
    root.mkdir()
    (root / "big.eml").write_bytes(docgen.make_message("s", "ordinary words\n" * 300))
    (root / "small.eml").write_bytes(docgen.make_message("s", "short"))
    code, out = summary(capsys, tmp_path, "--config", str(config), str(root))
    assert code == 0
    assert out["over_smtp_limits"] == {"max_message_size": {"count": 1, "examples": [str(root / "big.eml")]}}


def test_a_negative_number_of_examples_is_a_usage_error(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["scan", "--summary", "--examples", "-1", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "expected a whole number of 0 or more" in capsys.readouterr().err


def test_isolated_summary_counts_as_the_in_process_one(capsys, tmp_path):
    root = corpus(tmp_path)
    _, in_process = summary(capsys, tmp_path, str(root))
    code, isolated = summary(capsys, tmp_path, "--isolated", str(root))
    assert code == 0
    assert (isolated["actions"], isolated["reasons"]) == (in_process["actions"], in_process["reasons"])


def test_isolated_summary_counts_an_inspection_past_its_time_as_tempfail(capsys, tmp_path):
    # the worker is killed at limits.max_seconds + workers.timeout_margin_seconds, as in the relay
    config = tmp_path / "config.yaml"
    config.write_text("limits: {max_seconds: 0.001}\nworkers: {processes: 1, timeout_margin_seconds: 0}\n")
    root = tmp_path / "m"
    root.mkdir()
    (root / "big.eml").write_bytes(docgen.make_message("s", "ordinary words of a long report\n" * 40000))
    code, out = summary(capsys, tmp_path, "--isolated", "--config", str(config), str(root))
    assert code == 0
    assert out["actions"] == {"tempfail": 1}
    assert out["reasons"] == {"inspection timed out": {"count": 1, "examples": [str(root / "big.eml")]}}
