"""Policy: findings plus the envelope in, one `Decision` per recipient out.

Interim version with the default policy's behaviour built in; the policy issue replaces
it with the YAML rule engine, keeping `load_policy(dir)` and `Policy.decide(report, envelope)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dlp_gateway.model import Decision, Envelope, InspectionReport, Level


class PolicyError(Exception):
    """A policy file cannot be used; the message names the file, line and field."""


@dataclass
class Policy:
    source: Path | None = None

    def decide(self, report: InspectionReport, envelope: Envelope) -> list[Decision]:
        level = report.level
        if level is not None and level >= Level.CONFIDENTIAL:
            verdict = ("quarantine", "national_secret", f"{level.label} marking")
        elif report.problems:
            verdict = ("quarantine", "uninspectable", report.problems[0].kind.value)
        else:
            verdict = ("deliver", "default", "nothing found")
        return [Decision(rcpt, verdict[0], verdict[1], verdict[2]) for rcpt in envelope.rcpt_tos]


def load_policy(directory: str | Path) -> Policy:
    return Policy(Path(directory))
