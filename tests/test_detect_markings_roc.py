"""ROC grammar (detect/markings/roc.py) on its own: banner lines, band tokens, the 密等 field."""

from __future__ import annotations

from detect_markings_helpers import Ask, site, summary

from dlp_gateway.detect.markings import roc
from dlp_gateway.detect.markings.grammar import Candidate, Lines


def test_a_line_that_is_only_a_level_with_its_declassification_condition_is_a_roc_banner():
    out: list[Candidate] = []
    assert roc.line_candidates(site("機密（本件至116年12月31日解密）\n主旨：會議"), Ask(), out)
    assert summary(out) == [("roc_banner", "confidential", "ROC")]


def test_a_spaced_level_in_a_footer_band_beside_the_page_number_is_a_banner_token():
    out: list[Candidate] = []
    assert roc.line_candidates(site("第 3 頁　　極機密　　外交部", kind="footer"), Ask(), out)
    assert summary(out) == [("roc_banner", "secret", "ROC")]


def test_a_simplified_jimi_banner_in_a_prc_text_is_the_prc_secret():
    out: list[Candidate] = []
    assert roc.line_candidates(site("机密\n各省人民政府："), Ask(prc_script=True), out)
    assert summary(out) == [("prc_banner", "secret", "PRC")]


def test_a_law_name_in_prose_is_not_a_roc_banner():
    out: list[Candidate] = []
    assert not roc.line_candidates(site("依國家機密保護法辦理"), Ask(), out)
    assert out == []


def test_the_letter_field_with_a_value_is_a_roc_field():
    text = "密等及解密條件或保密期限：極機密（本件至118年解密）"
    out: list[Candidate] = []
    roc.scan_fields(text, Lines.of(text), out)
    assert ("roc_field", "secret", "ROC") in summary(out)


def test_the_ticked_box_of_a_form_is_the_field_value():
    text = "密等：□普通　■機密"
    out: list[Candidate] = []
    roc.scan_fields(text, Lines.of(text), out)
    assert summary(out) == [("roc_field", "confidential", "ROC")]


def test_an_empty_field_gives_no_roc_candidate():
    text = "密等及解密條件或保密期限：\n附件：無"
    out: list[Candidate] = []
    roc.scan_fields(text, Lines.of(text), out)
    assert out == []
