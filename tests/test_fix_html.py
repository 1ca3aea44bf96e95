"""HTML shown otherwise than its source reads (issue #12, red-team round 3: B10, B15, B16, B24).

A browser shows the banner SECRET//NOFORN; the bytes hold it split by hidden junk, in lower
case under `text-transform`, reversed under a bidi override, in a tooltip glued to link
text, or in an attribute that CSS `attr()` shows. Each case is an ordinary HTML mail body
and must be found as secret; the same note without the trick shows there is no other source.
"""

from __future__ import annotations

import mimegen
import pytest

from dlp_gateway.content.html import read_html_text

NOTE = "<p>Dear colleague,</p><p>the notes of the weekly meeting follow.</p>"


def level_of(html: str) -> str | None:
    raw = mimegen.message("text/html; charset=utf-8", f"<html><body>{html}{NOTE}</body></html>".encode())
    report = mimegen.inspect(raw)
    found = sorted(set(mimegen.levels(report).values()))
    return found[-1] if found else None


def test_plain_note_has_no_finding() -> None:
    assert level_of("") is None


@pytest.mark.parametrize("style", ["display:none", "font-size:0", "visibility:hidden", "font-size:0px;color:#fff"])
def test_hidden_junk_inside_a_visible_banner_is_found(style: str) -> None:
    assert level_of(f'<p>SEC<span style="{style}">xyz</span>RET//NOFORN</p>') == "secret"


def test_hidden_attribute_junk_inside_a_visible_banner_is_found() -> None:
    assert level_of("<p>SEC<span hidden>xyz</span>RET//NOFORN</p>") == "secret"


def test_hidden_banner_itself_is_still_read() -> None:
    assert level_of('<div style="display:none">SECRET//NOFORN</div>') == "secret"


def test_visible_rendering_drops_hidden_text() -> None:
    content = read_html_text('<p>SEC<span style="display: none !important">xyz</span>RET</p>')
    assert content.displayed == "SECRET"
    assert content.text == "SECxyzRET"


def test_displayed_reading_is_omitted_when_it_equals_the_text() -> None:
    assert read_html_text("<p>hello</p><p>world</p>").displayed is None


def test_css_uppercase_banner_is_found() -> None:
    assert level_of('<p style="text-transform:uppercase">secret//noforn</p>') == "secret"


def test_css_uppercase_from_a_style_rule_is_found() -> None:
    html = '<style>.b { text-transform: uppercase }</style><p class="b">secret//noforn</p>'
    assert level_of(html) == "secret"


def test_bdo_rtl_banner_is_found() -> None:
    assert level_of('<p><bdo dir="rtl">NROFON//TERCES</bdo></p>') == "secret"


def test_rtl_override_character_banner_is_found() -> None:
    assert level_of("<p>\u202eNROFON//TERCES\u202c</p>") == "secret"


def test_title_attribute_is_not_glued_to_link_text() -> None:
    assert level_of('<p>hello <a title="SECRET//NOFORN" href="#">x</a> there</p>') == "secret"


def test_meta_content_is_not_glued_to_first_line() -> None:
    raw = mimegen.message("text/html; charset=utf-8",
                          b'<html><head><meta name="classification" content="SECRET//NOFORN"></head>'
                          b"<body>hi</body></html>")
    assert set(mimegen.levels(mimegen.inspect(raw)).values()) == {"secret"}


def test_css_attr_generated_content_is_found() -> None:
    html = '<style>p::before { content: attr(data-c) }</style><p data-c="SECRET//NOFORN"></p>'
    assert level_of(html) == "secret"


def test_small_caps_banner_is_found() -> None:
    assert level_of('<p style="font-variant: small-caps">secret//noforn</p>') == "secret"


def test_comment_inside_a_visible_banner_is_found() -> None:
    assert level_of("<p>SEC<!-- x -->RET//NOFORN</p>") == "secret"


def test_displayed_reading_keeps_only_the_lines_that_differ() -> None:
    from dlp_gateway.content.extract import extract
    from dlp_gateway.content.limits import ExtractionLimits

    html = ('<html><body><span style="display:none">preheader text</span>'
            "<p>first paragraph</p><p>SEC<span hidden>x</span>RET</p></body></html>")
    raw = mimegen.message("text/html; charset=utf-8", html.encode())
    shown = [s.text for s in extract(raw, ExtractionLimits()).segments if s.location.endswith("as displayed")]
    assert shown == ["SECRET"]


@pytest.mark.parametrize("style", [
    "font-size:1px", "mso-hide:all", "color:transparent", "color:rgba(0,0,0,0)",
    "display:inline-block;width:0;overflow:hidden", "position:absolute;left:-9999px",
])
def test_invisible_junk_by_style_inside_a_visible_banner_is_found(style: str) -> None:
    assert level_of(f'<p>SEC<span style="{style}">xyz</span>RET//NOFORN</p>') == "secret"



@pytest.mark.parametrize("html", [
    "<style>" + "a" * 100_000 + "</style><p>x</p>",
    '<p style="' + "a" * 100_000 + '">x</p>',
    "<style>" + "content:" * 20_000 + "attr(</style><p>x</p>",
], ids=["rule-without-brace", "declaration-without-colon", "content-without-attr"])
def test_hostile_css_is_read_in_linear_time(html: str) -> None:
    import time

    start = time.process_time()
    read_html_text(html)
    assert time.process_time() - start < 2.0
