"""PDF text in reading order, not drawing order (issue #12, red-team round 3: B14, B38).

A viewer lays glyphs out by position; a generator may draw them in any order (one string
after another out of order, one character at a time, shuffled). Each banner here is shown
as SECRET//NOFORN (or 極機密) on the page and must be found with its level.
"""

from __future__ import annotations

import random

import mimegen
import pymupdf

US = mimegen.US


def attached_pdf_levels(doc: pymupdf.Document) -> set[str]:
    import docgen

    raw = docgen.make_message("notes", "Please see the attached notes.", [("a.pdf", doc.tobytes(), "application/pdf")])
    return set(mimegen.levels(mimegen.inspect(raw)).values())


def page_with_prose() -> tuple[pymupdf.Document, pymupdf.Page]:
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((50, 300), "ordinary text about the weekly meeting")
    return doc, page


def test_ordinary_page_has_no_finding() -> None:
    doc, _ = page_with_prose()
    assert attached_pdf_levels(doc) == set()


def test_banner_drawn_second_half_first_is_found() -> None:
    doc, page = page_with_prose()
    page.insert_text((72 + pymupdf.get_text_length("SEC", fontsize=11), 200), "RET//NOFORN")
    page.insert_text((72, 200), "SEC")
    assert attached_pdf_levels(doc) == {"secret"}


def test_banner_drawn_one_shuffled_character_at_a_time_is_found() -> None:
    doc, page = page_with_prose()
    font = pymupdf.Font("helv")
    x = 72.0
    places = []
    for ch in US:
        places.append((x, ch))
        x += font.text_length(ch, fontsize=11)
    random.Random(7).shuffle(places)
    for x, ch in places:
        page.insert_text((x, 200), ch)
    assert attached_pdf_levels(doc) == {"secret"}


def test_header_banner_drawn_out_of_order_is_found() -> None:
    doc, page = page_with_prose()
    page.insert_text((250 + pymupdf.get_text_length("SECRET//", fontsize=11), 40), "NOFORN")
    page.insert_text((250, 40), "SECRET//")
    assert attached_pdf_levels(doc) == {"secret"}


def test_vertical_cjk_banner_in_the_corner_is_secret() -> None:
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    for i, ch in enumerate("極機密"):
        page.insert_text((560, 60 + i * 16), ch, fontname="china-t", fontsize=14)
    for c, col in enumerate(["本部訂於下週召開會議", "請各單位派員出席"]):
        for i, ch in enumerate(col):
            page.insert_text((540 - 18 * c, 140 + i * 14), ch, fontname="china-t", fontsize=12)
    assert attached_pdf_levels(doc) == {"secret"}


def test_ordinary_two_column_page_adds_no_reading_order_text() -> None:
    import docgen

    from dlp_gateway.content.extract import extract
    from dlp_gateway.content.limits import ExtractionLimits

    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    for i in range(20):
        page.insert_text((50, 120 + 14 * i), f"left column line {i} of the report")
        page.insert_text((320, 120 + 14 * i), f"right column line {i} of the report")
    raw = docgen.make_message("notes", "see attached", [("a.pdf", doc.tobytes(), "application/pdf")])
    segments = extract(raw, ExtractionLimits()).segments
    assert any("right column line 3" in s.text for s in segments)
    assert not [s for s in segments if s.location.endswith("reading order")]


def test_reading_order_segment_holds_the_rebuilt_line() -> None:
    import docgen

    from dlp_gateway.content.extract import extract
    from dlp_gateway.content.limits import ExtractionLimits

    doc, page = page_with_prose()
    page.insert_text((72 + pymupdf.get_text_length("SEC", fontsize=11), 200), "RET//NOFORN")
    page.insert_text((72, 200), "SEC")
    raw = docgen.make_message("notes", "see attached", [("a.pdf", doc.tobytes(), "application/pdf")])
    ordered = [s for s in extract(raw, ExtractionLimits()).segments if s.location.endswith("reading order")]
    assert [s.text for s in ordered] == [US]


def test_invisible_junk_inside_a_visible_banner_is_found() -> None:
    doc, page = page_with_prose()
    width = pymupdf.get_text_length("SEC", fontsize=11)
    page.insert_text((72, 200), "SEC")
    page.insert_text((72 + width, 200), "xyz", render_mode=3)
    page.insert_text((72 + width, 200), "RET//NOFORN")
    assert attached_pdf_levels(doc) == {"secret"}


def test_tiny_junk_inside_a_visible_banner_is_found() -> None:
    doc, page = page_with_prose()
    width = pymupdf.get_text_length("SEC", fontsize=11)
    page.insert_text((72, 200), "SEC")
    page.insert_text((72 + width, 200), "xyz", fontsize=0.1)
    page.insert_text((72 + width + 0.1, 200), "RET//NOFORN")
    assert attached_pdf_levels(doc) == {"secret"}


def test_vertical_columns_in_the_body_are_read_down_each_column() -> None:
    import docgen

    from dlp_gateway.content.extract import extract
    from dlp_gateway.content.limits import ExtractionLimits

    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    for c, col in enumerate(["極機密", "本部訂於下週召開會議", "請各單位派員出席"]):
        for i, ch in enumerate(col):
            page.insert_text((340 - 18 * c, 140 + i * 14), ch, fontname="china-t", fontsize=12)
    raw = docgen.make_message("notes", "see attached", [("a.pdf", doc.tobytes(), "application/pdf")])
    ordered = [s.text for s in extract(raw, ExtractionLimits()).segments if s.location.endswith("reading order")]
    assert ordered == ["極機密\n本部訂於下週召開會議\n請各單位派員出席"]
    # The drawing-order text (a character per line) still reads as `restricted` (a detector
    # matter); the column read whole gives the right level, which the policy acts on.
    assert "secret" in attached_pdf_levels(doc)
