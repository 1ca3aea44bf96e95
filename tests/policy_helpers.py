"""Helpers for the policy tests: write policy files, build reports and envelopes."""

from __future__ import annotations

import textwrap
from pathlib import Path

from dlp_gateway.model import (
    Envelope,
    Finding,
    Inspection,
    InspectionReport,
    Level,
    Part,
    Problem,
    ProblemKind,
)
from dlp_gateway.policy import Policy, load_policy


def write_policy(directory: Path, text: str, name: str = "policy.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def policy_from(tmp_path: Path, text: str, internal_domains: tuple[str, ...] = ()) -> Policy:
    write_policy(tmp_path / "policies", text)
    return load_policy(tmp_path / "policies", internal_domains)


def marking(level: Level, system: str = "ROC", location: str = "body") -> Finding:
    return Finding("markings", f"{system.lower()}_banner", location, level.label, level, system)


def report(*findings: Finding, problems: tuple[Problem, ...] = (), parts: tuple[Part, ...] = (),
           headers: dict[str, list[str]] | None = None, size: int = 1000) -> InspectionReport:
    inspection = Inspection(parts=list(parts), problems=list(problems), headers=headers or {})
    return InspectionReport(inspection=inspection, findings=list(findings), size=size)


def problem(kind: ProblemKind) -> Problem:
    return Problem(kind, "report.zip", f"{kind.value} content")


def part(true_type: str, mismatch: bool = False, filename: str = "a.pdf") -> Part:
    return Part(filename, filename, "application/pdf", true_type, 10, "0" * 64, 1, type_mismatch=mismatch)


def envelope(*rcpts: str, sender: str = "alice@mofa.example", tls: bool = False) -> Envelope:
    return Envelope(sender, tuple(rcpts) or ("bob@partner.example",), tls=tls)
