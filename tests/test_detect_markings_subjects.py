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


def test_a_caveated_us_banner_followed_only_by_a_space_is_a_us_subject():
    assert _subject("RE: SECRET//NOFORN trip report") == [("us_subject", "secret", "US")]
    assert _subject("SECRET//REL TO USA, TWN trip report") == [("us_subject", "secret", "US")]


def test_an_uncaveated_banner_word_followed_by_words_is_not_a_subject_marking():
    assert _subject("SECRET trip report") == []
    assert _subject("Secret santa list") == []


def test_a_prc_level_with_its_star_followed_by_a_space_is_a_prc_subject():
    assert _subject("绝密★ 会议纪要") == [("prc_subject", "top_secret", "PRC")]
    assert _subject("转发: 绝密★启用前 会议纪要") == [("prc_subject", "top_secret", "PRC")]


def test_the_two_highest_roc_levels_opening_a_subject_are_a_roc_subject():
    assert _subject("極機密 會議紀錄") == [("roc_subject", "secret", "ROC")]
    assert _subject("絕對機密 外交電報") == [("roc_subject", "top_secret", "ROC")]


def test_confidential_alone_opening_a_subject_stays_prose():
    assert _subject("機密 會議紀錄") == []
    assert _subject("極機密文件的保管規定講習") == []
