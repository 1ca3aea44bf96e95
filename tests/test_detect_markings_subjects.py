"""Subject lines (detect/markings/subjects.py) on their own."""

from __future__ import annotations

from detect_markings_helpers import summary

from dlp_gateway.detect.markings.grammar import Candidate
from dlp_gateway.detect.markings.subjects import scan_subject


def _subject(text: str, prc_script: bool = False) -> list[tuple[str, str, str]]:
    out: list[Candidate] = []
    scan_subject(text, 0, 0, out, prc_script=lambda: prc_script)
    return summary(out)


def test_a_bracketed_level_after_reply_prefixes_is_a_roc_subject():
    assert _subject("RE: 回覆：【極機密】雙邊會談") == [("roc_subject", "secret", "ROC")]


def test_a_title_in_title_marks_is_not_a_marking():
    assert _subject("《機密》電影觀後感") == []


def test_office_banter_with_top_secret_is_not_a_classified_subject():
    assert _subject("TOP SECRET: Friday surprise party") == []


def test_a_us_portion_mark_opening_the_subject_is_a_us_subject():
    assert _subject("(S//NF) Talking points") == [("us_subject", "secret", "US")]
