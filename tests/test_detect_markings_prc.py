"""PRC grammar (detect/markings/prc.py) on its own: stars, the 密级 field, 工作秘密 lines."""

from __future__ import annotations

from detect_markings_helpers import Ask, site, summary

from dlp_gateway.detect.markings import prc
from dlp_gateway.detect.markings.grammar import Candidate, Lines


def test_a_starred_level_with_its_period_is_a_prc_star_one_step_lower_per_word():
    text = "秘密★5年\n关于做好有关工作的通知"
    out: list[Candidate] = []
    prc.scan_fields(text, Lines.of(text), out)
    assert summary(out) == [("prc_star", "confidential", "PRC")]


def test_the_miji_field_is_a_prc_field():
    text = "密级：机密\n签发人：张三"
    out: list[Candidate] = []
    prc.scan_fields(text, Lines.of(text), out)
    assert summary(out) == [("prc_field", "secret", "PRC")]


def test_a_starless_banner_counts_only_in_a_prc_text():
    taken: list[Candidate] = []
    assert prc.line_candidates(site("绝密\n通知"), Ask(prc_script=True), taken)
    assert summary(taken) == [("prc_banner", "top_secret", "PRC")]
    skipped: list[Candidate] = []
    assert not prc.line_candidates(site("绝密\n通知"), Ask(), skipped)
    assert skipped == []


def test_a_work_secret_line_is_prc_restricted():
    out: list[Candidate] = []
    assert prc.line_candidates(site("工作秘密　注意保存"), Ask(), out)
    assert summary(out) == [("prc_restricted", "restricted", "PRC")]


def test_traditional_internal_material_is_an_everyday_label_not_a_prc_marking():
    out: list[Candidate] = []
    assert not prc.line_candidates(site("內部資料"), Ask(), out)
    assert out == []
