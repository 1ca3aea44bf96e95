"""SVG text drawn in runs (issue #12, red-team round 3: B23): <tspan> runs of one <text>
are one drawn line unless a run moves to another line."""

from __future__ import annotations

import docgen
import mimegen


def svg_levels(text_xml: str) -> set[str]:
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="300" height="60">{text_xml}'
           '<text x="0" y="50">weekly meeting</text></svg>').encode()
    raw = docgen.make_message("notes", "Please see the drawing.", [("a.svg", svg, "image/svg+xml")])
    return set(mimegen.levels(mimegen.inspect(raw)).values())


def test_ordinary_drawing_has_no_finding() -> None:
    assert svg_levels('<text x="0" y="10"><tspan>weekly</tspan><tspan> notes</tspan></text>') == set()


def test_tspans_of_one_line_are_joined() -> None:
    assert svg_levels('<text x="0" y="10"><tspan>SEC</tspan><tspan>RET//NOFORN</tspan></text>') == {"secret"}


def test_kerned_tspans_with_x_only_are_joined() -> None:
    text = '<text y="10"><tspan x="0" y="10">SEC</tspan><tspan x="23.5" y="10">RET//NOFORN</tspan></text>'
    assert svg_levels(text) == {"secret"}


def test_tspan_on_another_line_is_not_joined() -> None:
    from lxml import etree

    from dlp_gateway.content.xmldoc import svg_text_lines

    text = etree.fromstring('<text y="10"><tspan>first</tspan><tspan x="0" dy="1.2em">second</tspan></text>')
    assert svg_text_lines(text) == ["first", "second"]
