"""XML and SVG with internal entities are expanded, within a bound, and read.

Illustrator writes `<!ENTITY ns_svg "http://www.w3.org/2000/svg">` into every SVG it
saves; refusing such files held ordinary mail, and text inside an entity went unread.
Internal entities are now expanded up to `limits.max_xml_entity_expansion`; external and
parameter entities are still never fetched.
"""

from __future__ import annotations

from pathlib import Path

import docgen

from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.model import Inspection, Level, ProblemKind
from dlp_gateway.pipeline import WorkerContext, inspect_message

ILLUSTRATOR_SVG = """<?xml version="1.0" encoding="utf-8"?>
<!-- Generator: Adobe Illustrator 27.0.0, SVG Export Plug-In . SVG Version: 6.00 Build 0)  -->
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [
\t<!ENTITY ns_extend "http://ns.adobe.com/Extensibility/1.0/">
\t<!ENTITY ns_ai "http://ns.adobe.com/AdobeIllustrator/10.0/">
\t<!ENTITY ns_graphs "http://ns.adobe.com/Graphs/1.0/">
\t<!ENTITY ns_svg "http://www.w3.org/2000/svg">
\t<!ENTITY ns_xlink "http://www.w3.org/1999/xlink">
\t<!ENTITY st0 "fill:#C00000;">
{extra}]>
<svg version="1.1" xmlns:x="&ns_extend;" xmlns:i="&ns_ai;" xmlns:graph="&ns_graphs;"
\t xmlns="&ns_svg;" xmlns:xlink="&ns_xlink;" x="0px" y="0px" viewBox="0 0 600 200">
<text style="&st0;" transform="matrix(1 0 0 1 40 60)">{text}</text>
<text transform="matrix(1 0 0 1 40 120)">Org chart, draft 3</text>
</svg>
"""


def svg(text: str, extra: str = "") -> bytes:
    return ILLUSTRATOR_SVG.format(text=text, extra=extra).encode()


def inspect_file(name: str, data: bytes, **limits: object) -> Inspection:
    message = docgen.make_message("圖", "如附", [(name, data, "application/octet-stream")])
    return extract(message, ExtractionLimits(**{"max_seconds": 20, **limits}))


def test_illustrator_svg_with_namespace_entities_is_read_without_a_problem(ctx: WorkerContext) -> None:
    report = inspect_message(docgen.make_message("圖", "如附", [("chart.svg", svg("SECRET//NOFORN"), "image/svg+xml")]), ctx)
    assert {f.location: f.level for f in report.findings if f.level} == {"chart.svg": Level.SECRET}
    assert not report.inspection.problems


def test_marking_inside_an_internal_entity_is_found(ctx: WorkerContext) -> None:
    data = svg("&banner;", extra='\t<!ENTITY banner "機密">\n')
    report = inspect_message(docgen.make_message("圖", "如附", [("chart.svg", data, "image/svg+xml")]), ctx)
    assert {f.location: f.level for f in report.findings if f.level} == {"chart.svg": Level.CONFIDENTIAL}
    assert not report.inspection.problems


def test_nested_internal_entities_are_expanded_in_xml() -> None:
    xml = (b'<?xml version="1.0"?>\n<!DOCTYPE memo [<!ENTITY a "SECRET">\n<!ENTITY b "&a;//NOFORN">]>\n'
           b"<memo><title>&b;</title></memo>")
    ins = inspect_file("memo.xml", xml)
    assert [s.text for s in ins.segments if s.location == "memo.xml" and s.kind == "xml"] == ["SECRET//NOFORN"]
    assert not ins.problems


def test_expansion_beyond_the_configured_bound_is_recorded_and_not_expanded() -> None:
    body = "&big;" * 20
    xml = f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY big "{"x" * 100}">]>\n<r>{body} tail</r>'.encode()
    ins = inspect_file("r.xml", xml, max_xml_entity_expansion=1000)
    assert [(p.kind, p.limit) for p in ins.problems] == [(ProblemKind.LIMIT_EXCEEDED, "max_xml_entity_expansion")]
    assert [s.text for s in ins.segments if s.location == "r.xml" and s.kind == "xml"] == ["tail"]
    ins = inspect_file("r.xml", xml, max_xml_entity_expansion=2000)
    assert not ins.problems and [s.text for s in ins.segments if s.location == "r.xml" and s.kind == "xml"] == ["x" * 2000 + " tail"]


def test_recursive_entity_is_refused_without_hanging() -> None:
    xml = b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "&b;">\n<!ENTITY b "&a;">]>\n<r>&a; tail</r>'
    ins = inspect_file("r.xml", xml)
    assert (ProblemKind.LIMIT_EXCEEDED, "max_xml_entity_expansion") in {(p.kind, p.limit) for p in ins.problems}


def test_external_entity_next_to_internal_ones_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("LOCAL-FILE-CONTENT")
    xml = (f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY ok "internal text">\n'
           f'<!ENTITY x SYSTEM "file://{secret}">\n<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd">\n%p;]>\n'
           "<r>&ok; &x; tail</r>").encode()
    ins = inspect_file("x.xml", xml)
    assert not any("LOCAL-FILE-CONTENT" in s.text for s in ins.segments)
    assert [s.text for s in ins.segments if s.location == "x.xml" and s.kind == "xml"] == ["internal text  tail"]
    assert [(p.kind, p.limit) for p in ins.problems] == [(ProblemKind.LIMIT_EXCEEDED, "xml_entities")]
    assert "x" in ins.problems[0].detail and "%p" in ins.problems[0].detail
