"""Inspection as one pure function: raw message bytes in, an `InspectionReport` out.

This is what runs inside a worker process (see inspector.py). `WorkerContext` holds what
is loaded once per worker (limits, compiled detectors, the OCR engine), so each message only pays for
extraction and detection. `scan`, `policy test` and the relay all go through here, so
they cannot disagree.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from dlp_gateway.config import Settings
from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.content.ocr import OcrEngine
from dlp_gateway.detect import build_detectors, run_detectors
from dlp_gateway.detect.base import Detector
from dlp_gateway.detect.fingerprints import PartTexts
from dlp_gateway.model import InspectionReport
from dlp_gateway.trace import compute_digests


@dataclass(slots=True)
class WorkerContext:
    limits: ExtractionLimits
    detectors: list[Detector]
    # Tesseract loaded once for the worker's life, with its cache of OCR'd images.
    ocr: OcrEngine | None = field(default=None)

    def __post_init__(self) -> None:
        if self.ocr is None:
            self.ocr = OcrEngine(self.limits)

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerContext:
        return cls(limits=settings.limits, detectors=build_detectors(settings))


def inspect_message(raw: bytes, ctx: WorkerContext) -> InspectionReport:
    """Extract, detect, and strip part bytes so the report is cheap to send back."""
    started = time.perf_counter()
    inspection = extract(raw, ctx.limits, ctx.ocr)
    extracted = time.perf_counter()
    texts = PartTexts.of(inspection)  # tokenised once, for the fingerprint detector and trace
    findings = run_detectors(inspection, ctx.detectors, texts)
    detected = time.perf_counter()
    digests = compute_digests(inspection, texts)  # trace keeps hashes of what was read, never text
    for part in inspection.parts:
        part.data = None
    return InspectionReport(
        inspection=inspection,
        findings=findings,
        digests=digests,
        timings={"extract": extracted - started, "detect": detected - extracted},
        size=len(raw),
    )
