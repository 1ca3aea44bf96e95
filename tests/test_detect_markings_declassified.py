"""Declassification (detect/markings/declassified.py) on its own: stamps and struck banners."""

from __future__ import annotations

from dlp_gateway.detect.markings.declassified import (
    declassification_stamp,
    declassify,
    struck_banners,
)
from dlp_gateway.model import Finding, Level, Segment

STRIKE = "\u0336"


def _segment(text: str, kind: str = "page") -> Segment:
    return Segment(text, "memo.pdf › page 1", "memo.pdf", kind)


def test_an_already_declassified_stamp_on_the_first_line_is_the_stamp():
    text = "本件已解密\n機密\n主旨：會議紀錄"
    assert declassification_stamp([_segment(text)], [text]) == "本件已解密"


def test_a_declassified_status_in_the_middle_of_a_long_register_declassifies_nothing():
    text = "\n".join([f"第{i}案" for i in range(10)] + ["已解密"] + [f"第{i}案" for i in range(10, 20)])
    assert declassification_stamp([_segment(text)], [text]) is None


def test_declassified_needs_a_date_in_the_past():
    past = "DECLASSIFIED ON 2001-05-01\nSECRET\nbody"
    future = "DECLASSIFIED ON 2199-05-01\nSECRET\nbody"
    assert declassification_stamp([_segment(past)], [past]) == "DECLASSIFIED ON 2001-05-01"
    assert declassification_stamp([_segment(future)], [future]) is None


def test_a_banner_struck_through_in_every_character_is_a_declassified_finding():
    text = "".join(ch + STRIKE for ch in "SECRET") + "\nbody"
    found = struck_banners(_segment(text), text)
    assert [(f.rule, f.level, f.tags) for f in found] == [
        ("declassified", None, ("declassified", "former_level:secret", "struck_through"))]


def test_a_partly_struck_banner_is_not_declassified():
    text = "S" + STRIKE + "ECRET\nbody"
    assert struck_banners(_segment(text), text) == []


def test_declassify_keeps_the_former_level_as_a_tag_and_drops_the_level():
    found = declassify(Finding("markings", "roc_banner", "body", "機密", Level.CONFIDENTIAL, "ROC", 0.85), "已解密")
    assert found.level is None and "former_level:confidential" in found.tags
    assert found.evidence == "機密 [declassified: 已解密]"
