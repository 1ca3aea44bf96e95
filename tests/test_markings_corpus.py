"""The labelled corpus (tests/markings_corpus.py) through the relay's inspection path.

Every generated message is extracted and run through the marking and YARA detectors
exactly as in a worker (`pipeline.inspect_message`); the highest level found is compared
with the label. Recall, false-alarm rate and level accuracy are printed per marking
form and per format, so a regression shows where it happened.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from corpus_scoring import Figures, Result, inspect_cases, worker_context
from markings_corpus import build_corpus

from dlp_gateway.config import load_settings
from dlp_gateway.model import Level
from dlp_gateway.pipeline import WorkerContext, inspect_message


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> list[Result]:
    return inspect_cases(build_corpus(), worker_context(tmp_path_factory.mktemp("corpus-data")))


def test_corpus_covers_every_format_and_form(results):
    formats = Counter(c.fmt for c, _, _ in results)
    for fmt in ("text body (top)", "Subject", "PDF header band", "PDF footer band", "PDF first line",
                "DOCX header", "DOCX table", "XLSX cell", "PPTX slide", "ODT body", "RTF",
                "e-document XML", "HTML body", "Big5 body", "headers", "ZIP › PDF header band",
                "forwarded message (.eml)"):
        assert formats[fmt] > 0, fmt
    figures = Figures.of(results)
    assert len(figures.positives) >= 500 and len(figures.negatives) >= 200


def test_corpus_confusion_figures(results, capsys):
    figures = Figures.of(results)
    positives, negatives, false_alarms = figures.positives, figures.negatives, figures.false_alarms
    missed = [(c, got) for c, got in positives if got is None]
    wrong = [(c, got) for c, got in positives if got is not None and got != c.expected]
    false_alarm_rows = [(c, got) for c, got in negatives if got is not None]
    by_format: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # tp, fn, fp, tn
    for c, got, _ in results:
        row = by_format[c.fmt]
        if c.expected is not None:
            row[0 if got is not None else 1] += 1
        else:
            row[2 if got is not None else 3] += 1
    with capsys.disabled():
        print(f"\nmarkings corpus: {len(positives)} marked, {len(negatives)} unmarked")
        print(f"  recall {figures.recall:.2%}  level right {figures.level_accuracy:.2%}"
              f"  false alarms {figures.false_alarm_rate:.2%}")
        print(f"  confusion: TP {len(figures.detected)}  FN {len(missed)}  FP {len(false_alarms)}"
              f"  TN {len(negatives) - len(false_alarms)}  wrong level {len(wrong)}")
        for fmt, (tp, fn, fp, tn) in sorted(by_format.items()):
            print(f"  {fmt:<40} TP {tp:>3} FN {fn:>3} FP {fp:>3} TN {tn:>3}")
        for c, got in missed + wrong + false_alarm_rows:
            print(f"  ! {c.name}: expected {c.expected.label if c.expected else None}, got {got.label if got else None}")
    assert figures.recall >= 0.98, figures.missed()


def test_corpus_level_is_right(results):
    figures = Figures.of(results)
    assert figures.level_accuracy >= 0.98, figures.wrong_level()


def test_corpus_false_alarms_at_most_two_percent(results):
    figures = Figures.of(results)
    assert figures.false_alarm_rate <= 0.02, [c.name for c in figures.false_alarms]


def test_every_hard_negative_kind_is_mostly_clean(results):
    by_form: dict[str, list[bool]] = defaultdict(list)
    for c, got, _ in results:
        if c.expected is None:
            by_form[c.form].append(got is None)
    for form, clean in by_form.items():
        assert sum(clean) / len(clean) >= 0.9, form


@pytest.mark.slow
def test_scanned_letters_are_read_by_ocr_and_classified(tmp_path):
    """Two scans only (OCR costs seconds a page): a marked letter and an unmarked one."""
    import docgen

    settings = load_settings(None, {"data_dir": str(tmp_path), "detect.fingerprints": False})
    ctx = WorkerContext.from_settings(settings)
    heading = ["外交部　函", "發文字號：外政字第1150012345號"]
    marked = ["極機密", *heading, "密等及解密條件或保密期限：極機密（本件於公布時解密）", "主旨：有關區域安全情勢研析，請查照。"]
    plain = [*heading, "密等及解密條件或保密期限：", "主旨：請同仁定期更新密碼並密切配合。"]
    levels = []
    for lines in (marked, plain):
        pdf = docgen.make_scanned_pdf(lines)
        report = inspect_message(docgen.make_message("掃描檔", "附件", [("scan.pdf", pdf, "application/pdf")]), ctx)
        assert any(s.kind == "ocr" for s in report.inspection.segments)
        levels.append(report.level)
    assert levels == [Level.SECRET, None]
