"""Hold reasons in an officer's words (policy/reasons.py), from real messages and the shipped policy.

Messages are built in code and run through the real extraction, detection and the
shipped `policies/default.yaml`; the category comes from the decision and the report.
Problems that other readers may stop reporting as they grow more tolerant (malformed
MIME, unknown transfer encodings) are checked on the mapping itself, from the report
data `scan --json` prints and the quarantine index stores.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import docgen
import pytest

from dlp_gateway import metrics
from dlp_gateway.cli import main
from dlp_gateway.config import Settings, load_settings
from dlp_gateway.gateway import Gateway
from dlp_gateway.model import Decision, Envelope, InspectionReport
from dlp_gateway.pipeline import WorkerContext, inspect_message
from dlp_gateway.policy import load_policy
from dlp_gateway.policy.reasons import categorise, problem_category, reason_for
from tests.gatewayproc import Sink

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "policies"
LETTER = "外交部　函\n發文字號：外政字第1150012345號\n主旨：有關雙邊經貿諮商會議籌備事宜，請查照。"


def settings(tmp_path: Path, **overrides: object) -> Settings:
    return load_settings(None, {"data_dir": str(tmp_path / "data"), "policy.dir": str(SHIPPED), **overrides})


def decide(tmp_path: Path, raw: bytes, **overrides: object) -> tuple[Decision, InspectionReport]:
    s = settings(tmp_path, **overrides)
    report = inspect_message(raw, WorkerContext.from_settings(s))
    [decision] = load_policy(s.policy_dir).decide(report, Envelope("a@mission.example", ("b@mofa.example",)))
    return decision, report


def reason(tmp_path: Path, raw: bytes, **overrides: object) -> str:
    return reason_for(*decide(tmp_path, raw, **overrides))


def with_attachment(name: str, data: bytes, ctype: str) -> bytes:
    return docgen.make_message("資料", "請參閱附件", [(name, data, ctype)])


# --- from real messages --------------------------------------------------------------


def test_a_marked_message_is_held_for_a_classified_marking_with_its_level(tmp_path: Path) -> None:
    raw = docgen.make_message("s", LETTER + "\n極機密（本件於公布時解密）")
    assert reason(tmp_path, raw) == "classified marking (secret)"


def test_an_encrypted_zip_is_held_as_a_password_protected_file(tmp_path: Path) -> None:
    raw = with_attachment("a.zip", docgen.make_encrypted_zip({"a.txt": b"text"}), "application/zip")
    assert reason(tmp_path, raw) == "password-protected file"


def test_an_smime_encrypted_attachment_is_held_as_encrypted_content(tmp_path: Path) -> None:
    raw = with_attachment("smime.p7m", b"\x30\x82\x01\x00" + b"\x01" * 200, "application/pkcs7-mime")
    assert reason(tmp_path, raw) == "encrypted content"


def test_nesting_beyond_max_depth_is_held_as_that_limit(tmp_path: Path) -> None:
    nested = docgen.make_nested_zip("deep.txt", b"bottom", levels=6)
    raw = with_attachment("nest.zip", nested, "application/zip")
    assert reason(tmp_path, raw, **{"limits.max_depth": 3}) == "limit exceeded: max_depth"


def test_a_pdf_that_cannot_be_opened_is_held_as_a_damaged_file(tmp_path: Path) -> None:
    raw = with_attachment("report.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 4, "application/pdf")
    assert reason(tmp_path, raw) == "damaged file"


def test_restricted_content_without_a_certificate_is_held_for_its_marking(tmp_path: Path) -> None:
    # encrypt falls back to quarantine: the hold is about the content, not the fallback
    decision, report = decide(tmp_path, docgen.make_message("s", "UNCLASSIFIED//FOR OFFICIAL USE ONLY\n\nnotes\n\n"
                                                                  "UNCLASSIFIED//FOR OFFICIAL USE ONLY"))
    assert (decision.rule, reason_for(decision, report)) == ("restricted-encrypt", "classified marking (restricted)")


def test_the_category_follows_the_problem_the_rule_matched(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "p.yaml").write_text("default: {action: deliver}\nrules:\n"
                                     "  - {name: locked, when: {problem: [encrypted]}, action: quarantine}\n")
    raw = docgen.make_message("s", "b", [("a.pdf", b"%PDF-1.7\nbroken", "application/pdf"),
                                        ("b.zip", docgen.make_encrypted_zip({"a.txt": b"x"}), "application/zip")])
    decision, report = decide(tmp_path, raw, **{"policy.dir": str(policies)})
    assert [p.kind.value for p in report.problems][0] == "corrupt"
    assert reason_for(decision, report) == "password-protected file"


def test_a_program_held_by_a_file_type_rule_is_categorised_as_executable(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "p.yaml").write_text("default: {action: deliver}\nrules:\n"
                                     "  - {name: programs, when: {file_type: [application/x-dosexec]}, action: quarantine}\n")
    pe = b"MZ" + b"\x90" * 58 + (64).to_bytes(4, "little") + b"PE\x00\x00" + b"\x4c\x01\x01\x00" + bytes(300)
    decision, report = decide(tmp_path, with_attachment("invoice.pdf", pe, "application/pdf"),
                              **{"policy.dir": str(policies)})
    assert (decision.rule, reason_for(decision, report)) == ("programs", "executable")


# --- the mapping over report data ------------------------------------------------------


@pytest.mark.parametrize(("kind", "detail", "limit", "category"), [
    ("encrypted", "encrypted content (S/MIME or OpenPGP); not readable", None, "encrypted content"),
    ("encrypted", "password-protected PDF; content not readable", None, "password-protected file"),
    ("encrypted", "encrypted 7z archive; not readable", None, "password-protected file"),
    ("corrupt", "damaged PDF (cross-reference rebuilt); some content may be missing", None, "damaged file"),
    ("corrupt", "malformed MIME structure: StartBoundaryNotFoundDefect", None, "malformed message structure"),
    ("unsupported", "no reader for application/x-foo; content not inspected", None, "unsupported format"),
    ("unsupported", "unknown transfer encoding 'x-gzip64'; read as is", None, "unknown transfer encoding"),
    ("unsupported", "unknown charset 'x-foo'; the text may be imperfect", None, "unknown character set"),
    ("unsupported", "opaque-signed S/MIME: the signed content is not unpacked", None, "signed content not unpacked"),
    ("unsupported", "message/partial: part 1 of 3 cannot be read whole", None, "message/partial (incomplete message)"),
    ("unsupported", "message/external-body: the content is not in this message (only a reference to it)", None,
     "message/external-body (content not in the message)"),
    ("unsupported", "application/zip outside the parsed MIME structure: the content is not all here", None,
     "malformed message structure"),
    ("limit_exceeded", "more than 10 levels", "max_depth", "limit exceeded: max_depth"),
    ("limit_exceeded", "stopped", "max_seconds", "inspection timed out"),
    ("timeout", "inspection stopped after 120 s; the rest was not read", "max_seconds", "inspection timed out"),
])
def test_each_problem_maps_to_its_category(kind: str, detail: str, limit: str | None, category: str) -> None:
    assert problem_category(kind, detail, limit) == category


def test_a_problem_rule_is_categorised_by_the_problem_it_names() -> None:
    problems = [{"kind": "unsupported", "location": "body", "detail": "unknown transfer encoding '7-bit'; read as is",
                 "limit": None}]
    why = "unsupported content at body: unknown transfer encoding '7-bit'; read as is"
    assert categorise("uninspectable", why, [], problems) == "unknown transfer encoding"


def test_an_executable_type_rule_is_categorised_as_executable() -> None:
    assert categorise("no-programs", "setup.exe is application/x-dosexec", [], []) == "executable"
    assert categorise("no-programs", "run.py is text/x-script.python", [], []) == "executable"
    assert categorise("no-7z", "a.7z is application/x-7z-compressed", [], []) == "blocked file type"


def test_a_registered_document_rule_is_categorised_as_registered_document() -> None:
    why = "registered document 'cable-2026' (80%) at a.pdf"
    assert categorise("registered-document", why, [], []) == "registered document"


def test_a_monitor_decision_is_categorised_by_what_it_would_have_held() -> None:
    findings = [{"detector": "markings", "rule": "roc_banner", "level": "top_secret"}]
    why = "level top_secret (at a.pdf › page 1) is at least confidential"
    for prefix in ("monitor: would have quarantine: ", "monitor: would quarantine: "):  # policy's, gateway's
        assert categorise("trial", prefix + why, findings, []) == "classified marking (top secret)"


def test_a_rule_on_the_envelope_is_categorised_by_its_name() -> None:
    assert categorise("block-partner", "recipient b@partner.example matches partner.example", [], []) \
        == "policy rule: block-partner"


# --- where the category is shown -------------------------------------------------------


def test_scan_json_names_the_reason_of_a_hold(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    eml = tmp_path / "locked.eml"
    eml.write_bytes(with_attachment("a.zip", docgen.make_encrypted_zip({"a.txt": b"x"}), "application/zip"))
    code = main(["scan", "--json", "--data-dir", str(tmp_path / "data"), "--policy", str(SHIPPED), str(eml)])
    result = json.loads(capsys.readouterr().out)
    assert code == 1
    assert (result["action"], result["reason"]) == ("quarantine", "password-protected file")
    assert result["why"].startswith("encrypted content at a.zip")


class InProcessInspector:
    """The real pipeline in this process (the worker pool has its own tests)."""

    def __init__(self, settings: Settings) -> None:
        self.ctx = WorkerContext.from_settings(settings)

    async def start(self) -> None: ...

    async def inspect(self, raw: bytes) -> InspectionReport:
        return inspect_message(raw, self.ctx)

    async def reload(self) -> None: ...

    async def close(self) -> None: ...


def test_a_hold_is_counted_by_its_reason_in_the_metrics(tmp_path: Path, sink: Sink) -> None:
    s = settings(tmp_path, **{"delivery.upstream": sink.address, "delivery.tls": "none",
                              "log.decision_log": str(tmp_path / "decisions.jsonl"), "smtp.hostname": "gw.test"})
    counter = metrics.HOLDS.labels(reason="password-protected file")
    before = counter._value.get()
    raw = with_attachment("a.zip", docgen.make_encrypted_zip({"a.txt": b"x"}), "application/zip")

    async def run() -> None:
        gateway = Gateway(s, policy=load_policy(SHIPPED), inspector=InProcessInspector(s))
        await gateway.start()
        try:
            reply = await gateway.handle(Envelope("a@mission.example", ("b@mofa.example",)), raw)
            assert reply.code == 250
        finally:
            await gateway.close()

    asyncio.run(run())
    assert counter._value.get() == before + 1
    [record] = [json.loads(line) for line in (tmp_path / "decisions.jsonl").read_text().splitlines()]
    assert (record["action"], record["reason"]) == ("quarantine", "password-protected file")


def hold(tmp_path: Path, raw: bytes) -> str:
    """Quarantine `raw` as the gateway would: real inspection, the shipped policy, the real store."""
    from dlp_gateway.store.quarantine import QuarantineStore

    decision, report = decide(tmp_path, raw)
    store = QuarantineStore(tmp_path / "data")
    try:
        envelope = Envelope("a@mission.example", ("b@mofa.example",))
        return store.put(envelope, raw, [decision.recipient], decision.rule, decision.reason, report).id
    finally:
        store.close()


def test_quarantine_list_shows_the_reason_of_each_hold(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    locked = hold(tmp_path, with_attachment("a.zip", docgen.make_encrypted_zip({"a.txt": b"x"}), "application/zip"))
    marked = hold(tmp_path, docgen.make_message("s", LETTER + "\n極機密（本件於公布時解密）"))
    assert main(["quarantine", "list", "--data-dir", str(tmp_path / "data")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "REASON" in lines[0]
    assert any(locked in line and "password-protected file" in line for line in lines)
    assert any(marked in line and "classified marking (secret)" in line for line in lines)


def test_quarantine_list_filters_by_reason(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    locked = hold(tmp_path, with_attachment("a.zip", docgen.make_encrypted_zip({"a.txt": b"x"}), "application/zip"))
    hold(tmp_path, docgen.make_message("s", LETTER + "\n極機密（本件於公布時解密）"))
    assert main(["quarantine", "list", "--json", "--reason", "Password", "--data-dir", str(tmp_path / "data")]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["category"]) for r in rows] == [(locked, "password-protected file")]


def test_a_problem_named_in_a_joined_explanation_is_found_by_its_location() -> None:
    # the quarantine joins explanations with "; ", which also occurs inside details
    problems = [{"kind": "unsupported", "location": "a.doc", "detail": "OLE file of unknown kind; content not inspected"},
                {"kind": "unsupported", "location": "b.txt", "detail": "unknown charset 'x'; the text may be imperfect"}]
    why = "unsupported content at b.txt: unknown charset 'x'; the text may be imperfect"
    assert categorise("uninspectable", why, [], problems) == "unknown character set"


def test_quarantine_show_names_the_reason_and_the_rules_explanation(capsys: pytest.CaptureFixture[str],
                                                                     tmp_path: Path) -> None:
    locked = hold(tmp_path, with_attachment("a.zip", docgen.make_encrypted_zip({"a.txt": b"x"}), "application/zip"))
    assert main(["quarantine", "show", locked, "--data-dir", str(tmp_path / "data")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "reason:      password-protected file" in lines
    assert any(line.startswith("why:         encrypted content at a.zip") for line in lines)


def test_a_defect_read_through_is_on_the_decision_record_and_the_message_delivered(tmp_path: Path, sink: Sink) -> None:
    s = settings(tmp_path, **{"delivery.upstream": sink.address, "delivery.tls": "none",
                              "log.decision_log": str(tmp_path / "decisions.jsonl"), "smtp.hostname": "gw.test"})
    raw = (b"From: a@mission.example\r\nTo: b@mofa.example\r\nSubject: minutes\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7-bit\r\n\r\n"
           b"Minutes of the weekly meeting.\r\n")

    async def run() -> int:
        gateway = Gateway(s, policy=load_policy(SHIPPED), inspector=InProcessInspector(s))
        await gateway.start()
        try:
            return (await gateway.handle(Envelope("a@mission.example", ("b@mofa.example",)), raw)).code
        finally:
            await gateway.close()

    assert asyncio.run(run()) == 250
    [record] = [json.loads(line) for line in (tmp_path / "decisions.jsonl").read_text().splitlines()]
    assert record["action"] == "deliver" and record["problems"] == []
    assert any("7-bit" in note["detail"] for note in record["notes"])
