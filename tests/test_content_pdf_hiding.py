"""PDFs leave no hiding place: banners printed sideways in the margins, damaged files a
viewer repairs, text over and inside images, outlines."""

from __future__ import annotations

import docgen
import pytest

from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.detect.markings import MarkingDetector
from dlp_gateway.model import Inspection, Level

BODY = "本函係例行業務聯繫，請查照。"


def with_attachment(name: str, data: bytes, **limits: object) -> Inspection:
    raw = docgen.make_message("weekly report", "see attachment", [(name, data, "application/octet-stream")])
    return extract(raw, ExtractionLimits(**limits))


def where(inspection: Inspection, phrase: str) -> dict[str, str]:
    return {s.location: s.kind for s in inspection.segments if phrase in s.text}


def markings(inspection: Inspection) -> set[tuple[str, Level]]:
    return {(f.location, f.level) for f in MarkingDetector().detect(inspection)}


def test_vertical_banner_in_the_left_margin_is_a_band_segment() -> None:
    ins = with_attachment("memo.pdf", docgen.make_pdf_with_margin_banner(BODY, "機密", side="left"))
    assert where(ins, "機密") == {"memo.pdf › page 1 › margin": "header_band"}
    assert where(ins, BODY) == {"memo.pdf › page 1": "page"}
    assert markings(ins) == {("memo.pdf › page 1 › margin", Level.CONFIDENTIAL)}


def test_latin_banner_running_down_the_right_margin_is_a_band_segment() -> None:
    pdf = docgen.make_pdf_with_margin_banner("Routine note.", "SECRET//NOFORN", side="right", rotate=270,
                                             fontname="helv")
    ins = with_attachment("memo.pdf", pdf)
    assert where(ins, "SECRET//NOFORN") == {"memo.pdf › page 1 › margin": "header_band"}


def test_banner_stacked_a_character_per_line_down_the_margin_is_one_band_word() -> None:
    ins = with_attachment("memo.pdf", docgen.make_pdf_with_stacked_margin_banner(BODY, "極機密", side="right"))
    assert where(ins, "極機密") == {"memo.pdf › page 1 › margin": "header_band"}
    assert markings(ins) == {("memo.pdf › page 1 › margin", Level.SECRET)}  # ROC 極機密


def test_pdf_with_broken_cross_reference_is_read_with_a_note_not_a_problem() -> None:
    ins = with_attachment("memo.pdf", docgen.make_pdf_with_broken_xref(["機密 外交部公文"]))
    assert where(ins, "外交部公文") == {"memo.pdf › page 1": "page"}
    assert any("rebuilt" in n.detail for n in ins.notes)
    assert not ins.problems


COVER = ("外交部北美司例行業務聯繫函，說明本週會議安排、出席人員與議程事項。\n" * 6).strip()


@pytest.mark.slow
def test_red_stamp_image_over_a_clean_text_layer_is_ocrd_as_a_band() -> None:
    ins = with_attachment("memo.pdf", docgen.make_pdf_with_stamp_image(COVER, "機密"))
    stamp = where(ins, "機密")
    assert stamp == {"memo.pdf › page 1 › image 1": "header_band"}
    assert markings(ins) == {("memo.pdf › page 1 › image 1", Level.CONFIDENTIAL)}
    assert not ins.problems


@pytest.mark.slow
def test_scan_pasted_on_a_page_with_an_unrelated_text_layer_is_ocrd() -> None:
    pdf = docgen.make_pdf_with_pasted_scan(COVER, ["極機密 駐外館處電報", "Operation Lantern"])
    ins = with_attachment("memo.pdf", pdf)
    ocr = [s for s in ins.segments if s.location == "memo.pdf › page 1 › image 1"]
    assert ocr and ocr[0].kind == "ocr"
    assert "極機密" in "".join(ocr[0].text.split()) and "Lantern" in ocr[0].text


def test_stamp_region_ocr_is_counted_against_the_ocr_budget() -> None:
    ins = with_attachment("memo.pdf", docgen.make_pdf_with_stamp_image(COVER, "機密"), max_ocr_pages=0)
    # The red stamp is chosen for OCR, and refused by the spent budget: a recorded limit.
    assert [(p.location, p.limit) for p in ins.problems] == [("memo.pdf › page 1 › image 1", "max_ocr_pages")]


def test_text_on_a_layer_that_is_switched_off_is_read() -> None:
    ins = with_attachment("memo.pdf", docgen.make_pdf_with_hidden_layer(BODY, "機密 隱藏圖層"))
    assert where(ins, "隱藏圖層") == {"memo.pdf › page 1": "page"}


def test_bookmark_titles_are_read() -> None:
    ins = with_attachment("memo.pdf", docgen.make_pdf_with_outline([BODY], ["第一章", "機密 附件清單"]))
    assert where(ins, "附件清單") == {"memo.pdf › outline": "metadata"}


def test_xfa_form_data_is_read() -> None:
    ins = with_attachment("form.pdf", docgen.make_pdf_with_xfa("Please wait...", "機密 &amp; 限閱"))
    assert where(ins, "機密 & 限閱") == {"form.pdf › XFA form": "form"}


@pytest.mark.slow
def test_red_stamp_drawn_as_vector_outlines_is_ocrd() -> None:
    ins = with_attachment("memo.pdf", docgen.make_pdf_with_vector_stamp(COVER, "機密"))
    assert markings(ins) == {("memo.pdf › page 1 › drawing 1", Level.CONFIDENTIAL)}


@pytest.mark.slow
def test_page_whose_text_was_converted_to_outlines_is_ocrd() -> None:
    ins = with_attachment("print.pdf", docgen.make_outlined_pdf(["機密", "駐外館處電報 Operation Lantern"]))
    page = [s for s in ins.segments if s.location == "print.pdf › page 1"]
    assert page and page[0].kind == "ocr"
    assert "Lantern" in page[0].text
