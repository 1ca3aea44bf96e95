"""US / NATO / EU / CUI grammar (detect/markings/latin.py) on its own."""

from __future__ import annotations

from detect_markings_helpers import Ask, site, summary

from dlp_gateway.detect.markings import latin
from dlp_gateway.detect.markings.grammar import Candidate


def test_a_banner_with_caveats_is_a_us_banner_anywhere():
    out: list[Candidate] = []
    assert latin.line_candidates(site("text\nSECRET//NOFORN\nmore", 1), Ask(), out)
    assert summary(out) == [("us_banner", "secret", "US")]


def test_a_lone_confidential_heading_outside_a_us_document_is_not_a_banner():
    out: list[Candidate] = []
    assert latin.line_candidates(site("Hello\nCONFIDENTIAL\nsee below", 1), Ask(), out)
    assert out == []


def test_a_lone_secret_opening_a_mail_is_the_banner_of_a_mail_marked_at_its_top():
    out: list[Candidate] = []
    assert latin.line_candidates(site("SECRET\nThe meeting moved.", top_line=True), Ask(), out)
    assert summary(out) == [("us_banner", "secret", "US")]


def test_nato_and_eu_banners_keep_their_system():
    nato: list[Candidate] = []
    latin.line_candidates(site("NATO SECRET"), Ask(), nato)
    eu: list[Candidate] = []
    latin.line_candidates(site("RESTREINT UE/EU RESTRICTED"), Ask(), eu)
    assert summary(nato) == [("nato_banner", "secret", "NATO")]
    assert summary(eu) == [("eu_banner", "restricted", "EU")]


def test_unclassified_fouo_portion_is_restricted_and_plain_unclassified_is_nothing():
    assert latin._portion_level("U", "//FOUO") == (latin.R, "US")
    assert latin._portion_level("U", "") == (None, "US")
