"""The hand-written realistic corpus (tests/markings_realistic.py) through the worker path.

Independent of the generated corpus: different wording, different layouts, written from
how ministry, embassy, US, NATO and PRC documents and everyday ministry mail look. Each
message is inspected exactly as in a worker (`pipeline.inspect_message`) and the highest
level found is compared with the label; recall, false alarms and level accuracy are
printed with every miss and false alarm.
"""

from __future__ import annotations

import pytest
from markings_realistic import RealCase, build_realistic

from dlp_gateway.config import load_settings
from dlp_gateway.model import Level
from dlp_gateway.pipeline import WorkerContext, inspect_message


@pytest.fixture(scope="module")
def ctx(tmp_path_factory) -> WorkerContext:
    settings = load_settings(None, {"data_dir": str(tmp_path_factory.mktemp("realistic")),
                                    "detect.fingerprints": False})
    return WorkerContext.from_settings(settings)


@pytest.fixture(scope="module")
def results(ctx) -> list[tuple[RealCase, Level | None, list[str]]]:
    out = []
    for case in build_realistic():
        report = inspect_message(case.message, ctx)
        evidence = [f"{f.detector}:{f.rule}:{f.level.label}:{f.location}:{f.evidence}"
                    for f in report.findings if f.level is not None]
        out.append((case, report.level, evidence))
    return out


def _figures(results):
    positives = [(c, got) for c, got, _ in results if c.expected is not None]
    negatives = [(c, got) for c, got, _ in results if c.expected is None]
    detected = [c for c, got in positives if got is not None]
    right = [c for c, got in positives if got == c.expected]
    false_alarms = [c for c, got in negatives if got is not None]
    return positives, negatives, detected, right, false_alarms


def test_realistic_corpus_figures(results, capsys):
    positives, negatives, detected, right, false_alarms = _figures(results)
    with capsys.disabled():
        print(f"\nrealistic corpus: {len(positives)} marked, {len(negatives)} unmarked")
        print(f"  recall {len(detected) / len(positives):.2%}  level right {len(right) / len(positives):.2%}"
              f"  false alarms {len(false_alarms) / len(negatives):.2%}")
        for case, got, evidence in results:
            if got != case.expected:
                print(f"  ! {case.name}: expected {case.expected.label if case.expected else None}, "
                      f"got {got.label if got else None} {evidence[:3]}")
    assert len(positives) >= 60 and len(negatives) >= 40
    assert len(detected) / len(positives) >= 0.98


def test_realistic_corpus_level_is_right(results):
    positives, _, _, right, _ = _figures(results)
    assert len(right) / len(positives) >= 0.98, [c.name for c, got in positives if got != c.expected]


def test_realistic_corpus_false_alarms_at_most_two_percent(results):
    _, negatives, _, _, false_alarms = _figures(results)
    assert len(false_alarms) / len(negatives) <= 0.02, [c.name for c in false_alarms]


def test_realistic_corpus_every_place_is_covered(results):
    places = {(c.where, c.expected is None) for c, _, _ in results}
    assert places >= {("body", False), ("body", True), ("subject", False), ("subject", True),
                      ("attachment", False), ("attachment", True)}


@pytest.mark.slow
def test_scanned_sign_memo_with_stamped_level_is_found_by_ocr(ctx):
    """One scanned page (OCR costs seconds): a 簽 with a stamped, spaced 極　機　密 on top."""
    import docgen

    lines = ["極　機　密", "簽　於北美司", "主旨：擬派員出席區域安全閉門研討會，簽請鑒核。", "說明：與會名單如附件。"]
    pdf = docgen.make_scanned_pdf(lines)
    report = inspect_message(docgen.make_message("掃描", "請參考附件內容。", [("scan.pdf", pdf, "application/pdf")]), ctx)
    assert report.level == Level.SECRET


@pytest.mark.parametrize("line", ["機密\n", "SECRET\n", "文件\t機密\n", "極機密\n機密\n", "外交部　　機密\n",
                                  "密等：機密　", "机密★1年 ", "機密（本件至120年1月1日解密）"])
def test_a_text_of_nothing_but_candidates_takes_linear_time(line):
    """20,000 candidates (a hostile or machine-made attachment), on separate lines or all on
    one line: every candidate used to be compared with every other one, and quoting and
    example cues were looked for from the start of the line (13 s to 55 s); now linear."""
    import time

    from dlp_gateway.detect.markings import MarkingDetector
    from dlp_gateway.model import Inspection, Segment

    text = line * 20_000
    started = time.process_time()
    findings = MarkingDetector().detect(Inspection(segments=[Segment(text, "a.txt", "a.txt", "page")]))
    assert time.process_time() - started < 3.0
    assert len(findings) <= 25
