"""PDFs leave no hiding place: banners printed sideways in the margins, damaged files a
viewer repairs, text over and inside images, outlines."""

from __future__ import annotations

import docgen

from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.model import Inspection

BODY = "本函係例行業務聯繫，請查照。"


def with_attachment(name: str, data: bytes, **limits: object) -> Inspection:
    raw = docgen.make_message("weekly report", "see attachment", [(name, data, "application/octet-stream")])
    return extract(raw, ExtractionLimits(**limits))


def where(inspection: Inspection, phrase: str) -> dict[str, str]:
    return {s.location: s.kind for s in inspection.segments if phrase in s.text}


def test_vertical_banner_in_the_left_margin_is_a_band_segment() -> None:
    ins = with_attachment("memo.pdf", docgen.make_pdf_with_margin_banner(BODY, "機密", side="left"))
    assert where(ins, "機密") == {"memo.pdf › page 1 › margin": "header_band"}
    assert where(ins, BODY) == {"memo.pdf › page 1": "page"}


def test_latin_banner_running_down_the_right_margin_is_a_band_segment() -> None:
    pdf = docgen.make_pdf_with_margin_banner("Routine note.", "SECRET//NOFORN", side="right", rotate=270,
                                             fontname="helv")
    ins = with_attachment("memo.pdf", pdf)
    assert where(ins, "SECRET//NOFORN") == {"memo.pdf › page 1 › margin": "header_band"}


def test_pdf_with_broken_cross_reference_is_read_with_a_note_not_a_problem() -> None:
    ins = with_attachment("memo.pdf", docgen.make_pdf_with_broken_xref(["機密 外交部公文"]))
    assert where(ins, "外交部公文") == {"memo.pdf › page 1": "page"}
    assert any("rebuilt" in n.detail for n in ins.notes)
    assert not ins.problems
