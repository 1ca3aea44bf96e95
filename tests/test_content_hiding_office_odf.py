"""ODF (ODT, ODS, ODP): no hiding place for a marking.

Each test writes a real OpenDocument package with a marking placed ONLY in one place
LibreOffice shows: text boxes in frames, headers and footers (first page, left pages),
footnotes, annotations, master pages, embedded objects (`Object 1/content.xml`). The
marking must be found, with its level, through the real pipeline.
"""

from __future__ import annotations

import docgen
import pytest
from docgen import make_odf_package, odf_content

from dlp_gateway.model import Level
from dlp_gateway.pipeline import InspectionReport, WorkerContext, inspect_message

ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
BODY = "<text:p>有關雙邊會議籌備事宜，請查照。</text:p>"


def levels_at(ctx: WorkerContext, name: str, data: bytes, mimetype: str) -> dict[str, Level]:
    report: InspectionReport = inspect_message(docgen.make_message("資料", "請參閱附件", [(name, data, mimetype)]), ctx)
    out: dict[str, Level] = {}
    for finding in report.findings:
        if finding.level is not None:
            out[finding.location] = max(out.get(finding.location, finding.level), finding.level)
    return out


def test_odt_text_box_in_a_frame_is_read(ctx: WorkerContext) -> None:
    box = ('<text:p><draw:frame draw:name="Frame1" svg:width="5cm"><draw:text-box>'
           "<text:p>機密</text:p></draw:text-box></draw:frame></text:p>")
    odt = make_odf_package("text", BODY + box)
    assert levels_at(ctx, "a.odt", odt, ODT) == {"a.odt › body": Level.CONFIDENTIAL}


def test_odt_text_box_anchored_in_a_paragraph_with_text_is_its_own_line(ctx: WorkerContext) -> None:
    box = ('<text:p>會議紀要如下<draw:frame draw:name="Frame1" text:anchor-type="as-char"><draw:text-box>'
           "<text:p>機密</text:p></draw:text-box></draw:frame>請查照</text:p>")
    odt = make_odf_package("text", BODY + box)
    assert levels_at(ctx, "a.odt", odt, ODT) == {"a.odt › body": Level.CONFIDENTIAL}


@pytest.mark.parametrize("element", ["header-first", "header-left", "footer-first", "footer-left"])
def test_odt_first_and_left_page_headers_and_footers_are_read(ctx: WorkerContext, element: str) -> None:
    master = (f'<style:master-page style:name="Standard"><style:{element}><text:p>機密</text:p>'
              f"</style:{element}></style:master-page>")
    odt = make_odf_package("text", BODY, master_styles=master)
    band = element.split("-")[0]
    assert levels_at(ctx, "a.odt", odt, ODT) == {f"a.odt › {band}": Level.CONFIDENTIAL}


def test_odt_footnote_marking_is_found(ctx: WorkerContext) -> None:
    note = ('<text:p>正文<text:note text:id="ftn1" text:note-class="footnote"><text:note-citation>1</text:note-citation>'
            "<text:note-body><text:p>SECRET//NOFORN</text:p></text:note-body></text:note></text:p>")
    odt = make_odf_package("text", BODY + note)
    assert levels_at(ctx, "a.odt", odt, ODT) == {"a.odt › notes": Level.SECRET}


def test_ods_header_region_and_cell_annotation_are_read(ctx: WorkerContext) -> None:
    master = ('<style:master-page style:name="Default"><style:header><style:region-center>'
              "<text:p>機密</text:p></style:region-center></style:header></style:master-page>")
    cells = ('<table:table table:name="名單"><table:table-row><table:table-cell><office:annotation>'
             "<text:p>SECRET//NOFORN</text:p></office:annotation><text:p>王大明</text:p></table:table-cell>"
             "</table:table-row></table:table>")
    ods = make_odf_package("spreadsheet", cells, master_styles=master)
    assert levels_at(ctx, "b.ods", ods, ODS) == {"b.ods › header": Level.CONFIDENTIAL,
                                                  "b.ods › comments": Level.SECRET}


def test_odp_master_page_text_is_read(ctx: WorkerContext) -> None:
    master = ('<style:master-page style:name="Default"><draw:frame presentation:class="other" svg:x="1cm">'
              "<draw:text-box><text:p>機密</text:p></draw:text-box></draw:frame></style:master-page>")
    slide = ('<draw:page draw:name="page1" draw:master-page-name="Default"><draw:frame><draw:text-box>'
             "<text:p>議程</text:p></draw:text-box></draw:frame></draw:page>")
    odp = make_odf_package("presentation", slide, master_styles=master)
    assert levels_at(ctx, "c.odp", odp, ODP) == {"c.odp › master page Default": Level.CONFIDENTIAL}


def test_odt_embedded_object_content_is_read(ctx: WorkerContext) -> None:
    frame = ('<text:p><draw:frame draw:name="Object1"><draw:object xlink:href="./Object 1" '
             'xlink:type="simple"/></draw:frame></text:p>')
    chart = odf_content("chart", '<chart:chart><chart:title><text:p>SECRET//NOFORN</text:p></chart:title></chart:chart>')
    odt = make_odf_package("text", BODY + frame, extra={"Object 1/content.xml": chart})
    assert levels_at(ctx, "a.odt", odt, ODT) == {"a.odt › Object 1 › body": Level.SECRET}


def test_odt_embedded_ole_object_is_read(ctx: WorkerContext) -> None:
    ole = docgen.make_ole10native("plan.txt", b"SECRET//NOFORN\nthe plan\n")
    odt = make_odf_package("text", BODY, extra={"Object 2": ole})
    assert levels_at(ctx, "a.odt", odt, ODT) == {"a.odt › Object 2 › plan.txt": Level.SECRET}


def test_odp_slide_footer_declaration_is_read(ctx: WorkerContext) -> None:
    # Impress keeps the slide footer text once, in a declaration the slides refer to.
    slides = ('<presentation:footer-decl presentation:name="ftr1">機密</presentation:footer-decl>'
              '<draw:page draw:name="page1" presentation:use-footer-name="ftr1"><draw:frame><draw:text-box>'
              "<text:p>議程</text:p></draw:text-box></draw:frame></draw:page>")
    odp = make_odf_package("presentation", slides)
    assert levels_at(ctx, "c.odp", odp, ODP) == {"c.odp › footer": Level.CONFIDENTIAL}


def test_odt_frame_title_and_description_are_lines_of_their_own(ctx: WorkerContext) -> None:
    frame = ('<text:p>會議紀要如下<draw:frame draw:name="Image1"><svg:title>SECRET//NOFORN</svg:title>'
             "<svg:desc>map of the site</svg:desc></draw:frame>請查照</text:p>")
    odt = make_odf_package("text", BODY + frame)
    assert levels_at(ctx, "a.odt", odt, ODT) == {"a.odt › body": Level.SECRET}
