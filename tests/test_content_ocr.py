"""OCR: scanned pages and photographed pages are read by Tesseract (through PyMuPDF).

These run real OCR (about a second per page), so the suite keeps to four OCR'd pages.
"""

from __future__ import annotations

import docgen
import pytest

from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.model import Inspection

pytestmark = pytest.mark.slow


def inspect(attachments: list[tuple[str, bytes, str]]) -> Inspection:
    return extract(docgen.make_message("scan", "see scan", attachments), ExtractionLimits())


def compact(text: str) -> str:
    return "".join(text.split())


def test_scanned_pdf_page_without_text_layer_is_ocrd_with_bands() -> None:
    scan = docgen.make_scanned_pdf(["駐外館處機密電報", "Operation Lantern"], dpi=200,
                                   header="機密 TOP SECRET", footer="本件至115年3月2日解密")
    ins = inspect([("scan.pdf", scan, "application/pdf")])
    ocr = {s.location: s for s in ins.segments if s.location.startswith("scan.pdf › page 1")}
    assert ocr["scan.pdf › page 1"].kind == "ocr"
    assert "駐外館處機密電報" in compact(ocr["scan.pdf › page 1"].text)
    assert "Lantern" in ocr["scan.pdf › page 1"].text
    assert ocr["scan.pdf › page 1 › header"].kind == "header_band"
    assert "機密TOPSECRET" in compact(ocr["scan.pdf › page 1 › header"].text)
    assert ocr["scan.pdf › page 1 › footer"].kind == "footer_band"
    assert "日解密" in compact(ocr["scan.pdf › page 1 › footer"].text)
    assert not ins.problems


def test_photographed_page_png_is_ocrd() -> None:
    png = docgen.make_png(["駐外館處機密電報", "Operation Lantern"])
    ins = inspect([("photo.png", png, "image/png")])
    (segment,) = [s for s in ins.segments if s.kind == "ocr"]
    assert segment.location == "photo.png" and segment.part == "photo.png"
    assert "機密電報" in compact(segment.text)
    assert "Lantern" in segment.text


def test_jpeg_and_tiff_attachments_are_ocrd() -> None:
    ins = inspect([("a.jpg", docgen.make_jpeg(["JPEG 機密 marking"]), "image/jpeg"),
                   ("b.tiff", docgen.make_tiff(["TIFF 極機密 marking"]), "image/tiff")])
    by_location = {s.location: compact(s.text) for s in ins.segments if s.kind == "ocr"}
    assert "機密" in by_location["a.jpg"] and "JPEG" in by_location["a.jpg"]
    assert "極機密" in by_location["b.tiff"] and "TIFF" in by_location["b.tiff"]


def test_pdf_with_text_layer_is_not_ocrd() -> None:
    pdf = docgen.make_pdf(["ordinary text layer 一般文字"])
    ins = inspect([("a.pdf", pdf, "application/pdf")])
    assert not [s for s in ins.segments if s.kind == "ocr"]
    assert any(s.kind == "page" and "一般文字" in s.text for s in ins.segments)
