"""XLSX print headers and footers are extracted as header/footer bands.

A spreadsheet of names or figures is marked the way Excel prints it: 「機密」 in the page
header (`<headerFooter><oddHeader>&C機密</oddHeader>`), never in a cell. The codes of the
header language (&L &C &R sections, &P page number, &"font", &12 size) are removed and the
sections set apart by a layout gap, so the band grammar of the marking detector applies.
"""

from __future__ import annotations

import io

import docgen
import openpyxl

from dlp_gateway.config import load_settings
from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.model import Level
from dlp_gateway.pipeline import WorkerContext, inspect_message

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(header: dict[str, str], footer: dict[str, str] | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "名單"
    sheet.append(["姓名", "職稱"])
    sheet.append(["王大明", "參事"])
    for side, text in header.items():
        part = getattr(sheet.oddHeader, side)
        part.text = text
        part.font = "Arial,Bold"
        part.size = 12
    for side, text in (footer or {}).items():
        getattr(sheet.oddFooter, side).text = text
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _segments(data: bytes) -> dict[str, tuple[str, str]]:
    message = docgen.make_message("名單", "如附", [("list.xlsx", data, XLSX)])
    inspection = extract(message, ExtractionLimits())
    return {s.location: (s.kind, s.text) for s in inspection.segments}


def test_print_header_is_a_header_band_with_codes_removed_and_sections_apart():
    segments = _segments(_xlsx({"left": "外交部北美司", "center": "機密"}))
    kind, text = segments["list.xlsx › sheet 名單 › header"]
    assert kind == "header_band"
    assert "&" not in text and "Arial" not in text
    assert text.split() == ["外交部北美司", "機密"]


def test_print_footer_page_number_code_reads_as_a_number():
    segments = _segments(_xlsx({}, {"right": "第 &P 頁，共 &N 頁"}))
    kind, text = segments["list.xlsx › sheet 名單 › footer"]
    assert (kind, text) == ("footer_band", "第 1 頁，共 1 頁")


def test_cells_are_still_read_with_a_print_header():
    segments = _segments(_xlsx({"center": "機密"}))
    assert "王大明\t參事" in segments["list.xlsx › sheet 名單"][1]


def test_marking_in_the_print_header_is_found_and_a_plain_header_is_not(tmp_path):
    ctx = WorkerContext.from_settings(load_settings(None, {"data_dir": str(tmp_path), "detect.fingerprints": False}))
    levels = []
    for header in ({"left": "外交部", "center": "機密"}, {"left": "外交部北美司", "right": "115年3月"}):
        message = docgen.make_message("名單", "如附", [("list.xlsx", _xlsx(header), XLSX)])
        levels.append(inspect_message(message, ctx).level)
    assert levels == [Level.CONFIDENTIAL, None]
