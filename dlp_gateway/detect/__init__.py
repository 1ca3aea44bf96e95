"""Detection: segments, facts and part bytes in, findings out.

`build_detectors` composes the detectors named by configuration, once per worker;
`run_detectors` runs them all and never lets one detector's failure lose the others'.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from dlp_gateway.detect.base import Detector
from dlp_gateway.model import Finding, Inspection, Problem, ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.config import Settings

log = logging.getLogger(__name__)


def build_detectors(settings: Settings) -> list[Detector]:
    from dlp_gateway.detect.markings import MarkingDetector

    detectors: list[Detector] = []
    if settings.detect.markings:
        detectors.append(MarkingDetector())
    from dlp_gateway.detect.fingerprints import FingerprintDetector

    detectors.append(FingerprintDetector(settings.data_path, settings.detect.fingerprint_min_share))
    return detectors


def run_detectors(inspection: Inspection, detectors: list[Detector]) -> list[Finding]:
    findings: list[Finding] = []
    for detector in detectors:
        try:
            findings.extend(detector.detect(inspection))
        except Exception as exc:  # a detector bug must not lose the message: record it
            log.exception("detector %s failed", detector.name)
            inspection.problems.append(
                Problem(ProblemKind.CORRUPT, "(message)", f"detector {detector.name} failed: {exc}")
            )
    return findings
