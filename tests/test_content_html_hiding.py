"""HTML leaves no hiding place (issue #12): a marking put where a recipient or a reader of
the source can find it, but a plain text reader would not, is found with its level.

Each message is ordinary HTML mail (a short note in prose) with the banner 極機密 (secret)
put in one hiding place; the same note without it has no finding, so each test shows
the hiding place alone carries the marking.
"""

from __future__ import annotations

import base64
import urllib.parse

import docgen
import pytest

from dlp_gateway.config import load_settings
from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.model import Level, ProblemKind
from dlp_gateway.pipeline import WorkerContext, inspect_message

MARK = "極機密"
PROSE = "<p>各位同仁好：</p><p>附上本週會議紀錄，請查照。</p><p>北美司 敬上</p>"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> WorkerContext:
    data_dir = tmp_path_factory.mktemp("data")
    return WorkerContext.from_settings(load_settings(None, {"data_dir": str(data_dir), "detect.fingerprints": False}))


def message(hidden: str, head: str = "") -> bytes:
    html = f"<html><head>{head}</head><body>{hidden}{PROSE}</body></html>"
    return docgen.make_message("週報", "各位同仁好：附上本週會議紀錄，請查照。", html=html)


def level(ctx: WorkerContext, hidden: str, head: str = "") -> Level | None:
    return inspect_message(message(hidden, head), ctx).level


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def svg(text: str) -> bytes:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40">'
            f'<text x="0" y="20">{text}</text></svg>').encode()


def test_plain_note_has_no_finding(ctx: WorkerContext) -> None:
    assert level(ctx, "") is None


@pytest.mark.parametrize("hidden", [
    f'<div style="display:none">{MARK}</div>',
    f'<div style="font-size:0;color:#fff;background:#fff">{MARK}</div>',
], ids=["display-none", "font-size-0-white-on-white"])
def test_hidden_element_text_is_found(ctx: WorkerContext, hidden: str) -> None:
    assert level(ctx, hidden) == Level.SECRET


@pytest.mark.parametrize("hidden", [
    f'<img alt="{MARK}" src="cid:logo">',
    f'<div title="{MARK}"></div>',
    f'<input type="hidden" value="{MARK}">',
    f'<input placeholder="{MARK}">',
    f'<div aria-label="{MARK}"></div>',
], ids=["alt", "title", "value", "placeholder", "aria-label"])
def test_text_attribute_is_found(ctx: WorkerContext, hidden: str) -> None:
    assert level(ctx, hidden) == Level.SECRET


def test_named_meta_content_is_found(ctx: WorkerContext) -> None:
    assert level(ctx, "", f'<meta name="classification" content="{MARK}">') == Level.SECRET


def test_css_generated_content_in_a_style_rule_is_found(ctx: WorkerContext) -> None:
    head = f'<style>/* letterhead */ .banner::before {{ content: "{MARK}"; color: red }}</style>'
    assert level(ctx, '<div class="banner"></div>', head) == Level.SECRET


def test_css_generated_content_with_css_escapes_in_a_style_attribute_is_found(ctx: WorkerContext) -> None:
    escaped = "".join(f"\\{ord(c):x} " for c in MARK)  # \6975 \6a5f \5bc6
    assert level(ctx, f"<div style='content: \"{escaped}\"'></div>") == Level.SECRET


def test_css_comment_in_a_style_element_is_found(ctx: WorkerContext) -> None:
    assert level(ctx, "", f"<style>/* {MARK} */ p {{ margin: 0 }}</style>") == Level.SECRET


def test_iframe_srcdoc_document_is_found(ctx: WorkerContext) -> None:
    assert level(ctx, f'<iframe srcdoc="&lt;p&gt;{MARK}&lt;/p&gt;&lt;p&gt;附件&lt;/p&gt;"></iframe>') == Level.SECRET


def test_noscript_text_is_found(ctx: WorkerContext) -> None:
    assert level(ctx, f"<noscript><p>{MARK}</p></noscript>") == Level.SECRET


def test_template_text_is_found(ctx: WorkerContext) -> None:
    assert level(ctx, f"<template><p>{MARK}</p></template>") == Level.SECRET


@pytest.mark.parametrize("element", ["text", "title", "desc"])
def test_inline_svg_text_title_and_desc_are_found(ctx: WorkerContext, element: str) -> None:
    attributes = ' x="0" y="10"' if element == "text" else ""
    hidden = f'<svg width="0" height="0"><{element}{attributes}>{MARK}</{element}></svg>'
    assert level(ctx, hidden) == Level.SECRET


def test_comment_text_is_found(ctx: WorkerContext) -> None:
    assert level(ctx, f"<!--[if mso]><p>{MARK}</p><![endif]-->") == Level.SECRET


def test_data_uri_link_to_a_text_file_is_read_as_a_file(ctx: WorkerContext) -> None:
    data = b64(f"{MARK}\n會議紀錄\n".encode())
    report = inspect_message(message(f'<a href="data:text/plain;base64,{data}">紀錄</a>'), ctx)
    assert report.level == Level.SECRET
    (finding,) = [f for f in report.findings if f.level == Level.SECRET]
    assert "data: URI 1 (a href)" in finding.location


def test_css_url_data_uri_svg_image_is_read_as_a_file(ctx: WorkerContext) -> None:
    data = urllib.parse.quote(svg(MARK).decode())
    hidden = f"<div style=\"background-image: url('data:image/svg+xml,{data}')\"></div>"
    assert level(ctx, hidden) == Level.SECRET


def test_data_uri_beyond_the_byte_limit_is_a_limit_problem_not_read() -> None:
    data = b64(b"x" * 8192)  # the HTML part is about 11 KB, the decoded data 8 KB
    raw = docgen.make_message("s", "b", html=f'<a href="data:text/plain;base64,{data}">x</a>')
    ins = extract(raw, ExtractionLimits(max_total_bytes=15_000))
    (problem,) = [p for p in ins.problems if p.kind == ProblemKind.LIMIT_EXCEEDED]
    assert problem.limit == "max_total_bytes" and "data: URI 1" in problem.location
    assert not any("data: URI" in p.location for p in ins.parts)


def test_the_same_data_uri_repeated_is_read_once() -> None:
    cell = f'<td><img src="data:text/plain;base64,{b64(b"spacer")}"></td>'
    raw = docgen.make_message("s", "b", html="<table><tr>" + cell * 1500 + "</tr></table>")
    ins = extract(raw, ExtractionLimits())
    assert len([p for p in ins.parts if "data: URI" in p.location]) == 1
    assert not ins.problems  # 1,500 copies would exceed max_members (1000)


@pytest.mark.slow
def test_data_uri_png_image_is_ocrd_like_an_attachment(ctx: WorkerContext) -> None:
    png = docgen.make_png(["極機密", "駐外館處電報"])
    report = inspect_message(message(f'<img src="data:image/png;base64,{b64(png)}">'), ctx)
    assert report.level == Level.SECRET
    (part,) = [p for p in report.inspection.parts if "data: URI" in p.location]
    assert part.true_type == "image/png"


# -- shapes libxml2 cannot read whole go to the linear reader, and nothing is lost ----------

def test_text_after_nesting_deeper_than_the_parser_limit_is_found(ctx: WorkerContext) -> None:
    assert level(ctx, "<div>" * 5000 + f"<p>{MARK}</p>") == Level.SECRET


def test_text_after_a_tag_with_thousands_of_attributes_is_found(ctx: WorkerContext) -> None:
    tag = "<p " + " ".join(f"a{i}=x" for i in range(3000)) + ">"
    assert level(ctx, f"{tag}</p><p>{MARK}</p>") == Level.SECRET


def test_html_too_deep_for_the_parser_is_a_note_not_a_problem() -> None:
    raw = docgen.make_message("s", "b", html="<div>" * 5000 + "<p>text</p>")
    ins = extract(raw, ExtractionLimits())
    assert [n.detail.split(":")[0] for n in ins.notes if n.location == "body 2"] == ["HTML read with tags removed"]
    assert not ins.problems


def test_cve_2025_6069_poison_is_read_quickly_and_the_text_before_it_is_found(ctx: WorkerContext) -> None:
    import time

    # Unterminated `<a ` at the end of the document: html.parser took 10 s for this.
    html = f"<html><body><p>{MARK}</p>" + "<a " * 10_000
    raw = docgen.make_message("週報", "請查照。", html=html)
    started = time.monotonic()
    found = inspect_message(raw, ctx).level
    assert time.monotonic() - started < 3
    assert found == Level.SECRET


def test_html_walk_stops_at_the_message_deadline_with_a_timeout_problem() -> None:
    from dlp_gateway.content import html as html_reader
    from dlp_gateway.content.text_files import _decode
    from dlp_gateway.content.walk import Reader

    reader = Reader(ExtractionLimits(max_seconds=5))
    reader.budget.started -= 10  # this message has already spent its time elsewhere
    document = "".join(f"<p>paragraph {i}</p>" for i in range(5000)).encode()
    html_reader.read_html(reader, document, "body", 0, decode=_decode)
    assert [(p.kind, p.limit) for p in reader.inspection.problems] == [(ProblemKind.TIMEOUT, "max_seconds")]
    assert "paragraph 4999" not in "".join(s.text for s in reader.inspection.segments)
