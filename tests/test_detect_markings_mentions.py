"""Mention suppression (detect/markings/mentions.py) on its own: candidates in, markings out."""

from __future__ import annotations

from dlp_gateway.detect.markings.context import PartContext
from dlp_gateway.detect.markings.grammar import Candidate, Lines
from dlp_gateway.detect.markings.mentions import drop_mentions
from dlp_gateway.model import Level


def _banner(text: str, line_no: int, level: Level) -> Candidate:
    lines = Lines.of(text)
    start = lines.starts[line_no]
    line = lines.lines[line_no]
    position = "edge" if line_no in lines.edge else "middle"
    return Candidate("roc_banner", level, "ROC", line, 0.85, line_no, start, start + len(line), position,
                     family="ROC")


def test_a_lone_banner_is_kept():
    text = "機密\n主旨：會議\n說明：如附件"
    cands = [_banner(text, 0, Level.CONFIDENTIAL)]
    assert drop_mentions(cands, text, Lines.of(text), PartContext(text), "body") == cands


def test_distinct_levels_on_neighbouring_lines_are_a_list_of_levels():
    text = "分級如下\n絕對機密\n極機密\n機密\n以上"
    cands = [_banner(text, 1, Level.TOP_SECRET), _banner(text, 2, Level.SECRET), _banner(text, 3, Level.CONFIDENTIAL)]
    assert drop_mentions(cands, text, Lines.of(text), PartContext(text), "body") == []


def test_a_level_heading_followed_by_its_definition_is_a_handouts_term():
    text = "課程講義\n\n機密\n指洩漏後足以使國家安全遭受損害之事項\n\n結束"
    cands = [_banner(text, 2, Level.CONFIDENTIAL)]
    assert drop_mentions(cands, text, Lines.of(text), PartContext(text), "body") == []


def test_a_text_naming_three_levels_is_about_classification_but_a_letter_keeps_its_edge_banner():
    about = "機密\n本講習介紹絕對機密、極機密與機密三級。"
    letter = "機密\n主旨：本講習介紹絕對機密、極機密與機密三級。\n說明：請查照。"
    assert drop_mentions([_banner(about, 0, Level.CONFIDENTIAL)], about, Lines.of(about), PartContext(about), "body") == []
    kept = drop_mentions([_banner(letter, 0, Level.CONFIDENTIAL)], letter, Lines.of(letter), PartContext(letter), "body")
    assert [c.level for c in kept] == [Level.CONFIDENTIAL]
