"""The third, independent corpus (tests/markings_fresh.py) through the worker path.

Whole messages — Outlook forwards, replies with signatures and disclaimers, bilingual
covers, every attachment format — each inspected as in a worker
(`pipeline.inspect_message`); the highest level found is compared with the label.
Recall, false alarms and level accuracy are printed with every miss and false alarm.
"""

from __future__ import annotations

import pytest
from markings_fresh import FreshCase, build_fresh

from dlp_gateway.config import load_settings
from dlp_gateway.model import Level
from dlp_gateway.pipeline import WorkerContext, inspect_message


@pytest.fixture(scope="module")
def ctx(tmp_path_factory) -> WorkerContext:
    settings = load_settings(None, {"data_dir": str(tmp_path_factory.mktemp("fresh")),
                                    "detect.fingerprints": False})
    return WorkerContext.from_settings(settings)


@pytest.fixture(scope="module")
def results(ctx) -> list[tuple[FreshCase, Level | None, list[str]]]:
    out = []
    for case in build_fresh():
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


def test_fresh_corpus_recall_is_at_least_98_percent(results, capsys):
    positives, negatives, detected, right, false_alarms = _figures(results)
    with capsys.disabled():
        print(f"\nfresh corpus: {len(positives)} marked, {len(negatives)} unmarked")
        print(f"  recall {len(detected) / len(positives):.2%}  level right {len(right) / len(positives):.2%}"
              f"  false alarms {len(false_alarms) / len(negatives):.2%}")
        for case, got, evidence in results:
            if got != case.expected:
                print(f"  ! {case.name}: expected {case.expected.label if case.expected else None}, "
                      f"got {got.label if got else None} {evidence[:3]}")
    assert len(positives) >= 50 and len(negatives) >= 40
    assert len(detected) / len(positives) >= 0.98, [c.name for c, got in positives if got is None]


def test_fresh_corpus_level_is_right(results):
    positives, _, _, right, _ = _figures(results)
    assert len(right) / len(positives) >= 0.98, [c.name for c, got in positives if got != c.expected]


def test_fresh_corpus_false_alarms_at_most_two_percent(results):
    _, negatives, _, _, false_alarms = _figures(results)
    assert len(false_alarms) / len(negatives) <= 0.02, [c.name for c in false_alarms]


def test_fresh_corpus_covers_every_place(results):
    places = {(c.where, c.expected is None) for c, _, _ in results}
    assert places >= {("body", False), ("body", True), ("subject", False), ("subject", True),
                      ("attachment", False), ("attachment", True)}
