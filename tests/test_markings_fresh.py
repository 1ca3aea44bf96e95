"""The third, independent corpus (tests/markings_fresh.py) through the worker path.

Whole messages — Outlook forwards, replies with signatures and disclaimers, bilingual
covers, every attachment format — each inspected as in a worker
(`pipeline.inspect_message`); the highest level found is compared with the label.
Recall, false alarms and level accuracy are printed with every miss and false alarm.
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
from markings_fresh import build_fresh

from dlp_gateway.pipeline import WorkerContext


@pytest.fixture(scope="module")
def ctx(tmp_path_factory) -> WorkerContext:
    return worker_context(tmp_path_factory.mktemp("fresh"))


@pytest.fixture(scope="module")
def results(ctx) -> list[Result]:
    return inspect_cases(build_fresh(), ctx)


def test_fresh_corpus_recall_is_at_least_98_percent(results, capsys):
    with capsys.disabled():
        figures = print_figures("fresh corpus", results)
    assert len(figures.positives) >= 50 and len(figures.negatives) >= 40
    assert figures.recall >= 0.98, figures.missed()


def test_fresh_corpus_level_is_right(results):
    figures = Figures.of(results)
    assert figures.level_accuracy >= 0.98, figures.wrong_level()


def test_fresh_corpus_false_alarms_at_most_two_percent(results):
    figures = Figures.of(results)
    assert figures.false_alarm_rate <= 0.02, [c.name for c in figures.false_alarms]


def test_fresh_corpus_covers_every_place(results):
    assert places_covered(results) >= EVERY_PLACE
