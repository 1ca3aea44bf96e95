"""Office and OpenDocument residuals of the red-team round (issue #12: B28, B16, B9, B13).

Each document is built in code and sent as an attachment through the real inspection; the
banner SECRET//NOFORN is what Word, Excel or LibreOffice shows, and it must be found.
"""

from __future__ import annotations

import io
import re
import zipfile

import docgen
import mimegen

US = mimegen.US
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attached(name: str, data: bytes, mimetype: str):  # noqa: ANN201 (InspectionReport)
    raw = docgen.make_message("notes", "Please see the attachment.", [(name, data, mimetype)])
    return mimegen.inspect(raw)


def levels(name: str, data: bytes, mimetype: str) -> set[str]:
    return set(mimegen.levels(attached(name, data, mimetype)).values())


def rewrite(ooxml: bytes, part: str, change) -> bytes:  # noqa: ANN001
    """The package with one XML part changed by `change(text) -> text`."""
    source = zipfile.ZipFile(io.BytesIO(ooxml))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == part:
                data = change(data.decode("utf-8")).encode("utf-8")
            target.writestr(info, data)
    return out.getvalue()


# ---------------------------------------------------------------- B28: a ZIP appended

def test_ordinary_docx_with_appended_zip_has_no_finding_and_no_problem() -> None:
    report = attached("a.docx", docgen.make_docx(["ordinary"]) + docgen.make_zip({"a.txt": b"hello"}), DOCX)
    assert not mimegen.levels(report)
    assert mimegen.decision(report)[0] == "deliver"


def test_docx_with_appended_zip_is_read() -> None:
    data = docgen.make_docx(["ordinary", US]) + docgen.make_zip({"a.txt": b"hello"})
    assert levels("a.docx", data, DOCX) == {"secret"}


def test_zip_appended_to_docx_is_read() -> None:
    data = docgen.make_docx(["ordinary"]) + docgen.make_zip({"s.txt": (US + "\n").encode()})
    assert levels("a.docx", data, DOCX) == {"secret"}


def test_xlsx_with_appended_zip_is_read() -> None:
    data = docgen.make_xlsx({"S": [["ordinary"], [US]]}) + docgen.make_zip({"s.txt": b"hello"})
    assert levels("a.xlsx", data, XLSX) == {"secret"}


def test_benign_docx_appended_to_marked_docx_does_not_hide_it() -> None:
    data = docgen.make_docx(["ordinary", US]) + docgen.make_docx(["nothing to see"])
    assert levels("a.docx", data, DOCX) == {"secret"}


def test_odt_with_appended_zip_is_read() -> None:
    data = docgen.make_odt(["ordinary", US]) + docgen.make_zip({"a.txt": b"hello"})
    assert levels("a.odt", data, "application/vnd.oasis.opendocument.text") == {"secret"}


# ---------------------------------------------------------------- B16: capitals as displayed

def docx_with(paragraph_xml: str) -> bytes:
    """A DOCX whose body has one ordinary paragraph and then `paragraph_xml`."""
    return rewrite(docgen.make_docx(["ordinary"]), "word/document.xml",
                   lambda xml: xml.replace("<w:sectPr", paragraph_xml + "<w:sectPr", 1))


def test_word_run_in_caps_is_read_as_displayed() -> None:
    data = docx_with("<w:p><w:r><w:rPr><w:caps/></w:rPr><w:t>secret//noforn</w:t></w:r></w:p>")
    assert levels("a.docx", data, DOCX) == {"secret"}


def test_word_run_with_caps_switched_off_stays_lower_case() -> None:
    data = docx_with('<w:p><w:r><w:rPr><w:caps w:val="0"/></w:rPr><w:t>secret//noforn</w:t></w:r></w:p>')
    assert levels("a.docx", data, DOCX) == set()


def test_word_paragraph_style_in_caps_is_read_as_displayed() -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("ordinary")
    style = document.styles.add_style("Banner", 1)
    style.font.all_caps = True
    document.add_paragraph("secret//noforn", style="Banner")
    out = io.BytesIO()
    document.save(out)
    assert levels("a.docx", out.getvalue(), DOCX) == {"secret"}


def test_powerpoint_run_with_cap_all_is_read_as_displayed() -> None:
    def capitals(xml: str) -> str:
        changed = re.sub(r"<a:rPr([^>]*?)/><a:t>secret", r'<a:rPr\1 cap="all"/><a:t>secret', xml)
        assert changed != xml
        return changed

    data = rewrite(docgen.make_pptx(["ordinary", "secret//noforn"]), "ppt/slides/slide2.xml", capitals)
    assert levels("a.pptx", data, "application/vnd.openxmlformats-officedocument.presentationml.presentation") == {"secret"}


# ---------------------------------------------------------------- B13: field instructions

def test_word_quote_field_instruction_is_read() -> None:
    data = docx_with('<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
                     '<w:r><w:instrText xml:space="preserve"> QUOTE "SECRET//</w:instrText></w:r>'
                     '<w:r><w:instrText xml:space="preserve">NOFORN" </w:instrText></w:r>'
                     '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>')
    assert levels("a.docx", data, DOCX) == {"secret"}


def test_word_simple_field_instruction_is_read() -> None:
    data = docx_with('<w:p><w:fldSimple w:instr=" QUOTE &quot;SECRET//NOFORN&quot; "/></w:p>')
    assert levels("a.docx", data, DOCX) == {"secret"}


# ---------------------------------------------------------------- B9: text Excel shows outside cell values

def xlsx_levels(data: bytes) -> set[str]:
    return levels("a.xlsx", data, XLSX)


def workbook(change) -> bytes:  # noqa: ANN001
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ordinary", 12])
    change(book, sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_number_format_literal_is_found() -> None:
    def banner_format(book, sheet) -> None:  # noqa: ANN001
        sheet["B2"] = 1
        sheet["B2"].number_format = '"SECRET//NOFORN"'

    assert xlsx_levels(workbook(banner_format)) == {"secret"}


def test_ordinary_number_formats_have_no_finding() -> None:
    def formats(book, sheet) -> None:  # noqa: ANN001
        sheet["B2"] = 1.5
        sheet["B2"].number_format = '#,##0.00" USD"'
        sheet["B3"] = 0.25
        sheet["B3"].number_format = "0.0%"

    assert xlsx_levels(workbook(formats)) == set()


def test_formula_string_without_cached_value_is_found() -> None:
    def formula(book, sheet) -> None:  # noqa: ANN001
        sheet["A3"] = '="SECRET"&"//NOFORN"'

    assert xlsx_levels(workbook(formula)) == {"secret"}


def test_defined_name_string_constant_is_found() -> None:
    from openpyxl.workbook.defined_name import DefinedName

    def name(book, sheet) -> None:  # noqa: ANN001
        book.defined_names["Banner"] = DefinedName("Banner", attr_text='"SECRET//NOFORN"')

    assert xlsx_levels(workbook(name)) == {"secret"}


# ---------------------------------------------------------------- B15 in Word: hidden junk in a banner

def test_hidden_word_run_inside_a_visible_banner_is_found() -> None:
    data = docx_with('<w:p><w:r><w:t>SEC</w:t></w:r><w:r><w:rPr><w:vanish/></w:rPr><w:t>xyz</w:t></w:r>'
                     '<w:r><w:t>RET//NOFORN</w:t></w:r></w:p>')
    assert levels("a.docx", data, DOCX) == {"secret"}


def test_hidden_word_banner_itself_is_still_found() -> None:
    data = docx_with('<w:p><w:r><w:rPr><w:vanish/></w:rPr><w:t>SECRET//NOFORN</w:t></w:r></w:p>')
    assert levels("a.docx", data, DOCX) == {"secret"}



# ---------------------------------------------------------------- OpenDocument: capitals and hidden text

ODT = "application/vnd.oasis.opendocument.text"


def odt_with(styles: str, paragraph_xml: str) -> bytes:
    """An ODT with automatic `styles` and, after an ordinary paragraph, `paragraph_xml`."""
    def change(xml: str) -> str:
        for prefix, uri in (("style", "urn:oasis:names:tc:opendocument:xmlns:style:1.0"),
                            ("fo", "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0")):
            if f"xmlns:{prefix}=" not in xml:
                xml = xml.replace("<office:document-content ", f'<office:document-content xmlns:{prefix}="{uri}" ', 1)
        if re.search(r"<office:automatic-styles\s*/>", xml):
            xml = re.sub(r"<office:automatic-styles\s*/>",
                         f"<office:automatic-styles>{styles}</office:automatic-styles>", xml, count=1)
        else:
            xml = xml.replace("<office:automatic-styles>", f"<office:automatic-styles>{styles}", 1)
        return xml.replace("</office:text>", paragraph_xml + "</office:text>", 1)

    return rewrite(docgen.make_odt(["ordinary"]), "content.xml", change)


def test_odt_span_in_uppercase_style_is_read_as_displayed() -> None:
    data = odt_with('<style:style style:name="T1" style:family="text">'
                    '<style:text-properties fo:text-transform="uppercase"/></style:style>',
                    '<text:p><text:span text:style-name="T1">secret//noforn</text:span></text:p>')
    assert levels("a.odt", data, ODT) == {"secret"}


def test_odt_hidden_span_inside_a_visible_banner_is_found() -> None:
    data = odt_with('<style:style style:name="T2" style:family="text">'
                    '<style:text-properties text:display="none"/></style:style>',
                    '<text:p>SEC<text:span text:style-name="T2">xyz</text:span>RET//NOFORN</text:p>')
    assert levels("a.odt", data, ODT) == {"secret"}


# ---------------------------------------------------------------- RTF: capitals and hidden text

def rtf_levels(body: str) -> set[str]:
    rtf = ("{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0 Arial;}}\\f0 ordinary text\\par " + body + "\\par}").encode()
    return levels("a.rtf", rtf, "application/rtf")


def test_rtf_caps_group_is_read_as_displayed() -> None:
    assert rtf_levels("{\\caps secret//noforn}") == {"secret"}


def test_rtf_hidden_text_inside_a_visible_banner_is_found() -> None:
    assert rtf_levels("SEC{\\v xyz}RET//NOFORN") == {"secret"}


def test_rtf_hidden_escaped_text_inside_a_visible_banner_is_found() -> None:
    assert rtf_levels("SEC\\v \\'e9\\u233?x\\v0 RET//NOFORN") == {"secret"}


# ---------------------------------------------------------------- B37: data a recipient can bring up

def add_part(package: bytes, name: str, content: str) -> bytes:
    out = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(package))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr(name, content)
    return out.getvalue()


def test_pivot_cache_values_are_read() -> None:
    data = add_part(docgen.make_xlsx({"S": [["a"]]}), "xl/pivotCache/pivotCacheDefinition1.xml",
                    '<pivotCacheDefinition xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    f'<cacheFields><cacheField name="c"><sharedItems><s v="{US}"/></sharedItems></cacheField>'
                    "</cacheFields></pivotCacheDefinition>")
    assert xlsx_levels(data) == {"secret"}


def test_custom_xml_data_store_is_read() -> None:
    data = add_part(docgen.make_docx(["ordinary"]), "customXml/item7.xml",
                    f"<properties><classification>{US}</classification></properties>")
    assert levels("a.docx", data, DOCX) == {"secret"}
