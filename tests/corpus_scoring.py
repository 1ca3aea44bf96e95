"""Scoring a labelled marking corpus through the worker path, shared by the corpus tests.

Each case is a whole message with the level a security officer would give it (None for
unmarked). It is inspected exactly as in a worker (`pipeline.inspect_message`) and the
highest level found is compared with the label.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docgen

from dlp_gateway.config import load_settings
from dlp_gateway.model import Level
from dlp_gateway.pipeline import WorkerContext, inspect_message

TS, S, C, R = Level.TOP_SECRET, Level.SECRET, Level.CONFIDENTIAL, Level.RESTRICTED

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
PDF = "application/pdf"
RTF = "application/rtf"
ZIP = "application/zip"
XML = "application/xml"


@dataclass(frozen=True, slots=True)
class LabelledCase:
    """One message of a hand-written corpus and the level a security officer gives it."""

    name: str
    message: bytes
    expected: Level | None
    where: str  # body | subject | attachment


def mail(subject: str, body: str, attachments=None, **kw) -> bytes:
    """A whole message as it arrives at the gateway (docgen.make_message)."""
    return docgen.make_message(subject, body, attachments, **kw)


Result = tuple[Any, Level | None, list[str]]  # (case, level found, evidence of leveled findings)


def worker_context(data_dir: Path) -> WorkerContext:
    """A worker's context on the shipped rules, without a fingerprint register."""
    return WorkerContext.from_settings(load_settings(None, {"data_dir": str(data_dir), "detect.fingerprints": False}))


def inspect_cases(cases: Iterable[Any], ctx: WorkerContext) -> list[Result]:
    out = []
    for case in cases:
        report = inspect_message(case.message, ctx)
        evidence = [f"{f.detector}:{f.rule}:{f.level.label}:{f.location}:{f.evidence}"
                    for f in report.findings if f.level is not None]
        out.append((case, report.level, evidence))
    return out


@dataclass
class Figures:
    positives: list[tuple[Any, Level | None]]
    negatives: list[tuple[Any, Level | None]]
    detected: list[Any]
    right: list[Any]
    false_alarms: list[Any]

    @classmethod
    def of(cls, results: list[Result]) -> Figures:
        positives = [(c, got) for c, got, _ in results if c.expected is not None]
        negatives = [(c, got) for c, got, _ in results if c.expected is None]
        return cls(
            positives=positives,
            negatives=negatives,
            detected=[c for c, got in positives if got is not None],
            right=[c for c, got in positives if got == c.expected],
            false_alarms=[c for c, got in negatives if got is not None],
        )

    @property
    def recall(self) -> float:
        return len(self.detected) / len(self.positives)

    @property
    def level_accuracy(self) -> float:
        return len(self.right) / len(self.positives)

    @property
    def false_alarm_rate(self) -> float:
        return len(self.false_alarms) / len(self.negatives)

    def missed(self) -> list[str]:
        return [c.name for c, got in self.positives if got is None]

    def wrong_level(self) -> list[str]:
        return [c.name for c, got in self.positives if got != c.expected]


def print_figures(name: str, results: list[Result]) -> Figures:
    """Print recall, level accuracy and false alarms with every miss; return the figures."""
    figures = Figures.of(results)
    print(f"\n{name}: {len(figures.positives)} marked, {len(figures.negatives)} unmarked")
    print(f"  recall {figures.recall:.2%}  level right {figures.level_accuracy:.2%}"
          f"  false alarms {figures.false_alarm_rate:.2%}")
    for case, got, evidence in results:
        if got != case.expected:
            print(f"  ! {case.name}: expected {case.expected.label if case.expected else None}, "
                  f"got {got.label if got else None} {evidence[:3]}")
    return figures


def places_covered(results: list[Result]) -> set[tuple[str, bool]]:
    """(where, unmarked) pairs the corpus has: body, subject and attachment, both ways."""
    return {(c.where, c.expected is None) for c, _, _ in results}


EVERY_PLACE = {("body", False), ("body", True), ("subject", False), ("subject", True),
               ("attachment", False), ("attachment", True)}
