"""The register: `fingerprint add/list/remove`, and what the detector finds in messages.

Documents are registered through the real command (which reads files through the
extraction stage) and messages go through `pipeline.inspect_message`, the worker's code
path: real PDFs, DOCX, scans and OCR, no mocks.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import docgen
import fingerprint_corpus as corpus
import pytest

from dlp_gateway.cli import main
from dlp_gateway.config import load_settings
from dlp_gateway.model import Finding, Level
from dlp_gateway.pipeline import WorkerContext, inspect_message


def register(data_dir: Path, path: Path, label: str, *extra: str) -> str:
    """Register one file; return its document id."""
    code = main(["fingerprint", "add", "--data-dir", str(data_dir), "--label", label, "--json", *extra, str(path)])
    assert code == 0
    return registered(data_dir)[-1]["id"]


def registered(data_dir: Path) -> list[dict]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["fingerprint", "list", "--json", "--data-dir", str(data_dir)]) == 0
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def fingerprint_findings(data_dir: Path, raw: bytes) -> list[Finding]:
    ctx = WorkerContext.from_settings(load_settings(None, {"data_dir": str(data_dir)}))
    report = inspect_message(raw, ctx)
    return [f for f in report.findings if f.detector == "fingerprint"]


@pytest.fixture()
def cable_register(tmp_path: Path) -> tuple[Path, str]:
    """A data dir with the cable PDF registered (as `secret`) and the memo registered."""
    data_dir = tmp_path / "data"
    pdf = tmp_path / "cable.pdf"
    pdf.write_bytes(corpus.cable_pdf())
    doc_id = register(data_dir, pdf, "cable 115-0042", "--level", "secret")
    memo = tmp_path / "memo.txt"
    memo.write_text(corpus.MEMO, encoding="utf-8")
    register(data_dir, memo, "delegation brief")
    return data_dir, doc_id


def test_the_registered_file_itself_matches_exactly(cable_register):
    data_dir, doc_id = cable_register
    original = (data_dir.parent / "cable.pdf").read_bytes()
    raw = docgen.make_message("資料", "請參閱附件。", [("附件.pdf", original, "application/pdf")])
    findings = fingerprint_findings(data_dir, raw)
    assert [(f.document_id, f.rule, f.location) for f in findings] == [(doc_id, "fingerprint.exact_file", "附件.pdf")]
    finding = findings[0]
    assert finding.label == "cable 115-0042"
    assert finding.level == Level.SECRET
    assert finding.share_of_part == 1.0 and finding.share_of_document == 1.0


def test_paragraphs_pasted_into_a_mail_body_match_with_both_shares(cable_register):
    data_dir, doc_id = cable_register
    paragraphs = corpus.paragraphs(corpus.CABLE)
    body = "各位好，轉知如下，請參考：\n\n" + paragraphs[1] + "\n" + paragraphs[3] + "\n\n謝謝，王"
    findings = fingerprint_findings(data_dir, docgen.make_message("轉知", body))
    assert len(findings) == 1
    finding = findings[0]
    assert finding.document_id == doc_id and finding.rule == "fingerprint.partial"
    assert finding.share_of_part > 0.7  # the body is mostly the pasted text
    assert 0.2 < finding.share_of_document < 0.6  # two of five paragraphs


def test_the_text_re_laid_out_in_another_pdf_matches(cable_register):
    data_dir, doc_id = cable_register
    raw = docgen.make_message("fw", "", [("copy.pdf", corpus.cable_relaid_pdf(), "application/pdf")])
    findings = fingerprint_findings(data_dir, raw)
    assert [f.document_id for f in findings] == [doc_id]
    assert findings[0].share_of_document > 0.9


def test_the_text_pasted_into_a_docx_matches(cable_register):
    data_dir, doc_id = cable_register
    docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    raw = docgen.make_message("fw", "見附件", [("notes.docx", corpus.cable_docx(), docx_type)])
    findings = fingerprint_findings(data_dir, raw)
    assert [f.document_id for f in findings] == [doc_id]
    assert findings[0].location == "notes.docx"
    assert findings[0].share_of_document > 0.9


def test_simplified_script_rendering_matches(cable_register):
    import opencc

    data_dir, doc_id = cable_register
    simplified = opencc.OpenCC("t2s").convert(corpus.CABLE)
    findings = fingerprint_findings(data_dir, docgen.make_message("fw", simplified))
    assert [f.document_id for f in findings] == [doc_id]


@pytest.mark.slow
def test_a_scanned_copy_matches_through_ocr(cable_register):
    data_dir, doc_id = cable_register
    raw = docgen.make_message("scan", "", [("scan.pdf", corpus.cable_scanned_pdf(), "application/pdf")])
    findings = fingerprint_findings(data_dir, raw)
    assert [f.document_id for f in findings] == [doc_id]
    assert findings[0].share_of_document > 0.4  # OCR noise costs some fingerprints, not the match


def test_unrelated_text_on_the_same_subject_does_not_match(cable_register):
    data_dir, _ = cable_register
    raw = docgen.make_message("簽證與經貿", corpus.SAME_SUBJECT,
                              [("note.pdf", docgen.make_pdf(["\n".join(corpus.wrap(corpus.SAME_SUBJECT, 36))]),
                                "application/pdf")])
    assert fingerprint_findings(data_dir, raw) == []
    english = docgen.make_message("investment talks", corpus.MEMO_SAME_SUBJECT)
    assert fingerprint_findings(data_dir, english) == []


def test_english_text_matches_by_word_k_grams(cable_register):
    data_dir, _ = cable_register
    memo_id = registered(data_dir)[1]["id"]
    excerpt = corpus.paragraphs(corpus.MEMO)[1]
    findings = fingerprint_findings(data_dir, docgen.make_message("fyi", "Forwarding this:\n" + excerpt))
    assert [f.document_id for f in findings] == [memo_id]
    assert findings[0].level is None  # registered without a level


def test_list_shows_documents_without_their_text(cable_register):
    data_dir, doc_id = cable_register
    docs = registered(data_dir)
    assert [d["label"] for d in docs] == ["cable 115-0042", "delegation brief"]
    assert docs[0]["id"] == doc_id and docs[0]["level"] == "secret" and docs[0]["fingerprints"] > 40
    assert "外交部" not in json.dumps(docs, ensure_ascii=False)


def test_a_removed_document_no_longer_matches(cable_register):
    data_dir, doc_id = cable_register
    assert main(["fingerprint", "remove", "--data-dir", str(data_dir), doc_id]) == 0
    assert [d["label"] for d in registered(data_dir)] == ["delegation brief"]
    raw = docgen.make_message("資料", corpus.CABLE, [("附件.pdf", corpus.cable_pdf(), "application/pdf")])
    assert fingerprint_findings(data_dir, raw) == []


def test_removing_an_unknown_id_is_reported(cable_register, capsys):
    data_dir, _ = cable_register
    assert main(["fingerprint", "remove", "--data-dir", str(data_dir), "fp-nosuchthing"]) == 1
    assert "no registered document" in capsys.readouterr().err


def test_a_bad_level_is_a_usage_error(tmp_path, capsys):
    memo = tmp_path / "memo.txt"
    memo.write_text(corpus.MEMO, encoding="utf-8")
    code = main(["fingerprint", "add", "--data-dir", str(tmp_path / "d"), "--label", "x", "--level", "ultra", str(memo)])
    assert code == 2
    assert "unknown level" in capsys.readouterr().err


def test_a_running_detector_sees_documents_registered_later(tmp_path, monkeypatch):
    from dlp_gateway.detect import fingerprints

    monkeypatch.setattr(fingerprints, "RELOAD_CHECK_SECONDS", 0.0)
    data_dir = tmp_path / "data"
    ctx = WorkerContext.from_settings(load_settings(None, {"data_dir": str(data_dir)}))
    raw = docgen.make_message("fyi", corpus.MEMO)
    assert [f for f in inspect_message(raw, ctx).findings if f.detector == "fingerprint"] == []
    memo = tmp_path / "memo.txt"
    memo.write_text(corpus.MEMO, encoding="utf-8")
    doc_id = register(data_dir, memo, "brief")
    found = [f for f in inspect_message(raw, ctx).findings if f.detector == "fingerprint"]
    assert [f.document_id for f in found] == [doc_id]


@pytest.mark.slow
def test_a_document_registered_from_a_scan_is_recognised_in_text_form(tmp_path):
    data_dir = tmp_path / "data"
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(corpus.cable_scanned_pdf())
    doc_id = register(data_dir, scan, "cable (paper copy)")
    assert registered(data_dir)[0]["fingerprints"] > 30  # read by OCR
    paragraphs = corpus.paragraphs(corpus.CABLE)
    findings = fingerprint_findings(data_dir, docgen.make_message("fw", paragraphs[0] + paragraphs[2]))
    assert [f.document_id for f in findings] == [doc_id]
