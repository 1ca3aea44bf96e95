"""The worker's OCR engine (content/ocr.py): images OCR'd once, resolution, bands first.

Real OCR runs here (a fraction of a second per small image, a second or two per page):
marked slow, kept to a few images and pages.
"""

from __future__ import annotations

import io
import random
import time

import docgen
import pymupdf
import pytest
from PIL import Image, ImageFilter

from dlp_gateway.config import Settings
from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.content.ocr import OcrEngine
from dlp_gateway.content.pdf import _region_dpi
from dlp_gateway.model import Level
from dlp_gateway.pipeline import WorkerContext, inspect_message


def compact(text: str) -> str:
    return "".join(text.split())


def logo(text: str = "外交部 MOFA") -> bytes:
    return docgen.make_png([text], dpi=150)


def logo_message(copies: int, image: bytes) -> bytes:
    return docgen.make_message("logos", "see", [(f"logo{n}.png", image, "image/png") for n in range(copies)])


@pytest.mark.slow
def test_a_logo_repeated_twenty_times_in_a_message_is_ocrd_once() -> None:
    limits = ExtractionLimits(max_ocr_pages=2)
    engine = OcrEngine(limits)
    ins = extract(logo_message(20, logo()), limits, engine)
    assert engine.recognised == 1
    texts = [s for s in ins.segments if s.kind == "ocr"]
    # Every copy is still read (a cached result is the same text), none against the budget.
    assert len(texts) == 20 and all("外交部" in compact(s.text) for s in texts)
    assert not ins.problems


@pytest.mark.slow
def test_an_image_seen_in_an_earlier_message_is_not_ocrd_again_by_the_same_worker() -> None:
    limits = ExtractionLimits()
    engine = OcrEngine(limits)
    extract(logo_message(1, logo()), limits, engine)
    ins = extract(logo_message(1, logo()), limits, engine)
    assert engine.recognised == 1
    assert "外交部" in compact(ins.segments[-1].text)


@pytest.mark.slow
def test_the_ocr_cache_keeps_at_most_ocr_cache_entries_images() -> None:
    limits = ExtractionLimits(ocr_cache_entries=1)
    engine = OcrEngine(limits)
    first, second = logo("外交部"), logo("領事局")
    extract(logo_message(1, first), limits, engine)
    once = engine.recognised  # a small image that gave little text is looked at twice
    extract(logo_message(1, first), limits, engine)
    assert engine.recognised == once  # cached: one entry holds it
    extract(logo_message(1, second), limits, engine)
    read_both = engine.recognised
    extract(logo_message(1, first), limits, engine)  # the second pushed the first out
    assert engine.recognised == read_both + once


def scan_page(lines: list[str], dpi: int, header: str | None = None) -> pymupdf.Pixmap:
    source = pymupdf.open()
    page = source.new_page(width=docgen.PAGE_WIDTH, height=docgen.PAGE_HEIGHT)
    if header:
        page.insert_text((200, docgen.HEADER_Y + 11), header, fontname=docgen.CJK_FONT, fontsize=22)
    y = docgen.BODY_TOP
    for line in lines:
        page.insert_text((56, y), line, fontname=docgen.CJK_FONT, fontsize=14)
        y += 24
    pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
    source.close()
    return pix


def scan_pdf(images: list[bytes]) -> bytes:
    doc = pymupdf.open()
    for image in images:
        page = doc.new_page(width=docgen.PAGE_WIDTH, height=docgen.PAGE_HEIGHT)
        page.insert_image(page.rect, stream=image)
    out = doc.tobytes(deflate=True)
    doc.close()
    return out


def test_a_scan_is_rendered_for_ocr_at_its_own_resolution_capped_by_ocr_dpi() -> None:
    low = scan_pdf([scan_page(["一般文字"], 150).tobytes("png")])
    high = scan_pdf([scan_page(["一般文字"], 300).tobytes("png")])
    with pymupdf.open("pdf", low) as doc:
        assert _region_dpi(doc[0], doc[0].rect, 200) == 150
    with pymupdf.open("pdf", high) as doc:
        assert _region_dpi(doc[0], doc[0].rect, 200) == 200


def poor_copy(pix: pymupdf.Pixmap) -> bytes:
    """A worn photocopy: blurred, grey toner on grey paper, speckled, saved as a rough JPEG."""
    rng = random.Random(7)
    image = Image.open(io.BytesIO(pix.tobytes("png"))).convert("L").filter(ImageFilter.GaussianBlur(0.9))
    image = image.point(lambda v: 70 + v * 150 // 255)  # toner at 70, paper at 220
    pixels = image.load()
    for _ in range(image.width * image.height // 60):
        x, y = rng.randrange(image.width), rng.randrange(image.height)
        pixels[x, y] = rng.choice((40, 250))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=45)
    return out.getvalue()


@pytest.mark.slow
def test_traditional_marking_on_a_poor_copy_keeps_every_character() -> None:
    pix = scan_page(["外交部函", "主旨：檢送會議紀錄一份，請查照。"], 200, header="絕對機密")
    raw = docgen.make_message("掃描", "附件", [("copy.pdf", scan_pdf([poor_copy(pix)]), "application/pdf")])
    report = inspect_message(raw, WorkerContext.from_settings(Settings()))
    header = [s for s in report.inspection.segments if s.location == "copy.pdf › page 1 › header"]
    assert header and "絕對機密" in compact(header[0].text)
    assert max(f.level for f in report.findings if f.level is not None) == Level.TOP_SECRET


@pytest.mark.slow
def test_with_ocr_full_page_false_a_top_level_band_marking_ends_ocr_of_the_document() -> None:
    marked = scan_page(["外交部函", "主旨：檢送會議紀錄一份。"], 200, header="絕對機密").tobytes("png")
    plain = scan_page(["第二頁內容"], 200).tobytes("png")
    raw = docgen.make_message("掃描", "附件", [("two.pdf", scan_pdf([marked, plain]), "application/pdf")])
    ctx = WorkerContext.from_settings(Settings.model_validate({"limits": {"ocr_full_page": False}}))
    report = inspect_message(raw, ctx)
    assert ctx.ocr is not None and ctx.ocr.recognised == 2  # the two bands of page 1, nothing more
    assert max(f.level for f in report.findings if f.level is not None) == Level.TOP_SECRET
    assert {n.location for n in report.inspection.notes} >= {"two.pdf › page 1", "two.pdf › page 2"}
    assert not report.inspection.problems


@pytest.mark.slow
def test_ocr_running_past_max_ocr_seconds_is_stopped_and_recorded() -> None:
    dense = scan_page(["外交部駐外館處電報關於本案之處理情形請查照辦理並於期限內回覆"] * 26, 200)
    raw = docgen.make_message("掃描", "附件", [("dense.pdf", scan_pdf([dense.tobytes("png")]), "application/pdf")])
    limits = ExtractionLimits(max_ocr_seconds=0.5)
    engine = OcrEngine(limits)
    engine.warm_up()
    started = time.monotonic()
    ins = extract(raw, limits, engine)
    assert time.monotonic() - started < 3.0  # reading the whole page takes 3-8 s here
    assert [(p.location, p.limit) for p in ins.problems] == [("dense.pdf › page 1", "max_ocr_seconds")]
