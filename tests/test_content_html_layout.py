"""HTML mail keeps the layout blanks a browser keeps: &nbsp; and the ideographic space.

A letter pasted into an HTML mail lays its top line out with them (「外交部&nbsp;&nbsp;&nbsp;機密」);
collapsing them to one space would glue the level to the agency name.
"""

from __future__ import annotations

from dlp_gateway.content.html import html_to_text


def test_ascii_blank_runs_collapse_to_one_space():
    assert html_to_text("<p>a  \t b</p>") == "a b"


def test_nbsp_and_ideographic_space_runs_are_kept():
    text = html_to_text("<div>外交部&nbsp;&nbsp;&nbsp;&nbsp;機密</div><div>簽\u3000\u3000於北美司</div>")
    assert text.split("\n") == ["外交部\xa0\xa0\xa0\xa0機密", "簽\u3000\u3000於北美司"]


def test_lines_of_only_blanks_are_dropped():
    assert html_to_text("<p>&nbsp;</p><p>x</p>") == "x"
