"""Office (DOCX, XLSX, PPTX): no hiding place for a marking.

Each test builds a real package with a marking placed ONLY in one place a reader (Word,
Excel, PowerPoint) shows: text boxes and shapes, every kind of header and footer,
footnotes, altChunk imports, the glossary, spreadsheet drawings and chart titles, slide
masters and layouts, embedded OLE packages. The marking must be found, with its level,
through the real pipeline (extract + detectors).
"""

from __future__ import annotations

import io

import docgen
import pytest
from docgen import OFFICE_REL, W_NS, word_paragraph, word_part

from dlp_gateway.model import Level
from dlp_gateway.pipeline import InspectionReport, WorkerContext, inspect_message
from tests.conftest import levels_at

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
VML = "urn:schemas-microsoft-com:vml"
WPS = "http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"


def scan(ctx: WorkerContext, name: str, data: bytes, mimetype: str) -> InspectionReport:
    return inspect_message(docgen.make_message("資料", "請參閱附件", [(name, data, mimetype)]), ctx)


def plain_docx() -> bytes:
    return docgen.make_docx(["有關雙邊會議籌備事宜，請查照。"])


# ------------------------------------------------------------------------------- DOCX

def vml_text_box(text: str) -> str:
    return (f'<w:p><w:r><w:pict><v:shape xmlns:v="{VML}" style="width:200pt;height:50pt">'
            f'<v:textbox><w:txbxContent>{word_paragraph(text)}</w:txbxContent></v:textbox>'
            '</v:shape></w:pict></w:r></w:p>')


def drawingml_text_box(choice: str, fallback: str) -> str:
    """A DrawingML shape (wps:txbx) in mc:AlternateContent with a VML fallback, as Word writes it."""
    return (f'<w:p><w:r><mc:AlternateContent xmlns:mc="{MC}"><mc:Choice Requires="wps">'
            f'<w:drawing><wps:wsp xmlns:wps="{WPS}"><wps:txbx><w:txbxContent>{word_paragraph(choice)}'
            '</w:txbxContent></wps:txbx></wps:wsp></w:drawing></mc:Choice><mc:Fallback>'
            f'<w:pict><v:shape xmlns:v="{VML}"><v:textbox><w:txbxContent>{word_paragraph(fallback)}'
            '</w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>')


def test_docx_vml_text_box_marking_is_found(ctx: WorkerContext) -> None:
    docx = docgen.ooxml_with_parts(plain_docx(), {}, document_xml=("word/document.xml", vml_text_box("機密")))
    assert levels_at(scan(ctx, "b.docx", docx, DOCX)) == {"b.docx › body": Level.CONFIDENTIAL}


def test_docx_text_box_anchored_in_a_paragraph_with_text_is_its_own_line(ctx: WorkerContext) -> None:
    # Word anchors a floating text box in a run of an ordinary paragraph; its text must not
    # be glued to that paragraph's words (which would hide a banner line).
    anchored = (f'<w:p><w:r><w:t>會議紀要如下</w:t></w:r><w:r><w:pict><v:shape xmlns:v="{VML}"><v:textbox>'
                f'<w:txbxContent>{word_paragraph("機密")}</w:txbxContent></v:textbox></v:shape></w:pict></w:r>'
                '<w:r><w:t>請查照</w:t></w:r></w:p>')
    docx = docgen.ooxml_with_parts(plain_docx(), {}, document_xml=("word/document.xml", anchored))
    assert levels_at(scan(ctx, "b.docx", docx, DOCX)) == {"b.docx › body": Level.CONFIDENTIAL}


def test_docx_picture_alt_text_is_read(ctx: WorkerContext) -> None:
    docx = docgen.make_docx(["會議紀要如下"], image=docgen.make_png_header(20, 20))
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml").decode()
    source = source.replace("<wp:docPr ", '<wp:docPr descr="SECRET//NOFORN" ', 1)
    docx = docgen.ooxml_with_parts(docx, {"word/document.xml": source})
    report = scan(ctx, "b.docx", docx, DOCX)
    assert levels_at(report)["b.docx › body"] == Level.SECRET


@pytest.mark.parametrize("choice,fallback", [("SECRET//NOFORN", "draft"), ("draft", "SECRET//NOFORN")])
def test_docx_drawingml_text_box_marking_is_found_in_either_branch(ctx: WorkerContext, choice: str, fallback: str) -> None:
    docx = docgen.ooxml_with_parts(plain_docx(), {}, document_xml=("word/document.xml", drawingml_text_box(choice, fallback)))
    assert levels_at(scan(ctx, "b.docx", docx, DOCX)) == {"b.docx › body": Level.SECRET}


@pytest.mark.parametrize("kind", ["first", "even", "default"])
def test_docx_header_of_every_kind_and_section_is_read(ctx: WorkerContext, kind: str) -> None:
    # a second section's header of the given kind, referenced from that section's sectPr
    section = (f'<w:p><w:pPr><w:sectPr><w:headerReference w:type="{kind}" r:id="rIdHdr9"/>'
               '<w:titlePg/></w:sectPr></w:pPr></w:p>')
    docx = docgen.ooxml_with_parts(
        plain_docx(), {"word/header9.xml": word_part("hdr", "機密")},
        relationships={"word/_rels/document.xml.rels": [("rIdHdr9", REL + "header", "header9.xml")]},
        content_types={"word/header9.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"},
        document_xml=("word/document.xml", section))
    assert levels_at(scan(ctx, "b.docx", docx, DOCX)) == {"b.docx › header": Level.CONFIDENTIAL}


@pytest.mark.parametrize("part,root", [("word/footnotes.xml", "footnotes"), ("word/endnotes.xml", "endnotes")])
def test_docx_footnote_and_endnote_markings_are_found(ctx: WorkerContext, part: str, root: str) -> None:
    xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<w:{root} xmlns:w="{W_NS}"><w:{root[:-1]} w:id="1">'
           f'{word_paragraph("SECRET//NOFORN")}</w:{root[:-1]}></w:{root}>')
    docx = docgen.ooxml_with_parts(plain_docx(), {part: xml})
    assert levels_at(scan(ctx, "b.docx", docx, DOCX)) == {"b.docx › notes": Level.SECRET}


def test_docx_comment_marking_is_found(ctx: WorkerContext) -> None:
    docx = docgen.make_docx(["有關雙邊會議籌備事宜，請查照。"], comment="SECRET//NOFORN")
    assert levels_at(scan(ctx, "b.docx", docx, DOCX)) == {"b.docx › comments": Level.SECRET}


def alt_chunk_docx(name: str, data: bytes) -> bytes:
    return docgen.ooxml_with_parts(
        plain_docx(), {f"word/{name}": data},
        relationships={"word/_rels/document.xml.rels": [("rIdAlt1", REL + "aFChunk", name)]},
        document_xml=("word/document.xml", f'<w:altChunk xmlns:r="{OFFICE_REL}" r:id="rIdAlt1"/>'))


def test_docx_alt_chunk_html_import_is_read(ctx: WorkerContext) -> None:
    html = b"<html><body><p>SECRET//NOFORN</p><p>imported text</p></body></html>"
    report = scan(ctx, "b.docx", alt_chunk_docx("afchunk.htm", html), DOCX)
    assert levels_at(report) == {"b.docx › afchunk.htm": Level.SECRET}


def test_docx_alt_chunk_rtf_import_is_read(ctx: WorkerContext) -> None:
    report = scan(ctx, "b.docx", alt_chunk_docx("afchunk.rtf", docgen.make_rtf("绝密★启动前\n会议")), DOCX)
    assert levels_at(report) == {"b.docx › afchunk.rtf": Level.TOP_SECRET}


def test_docx_alt_chunk_docx_import_is_read(ctx: WorkerContext) -> None:
    inner = docgen.make_docx(["機密", "內嵌文件"])
    report = scan(ctx, "b.docx", alt_chunk_docx("afchunk.docx", inner), DOCX)
    assert levels_at(report) == {"b.docx › afchunk.docx › body": Level.CONFIDENTIAL}


def test_docx_glossary_building_block_is_read(ctx: WorkerContext) -> None:
    glossary = word_part("glossaryDocument", "機密")
    docx = docgen.ooxml_with_parts(
        plain_docx(), {"word/glossary/document.xml": glossary},
        relationships={"word/_rels/document.xml.rels": [("rIdGl1", REL + "glossaryDocument", "glossary/document.xml")]})
    assert levels_at(scan(ctx, "b.docx", docx, DOCX)) == {"b.docx › glossary": Level.CONFIDENTIAL}


def test_docx_embedded_ole_package_is_unpacked_and_read(ctx: WorkerContext) -> None:
    ole = docgen.make_ole10native("plan.txt", b"SECRET//NOFORN\nthe plan\n")
    docx = docgen.ooxml_with_parts(plain_docx(), {"word/embeddings/oleObject1.bin": ole})
    report = scan(ctx, "b.docx", docx, DOCX)
    assert levels_at(report) == {"b.docx › oleObject1.bin › plan.txt": Level.SECRET}
    assert not report.inspection.problems


def test_docx_embedded_office_package_object_is_read(ctx: WorkerContext) -> None:
    # An embedded Word 2007+ document stored as an OLE object: its ZIP in a "Package" stream.
    inner = docgen.make_docx(["機密", "內嵌文件"])
    ole = docgen.make_ole_large({"Package": inner, "\x01CompObj": b"\x01\x00\xfe\xff" + b"\0" * 24})
    docx = docgen.ooxml_with_parts(plain_docx(), {"word/embeddings/oleObject2.bin": ole})
    report = scan(ctx, "b.docx", docx, DOCX)
    assert levels_at(report) == {"b.docx › oleObject2.bin › package › body": Level.CONFIDENTIAL}


# ------------------------------------------------------------------------------- XLSX

def plain_xlsx() -> bytes:
    return docgen.make_xlsx({"名單": [["姓名", "職稱"], ["王大明", "參事"]]})


def test_xlsx_drawing_text_box_is_read(ctx: WorkerContext) -> None:
    drawing = docgen.drawingml_text_part("wsDr", XDR, "機密")
    xlsx = docgen.ooxml_with_parts(plain_xlsx(), {"xl/drawings/drawing1.xml": drawing})
    assert levels_at(scan(ctx, "c.xlsx", xlsx, XLSX)) == {"c.xlsx › drawing 1": Level.CONFIDENTIAL}


def test_xlsx_legacy_vml_text_box_is_read(ctx: WorkerContext) -> None:
    # Excel's legacy text boxes and form controls live in VML, often not well-formed (<br>).
    vml = (f'<xml xmlns:v="{VML}" xmlns:o="urn:schemas-microsoft-com:office:office" '
           'xmlns:x="urn:schemas-microsoft-com:office:excel"><v:shape id="_x0000_s1025" type="#_x0000_t202">'
           "<v:textbox style='mso-direction-alt:auto'><div style='text-align:left'><font face=\"Calibri\">"
           "說明<br></font></div><div><font>SECRET//NOFORN</font></div></v:textbox>"
           '<x:ClientData ObjectType="Text"><x:Anchor>1, 15, 0, 2, 3, 15, 4, 16</x:Anchor></x:ClientData>'
           "</v:shape></xml>")
    xlsx = docgen.ooxml_with_parts(plain_xlsx(), {"xl/drawings/vmlDrawing1.vml": vml})
    assert levels_at(scan(ctx, "c.xlsx", xlsx, XLSX)) == {"c.xlsx › drawing 1 (vml)": Level.SECRET}


def test_xlsx_chart_title_is_read(ctx: WorkerContext) -> None:
    chart = ('<?xml version="1.0" encoding="UTF-8"?>\n<c:chartSpace xmlns:c="http://schemas.openxmlformats.org/'
             'drawingml/2006/chart" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><c:chart>'
             '<c:title><c:tx><c:rich><a:bodyPr/><a:p><a:r><a:t>SECRET//NOFORN</a:t></a:r></a:p></c:rich></c:tx>'
             '</c:title></c:chart></c:chartSpace>')
    xlsx = docgen.ooxml_with_parts(plain_xlsx(), {"xl/charts/chart1.xml": chart})
    assert levels_at(scan(ctx, "c.xlsx", xlsx, XLSX)) == {"c.xlsx › chart 1": Level.SECRET}


@pytest.mark.parametrize("which", ["firstHeader", "evenHeader", "evenFooter", "firstFooter"])
def test_xlsx_first_and_even_print_headers_and_footers_are_read(ctx: WorkerContext, which: str) -> None:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(plain_xlsx()))
    sheet = book.active
    sheet.HeaderFooter.differentFirst = True
    sheet.HeaderFooter.differentOddEven = True
    getattr(sheet, which).center.text = "機密"
    out = io.BytesIO()
    book.save(out)
    band = "header" if "Header" in which else "footer"
    assert levels_at(scan(ctx, "c.xlsx", out.getvalue(), XLSX)) == {f"c.xlsx › sheet 名單 › {band}": Level.CONFIDENTIAL}


def test_xlsx_data_validation_input_message_is_read(ctx: WorkerContext) -> None:
    import openpyxl
    from openpyxl.worksheet.datavalidation import DataValidation

    book = openpyxl.load_workbook(io.BytesIO(plain_xlsx()))
    check = DataValidation(type="list", formula1='"A,B"', showInputMessage=True,
                           promptTitle="注意", prompt="SECRET//NOFORN")
    check.add("B2")
    book.active.add_data_validation(check)
    out = io.BytesIO()
    book.save(out)
    assert levels_at(scan(ctx, "c.xlsx", out.getvalue(), XLSX)) == {"c.xlsx › sheet 名單 › input messages": Level.SECRET}


def test_xlsx_chartsheet_print_header_is_read(ctx: WorkerContext) -> None:
    import openpyxl
    from openpyxl.chart import BarChart, Reference

    book = openpyxl.load_workbook(io.BytesIO(docgen.make_xlsx({"數據": [["年", "數"], ["2025", 3], ["2026", 5]]})))
    chart = BarChart()
    chart.add_data(Reference(book.active, min_col=2, min_row=1, max_row=3), titles_from_data=True)
    sheet = book.create_chartsheet("圖")
    sheet.add_chart(chart)
    sheet.HeaderFooter.oddHeader.center.text = "機密"
    out = io.BytesIO()
    book.save(out)
    assert levels_at(scan(ctx, "c.xlsx", out.getvalue(), XLSX)) == {"c.xlsx › sheet 圖 › header": Level.CONFIDENTIAL}


def test_xlsx_cell_comment_marking_is_found(ctx: WorkerContext) -> None:
    xlsx = docgen.make_xlsx({"名單": [["姓名"]]}, comment=("A1", "SECRET//NOFORN"))
    assert levels_at(scan(ctx, "c.xlsx", xlsx, XLSX)) == {"c.xlsx › comments": Level.SECRET}


def test_xlsx_embedded_ole_package_is_unpacked_and_read(ctx: WorkerContext) -> None:
    ole = docgen.make_ole10native("names.txt", "機密\n名單\n".encode())
    xlsx = docgen.ooxml_with_parts(plain_xlsx(), {"xl/embeddings/oleObject1.bin": ole})
    assert levels_at(scan(ctx, "c.xlsx", xlsx, XLSX)) == {"c.xlsx › oleObject1.bin › names.txt": Level.CONFIDENTIAL}


# ------------------------------------------------------------------------------- PPTX

def pptx_with_shape_in(part: str, text: str) -> bytes:
    """A PPTX whose `part` (a slide master or layout) gets one more text shape."""
    import zipfile

    data = docgen.make_pptx(["議程"])
    source = zipfile.ZipFile(io.BytesIO(data)).read(part).decode()
    shape = ('<p:sp><p:nvSpPr><p:cNvPr id="99" name="Marking"/><p:cNvSpPr txBox="1"/><p:nvPr/></p:nvSpPr>'
             f'<p:spPr/><p:txBody><a:bodyPr/><a:p><a:r><a:t>{text}</a:t></a:r></a:p></p:txBody></p:sp>')
    source = source.replace("</p:spTree>", shape + "</p:spTree>", 1)
    return docgen.ooxml_with_parts(data, {part: source})


def test_pptx_slide_master_marking_is_found(ctx: WorkerContext) -> None:
    pptx = pptx_with_shape_in("ppt/slideMasters/slideMaster1.xml", "機密")
    assert levels_at(scan(ctx, "d.pptx", pptx, PPTX)) == {"d.pptx › slide master 1": Level.CONFIDENTIAL}


def test_pptx_slide_layout_marking_is_found(ctx: WorkerContext) -> None:
    pptx = pptx_with_shape_in("ppt/slideLayouts/slideLayout7.xml", "SECRET//NOFORN")
    assert levels_at(scan(ctx, "d.pptx", pptx, PPTX)) == {"d.pptx › slide layout 7": Level.SECRET}


def test_pptx_notes_page_marking_is_found(ctx: WorkerContext) -> None:
    pptx = docgen.make_pptx(["議程"], notes=["绝密★启动前"])
    assert levels_at(scan(ctx, "d.pptx", pptx, PPTX)) == {"d.pptx › slide 1 › notes": Level.TOP_SECRET}


def test_pptx_embedded_ole_package_is_unpacked_and_read(ctx: WorkerContext) -> None:
    ole = docgen.make_ole10native("plan.txt", b"SECRET//NOFORN\nthe plan\n")
    pptx = docgen.ooxml_with_parts(docgen.make_pptx(["議程"]), {"ppt/embeddings/oleObject1.bin": ole})
    assert levels_at(scan(ctx, "d.pptx", pptx, PPTX)) == {"d.pptx › oleObject1.bin › plan.txt": Level.SECRET}


def test_docx_header_part_under_an_unexpected_name_is_read(ctx: WorkerContext) -> None:
    # Word finds parts by relationship, not by name: a header may be called anything.
    section = '<w:p><w:pPr><w:sectPr><w:headerReference w:type="default" r:id="rIdHdrX"/></w:sectPr></w:pPr></w:p>'
    docx = docgen.ooxml_with_parts(
        plain_docx(), {"word/hdr_a.xml": word_part("hdr", "機密")},
        relationships={"word/_rels/document.xml.rels": [("rIdHdrX", REL + "header", "hdr_a.xml")]},
        content_types={"word/hdr_a.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"},
        document_xml=("word/document.xml", section))
    assert levels_at(scan(ctx, "b.docx", docx, DOCX)) == {"b.docx › word/hdr_a.xml": Level.CONFIDENTIAL}


@pytest.mark.parametrize("make", [plain_docx, plain_xlsx, lambda: docgen.make_pptx(["議程"], notes=["備註"])])
def test_ordinary_office_files_have_no_unexpected_parts(make) -> None:
    import zipfile

    from dlp_gateway.content.office import _KNOWN_PARTS

    names = zipfile.ZipFile(io.BytesIO(make())).namelist()
    assert [n for n in names if n.endswith(".xml") and not _KNOWN_PARTS.fullmatch(n)] == []


# ------------------------------------------------------------------------------- legacy .doc

def test_doc_embedded_package_object_in_the_object_pool_is_read(ctx: WorkerContext) -> None:
    import olefile

    with olefile.OleFileIO(docgen.make_ole10native("plan.txt", b"SECRET//NOFORN\nthe plan\n")) as ole:
        native = ole.openstream("\x01Ole10Native").read()
    doc = docgen.ole_with_streams(docgen.make_doc(["有關雙邊會議籌備事宜，請查照。"]),
                                  {"ObjectPool/_1234567890/\x01Ole10Native": native})
    report = scan(ctx, "c.doc", doc, "application/msword")
    assert levels_at(report) == {"c.doc › plan.txt": Level.SECRET}
