"""Detection: segments, facts and part bytes in, findings out.

`build_detectors` composes the detectors named by configuration, once per worker:
classification markings (markings/, one module per marking system), the administrators' YARA rules (yara_rules.py)
and the registered-document fingerprints (fingerprints.py). A YARA rule file that does
not compile makes `build_detectors` raise `YaraRulesError` (a ConfigError naming file
and line), so a new worker generation refuses to start and the running one, with the
rules in force, stays. `run_detectors` runs them all and never lets one detector's
failure lose the others' findings.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from dlp_gateway.detect.base import Detector
from dlp_gateway.model import Finding, Inspection, Problem, ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.config import Settings
    from dlp_gateway.detect.fingerprints import PartTexts

log = logging.getLogger(__name__)


def build_detectors(settings: Settings) -> list[Detector]:
    from dlp_gateway.detect.markings import MarkingDetector
    from dlp_gateway.detect.yara_rules import YaraDetector

    detectors: list[Detector] = []
    if settings.detect.markings:
        detectors.append(MarkingDetector(settings.detect.label_levels, settings.detect.classification_headers))
    if settings.detect.yara:
        detectors.append(YaraDetector.from_settings(settings))
    if settings.detect.fingerprints:
        from dlp_gateway.detect.fingerprints import FingerprintDetector

        detectors.append(FingerprintDetector(settings.data_path, settings.detect.fingerprint_min_share))
    return detectors


def reload_detectors(detectors: list[Detector]) -> list[str]:
    """Reload what can be reloaded in place (YARA rules); return the errors, rules kept."""
    errors: list[str] = []
    for detector in detectors:
        reload = getattr(detector, "reload", None)
        if callable(reload):
            error = reload()
            if error:
                errors.append(error)
    return errors


def run_detectors(inspection: Inspection, detectors: list[Detector],
                  texts: PartTexts | None = None) -> list[Finding]:
    """Every detector's findings. `texts`, the message's part texts the caller also gives
    to trace.compute_digests, goes to the detectors that tokenise them (`uses_part_texts`)."""
    findings: list[Finding] = []
    for detector in detectors:
        try:
            if texts is not None and getattr(detector, "uses_part_texts", False):
                findings.extend(detector.detect(inspection, texts=texts))  # type: ignore[call-arg]
            else:
                findings.extend(detector.detect(inspection))
        except Exception as exc:  # a detector bug must not lose the message: record it
            log.exception("detector %s failed", detector.name)
            inspection.problems.append(
                Problem(ProblemKind.CORRUPT, "(message)", f"detector {detector.name} failed: {exc}")
            )
    return findings
