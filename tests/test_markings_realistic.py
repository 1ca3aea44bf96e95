"""The hand-written realistic corpus (tests/markings_realistic.py) through the worker path.

Independent of the generated corpus: different wording, different layouts, written from
how ministry, embassy, US, NATO and PRC documents and everyday ministry mail look. Each
message is inspected exactly as in a worker (`pipeline.inspect_message`) and the highest
level found is compared with the label; recall, false alarms and level accuracy are
printed with every miss and false alarm.
"""

from __future__ import annotations

import pytest
from corpus_scoring import (
    EVERY_PLACE,
    Figures,
    Result,
    inspect_cases,
    places_covered,
    print_figures,
    worker_context,
)
from markings_realistic import build_realistic

from dlp_gateway.model import Level
from dlp_gateway.pipeline import WorkerContext, inspect_message


@pytest.fixture(scope="module")
def ctx(tmp_path_factory) -> WorkerContext:
    return worker_context(tmp_path_factory.mktemp("realistic"))


@pytest.fixture(scope="module")
def results(ctx) -> list[Result]:
    return inspect_cases(build_realistic(), ctx)


def test_realistic_corpus_figures(results, capsys):
    with capsys.disabled():
        figures = print_figures("realistic corpus", results)
    assert len(figures.positives) >= 60 and len(figures.negatives) >= 40
    assert figures.recall >= 0.98, figures.missed()


def test_realistic_corpus_level_is_right(results):
    figures = Figures.of(results)
    assert figures.level_accuracy >= 0.98, figures.wrong_level()


def test_realistic_corpus_false_alarms_at_most_two_percent(results):
    figures = Figures.of(results)
    assert figures.false_alarm_rate <= 0.02, [c.name for c in figures.false_alarms]


def test_realistic_corpus_every_place_is_covered(results):
    assert places_covered(results) >= EVERY_PLACE


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
