"""Generators of test documents: plain functions that return bytes.

Every fixture in the suite is made here by code (no checked-in blobs), so a test states
the phrase it puts in and the place it expects to find it. CJK text renders without
system fonts: PDFs use PyMuPDF's built-in CJK fonts ("china-t" traditional, "china-s"
simplified), and images are made by rasterising such a PDF page, with sizes that
Tesseract reads reliably.

The signatures are a contract for other test files: only add functions or optional
parameters, never change what an existing call returns.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import pymupdf

# A4 in points; the header band is the top 10% of a page and the footer band the bottom
# 10% (content/pdf.py uses the same proportion), so header text sits at y=40 and footer
# text at y=815.
PAGE_WIDTH = 595
PAGE_HEIGHT = 842
HEADER_Y = 40
FOOTER_Y = 815
BODY_TOP = 140
CJK_FONT = "china-t"


def _insert_lines(page: pymupdf.Page, lines: list[str], top: float, fontsize: float,
                  fontname: str) -> None:
    y = top
    for line in lines:
        page.insert_text((56, y), line, fontname=fontname, fontsize=fontsize)
        y += fontsize * 1.6


def make_pdf(
    pages: list[str],
    header: str | None = None,
    footer: str | None = None,
    *,
    fontname: str = CJK_FONT,
    fontsize: float = 12,
    metadata: dict[str, str] | None = None,
    annotation: str | None = None,
    form_field: tuple[str, str] | None = None,
    embedded: dict[str, bytes] | None = None,
) -> bytes:
    """A PDF with a text layer: one page per string (lines split on newlines).

    `header`/`footer` are written on every page in the top/bottom band. `annotation` adds
    a text (sticky-note) annotation on page 1; `form_field` = (name, value) adds a text
    widget on page 1; `embedded` = {filename: bytes} adds embedded files; `metadata` sets
    the document info (title, author, subject, keywords...).
    """
    doc = pymupdf.open()
    for text in pages or [""]:
        page = doc.new_page(width=PAGE_WIDTH, height=PAGE_HEIGHT)
        if header:
            page.insert_text((56, HEADER_Y), header, fontname=fontname, fontsize=fontsize)
        _insert_lines(page, text.split("\n"), BODY_TOP, fontsize, fontname)
        if footer:
            page.insert_text((56, FOOTER_Y), footer, fontname=fontname, fontsize=fontsize)
    first = doc[0]
    if annotation:
        first.add_text_annot((500, 100), annotation)
    if form_field:
        widget = pymupdf.Widget()
        widget.field_type = pymupdf.PDF_WIDGET_TYPE_TEXT
        widget.field_name = form_field[0]
        widget.field_value = form_field[1]
        widget.rect = pymupdf.Rect(56, 600, 400, 630)
        first.add_widget(widget)
    for name, data in (embedded or {}).items():
        doc.embfile_add(name, data, filename=name)
    if metadata:
        doc.set_metadata(metadata)
    out = doc.tobytes(garbage=3, deflate=True)
    doc.close()
    return out


def _raster_page(lines: list[str], dpi: int, fontsize: float, fontname: str) -> pymupdf.Pixmap:
    """Render lines of large text on a white page into a pixmap (greyscale)."""
    height = max(200, int(80 + len(lines) * fontsize * 1.8))
    width = max(500, int(60 + max((len(line) for line in lines), default=10) * fontsize * 1.1))
    doc = pymupdf.open()
    page = doc.new_page(width=width, height=height)
    _insert_lines(page, lines, 40 + fontsize, fontsize, fontname)
    pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
    doc.close()
    return pix


def make_scanned_pdf(lines: list[str], dpi: int = 200, *, fontsize: float = 24,
                     fontname: str = CJK_FONT, header: str | None = None,
                     footer: str | None = None) -> bytes:
    """A one-page PDF holding only a raster image of the text: no text layer, needs OCR.

    Without `header`/`footer` the image is a tight crop of the lines placed near the top of
    an A4 page. With either, the whole A4 page is scanned as on a copier: `header` at the
    top (inside the header band), the lines from BODY_TOP, `footer` at the bottom.
    """
    if header is None and footer is None:
        pix = _raster_page(lines, dpi, fontsize, fontname)
        natural_w, natural_h = pix.width * 72 / dpi, pix.height * 72 / dpi
        w = min(PAGE_WIDTH - 40, natural_w)
        h = natural_h * w / natural_w
        rect = pymupdf.Rect(20, 60, 20 + w, 60 + h)
    else:
        source = pymupdf.open()
        page = source.new_page(width=PAGE_WIDTH, height=PAGE_HEIGHT)
        if header:
            page.insert_text((56, HEADER_Y + fontsize / 2), header, fontname=fontname, fontsize=fontsize)
        _insert_lines(page, lines, BODY_TOP, fontsize, fontname)
        if footer:
            page.insert_text((56, FOOTER_Y), footer, fontname=fontname, fontsize=fontsize)
        pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
        source.close()
        rect = pymupdf.Rect(0, 0, PAGE_WIDTH, PAGE_HEIGHT)
    png = pix.tobytes("png")
    doc = pymupdf.open()
    page = doc.new_page(width=PAGE_WIDTH, height=PAGE_HEIGHT)
    page.insert_image(rect, stream=png)
    out = doc.tobytes(deflate=True)
    doc.close()
    return out


def make_png(text_lines: list[str], dpi: int = 200, *, fontsize: float = 24,
             fontname: str = CJK_FONT) -> bytes:
    """A PNG "photo" of a page with the given lines (greyscale, large print)."""
    return _raster_page(text_lines, dpi, fontsize, fontname).tobytes("png")


def make_jpeg(text_lines: list[str], dpi: int = 200, *, fontsize: float = 24,
              fontname: str = CJK_FONT) -> bytes:
    return _raster_page(text_lines, dpi, fontsize, fontname).tobytes("jpeg", jpg_quality=90)


def _via_pillow(png: bytes, fmt: str) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as img:
        out = io.BytesIO()
        img.save(out, format=fmt)
        return out.getvalue()


def make_tiff(text_lines: list[str], dpi: int = 200, *, fontsize: float = 24,
              fontname: str = CJK_FONT) -> bytes:
    return _via_pillow(make_png(text_lines, dpi, fontsize=fontsize, fontname=fontname), "TIFF")


def make_gif(text_lines: list[str], dpi: int = 200, *, fontsize: float = 24,
             fontname: str = CJK_FONT) -> bytes:
    return _via_pillow(make_png(text_lines, dpi, fontsize=fontsize, fontname=fontname), "GIF")


def make_bmp(text_lines: list[str], dpi: int = 200, *, fontsize: float = 24,
             fontname: str = CJK_FONT) -> bytes:
    return _via_pillow(make_png(text_lines, dpi, fontsize=fontsize, fontname=fontname), "BMP")


def make_png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width×height but holds one tiny IDAT: a decompression-bomb probe."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


# --------------------------------------------------------------------------- OOXML

def _zip_rewrite(data: bytes, replace: dict[str, bytes]) -> bytes:
    """Copy a ZIP, replacing or adding members."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in replace:
                continue
            dst.writestr(info, src.read(info.filename))
        for name, body in replace.items():
            dst.writestr(name, body)
    return out.getvalue()


def msip_label_properties(name: str, label_id: str = "3de9faa6-9fe1-49b3-9a08-227a296b54a6",
                          site_id: str = "72f988bf-86f1-41af-91ab-2d7cd011db47") -> dict[str, str]:
    """The custom properties Microsoft Purview writes for a sensitivity label."""
    prefix = f"MSIP_Label_{label_id}_"
    return {
        prefix + "Enabled": "true",
        prefix + "SetDate": "2026-01-05T08:00:00Z",
        prefix + "Method": "Privileged",
        prefix + "Name": name,
        prefix + "SiteId": site_id,
        prefix + "ActionId": "0b7a6f4e-0000-4000-8000-000000000001",
        prefix + "ContentBits": "1",
    }


def _add_custom_properties(ooxml: bytes, props: dict[str, str]) -> bytes:
    from xml.sax.saxutils import escape

    items = "".join(
        f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{i + 2}" name="{escape(k)}">'
        f"<vt:lpwstr>{escape(v)}</vt:lpwstr></property>"
        for i, (k, v) in enumerate(props.items())
    )
    custom = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        f"{items}</Properties>"
    ).encode()
    src = zipfile.ZipFile(io.BytesIO(ooxml))
    types = src.read("[Content_Types].xml").decode()
    if "/docProps/custom.xml" not in types:
        types = types.replace(
            "</Types>",
            '<Override PartName="/docProps/custom.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>',
        )
    rels = src.read("_rels/.rels").decode()
    if "docProps/custom.xml" not in rels:
        rels = rels.replace(
            "</Relationships>",
            '<Relationship Id="rIdCustom1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties" '
            'Target="docProps/custom.xml"/></Relationships>',
        )
    return _zip_rewrite(ooxml, {"docProps/custom.xml": custom,
                                "[Content_Types].xml": types.encode(),
                                "_rels/.rels": rels.encode()})


def make_docx(
    body_paragraphs: list[str],
    header: str | None = None,
    footer: str | None = None,
    comment: str | None = None,
    label: str | None = None,
    *,
    title: str | None = None,
    table: list[list[str]] | None = None,
    image: bytes | None = None,
    custom_properties: dict[str, str] | None = None,
    deleted_text: str | None = None,
) -> bytes:
    """A DOCX with paragraphs, optional header/footer, a comment on the first paragraph,
    an MSIP sensitivity `label` (name) in docProps/custom.xml, a core title, a table, an
    inline image (PNG bytes) and `deleted_text` as a tracked deletion (w:del/w:delText)."""
    import docx
    from docx.shared import Inches

    document = docx.Document()
    paragraphs = [document.add_paragraph(text) for text in body_paragraphs or [""]]
    if header is not None:
        document.sections[0].header.paragraphs[0].text = header
    if footer is not None:
        document.sections[0].footer.paragraphs[0].text = footer
    if comment is not None:
        runs = paragraphs[0].runs or [paragraphs[0].add_run(" ")]
        document.add_comment(runs, text=comment, author="tester", initials="T")
    if table:
        grid = document.add_table(rows=len(table), cols=max(len(r) for r in table))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    if image is not None:
        document.add_picture(io.BytesIO(image), width=Inches(5))
    if title is not None:
        document.core_properties.title = title
    out = io.BytesIO()
    document.save(out)
    data = out.getvalue()
    if deleted_text is not None:
        from xml.sax.saxutils import escape

        source = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()
        deletion = ('<w:p><w:del w:id="901" w:author="tester" w:date="2026-01-05T08:00:00Z"><w:r>'
                    f'<w:delText xml:space="preserve">{escape(deleted_text)}</w:delText></w:r></w:del></w:p>')
        source = source.replace("<w:sectPr", deletion + "<w:sectPr", 1)
        data = _zip_rewrite(data, {"word/document.xml": source.encode()})
    props = dict(custom_properties or {})
    if label is not None:
        props.update(msip_label_properties(label))
    if props:
        data = _add_custom_properties(data, props)
    return data


def make_xlsx(sheets: dict[str, list[list[Any]]], *, label: str | None = None,
              comment: tuple[str, str] | None = None) -> bytes:
    """An XLSX with one worksheet per key; `comment` = (cell, text) on the first sheet."""
    import openpyxl
    from openpyxl.comments import Comment

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in (sheets or {"Sheet1": [[""]]}).items():
        sheet = book.create_sheet(title=name)
        for row in rows:
            sheet.append(row)
    if comment is not None:
        book.worksheets[0][comment[0]].comment = Comment(comment[1], "tester")
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    if label is not None:
        data = _add_custom_properties(data, msip_label_properties(label))
    return data


def make_pptx(slides: list[str], notes: list[str] | None = None, *,
              label: str | None = None) -> bytes:
    """A PPTX with one text box per slide and optional speaker notes per slide."""
    import pptx
    from pptx.util import Inches, Pt

    deck = pptx.Presentation()
    layout = deck.slide_layouts[6]  # blank
    for i, text in enumerate(slides or [""]):
        slide = deck.slides.add_slide(layout)
        box = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(8), Inches(2))
        box.text_frame.text = text
        box.text_frame.paragraphs[0].runs[0].font.size = Pt(24)
        if notes and i < len(notes) and notes[i]:
            slide.notes_slide.notes_text_frame.text = notes[i]
    out = io.BytesIO()
    deck.save(out)
    data = out.getvalue()
    if label is not None:
        data = _add_custom_properties(data, msip_label_properties(label))
    return data


# --------------------------------------------------------------------------- ODF

def make_odt(paragraphs: list[str], *, title: str | None = None,
             header: str | None = None, footer: str | None = None,
             comment: str | None = None) -> bytes:
    """An ODT; `comment` is an annotation anchored in the first paragraph."""
    from odf import style, text
    from odf.opendocument import OpenDocumentText

    doc = OpenDocumentText()
    if header is not None or footer is not None:
        layout = style.PageLayout(name="pl1")
        doc.automaticstyles.addElement(layout)
        master = style.MasterPage(name="Standard", pagelayoutname=layout)
        if header is not None:
            h = style.Header()
            h.addElement(text.P(text=header))
            master.addElement(h)
        if footer is not None:
            f = style.Footer()
            f.addElement(text.P(text=footer))
            master.addElement(f)
        doc.masterstyles.addElement(master)
    for index, para in enumerate(paragraphs or [""]):
        p = text.P(text=para)
        if index == 0 and comment is not None:
            from odf import office

            note = office.Annotation()
            note.addElement(text.P(text=comment))
            p.addElement(note)
        doc.text.addElement(p)
    if title is not None:
        from odf import dc

        doc.meta.addElement(dc.Title(text=title))
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


def make_ods(sheets: dict[str, list[list[str]]]) -> bytes:
    from odf import table, text
    from odf.opendocument import OpenDocumentSpreadsheet

    doc = OpenDocumentSpreadsheet()
    for name, rows in (sheets or {"Sheet1": [[""]]}).items():
        tab = table.Table(name=name)
        for row in rows:
            tr = table.TableRow()
            for value in row:
                cell = table.TableCell(valuetype="string")
                cell.addElement(text.P(text=str(value)))
                tr.addElement(cell)
            tab.addElement(tr)
        doc.spreadsheet.addElement(tab)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


def make_odp(slides: list[str], notes: list[str] | None = None) -> bytes:
    from odf import draw, presentation, style, text
    from odf.opendocument import OpenDocumentPresentation

    doc = OpenDocumentPresentation()
    layout = style.PageLayout(name="pl1")
    doc.automaticstyles.addElement(layout)
    master = style.MasterPage(name="Default", pagelayoutname=layout)
    doc.masterstyles.addElement(master)
    for i, content in enumerate(slides or [""]):
        page = draw.Page(masterpagename=master, name=f"page{i + 1}")
        frame = draw.Frame(width="20cm", height="5cm", x="1cm", y="1cm")
        box = draw.TextBox()
        box.addElement(text.P(text=content))
        frame.addElement(box)
        page.addElement(frame)
        if notes and i < len(notes) and notes[i]:
            note = presentation.Notes()
            nframe = draw.Frame(width="20cm", height="5cm", x="1cm", y="10cm")
            nbox = draw.TextBox()
            nbox.addElement(text.P(text=notes[i]))
            nframe.addElement(nbox)
            note.addElement(nframe)
            page.addElement(note)
        doc.presentation.addElement(page)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


# --------------------------------------------------------------------------- RTF, e-document XML

def make_rtf(text: str, *, codepage: int | None = None) -> bytes:
    """An RTF document. Non-ASCII is written as `\\uN?` escapes, or, with `codepage`
    (e.g. 950 for Big5), as `\\'xx` code-page escapes under `\\ansicpg`."""
    out: list[str] = []
    for ch in text:
        if ch in "\\{}":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\par\n")
        elif ord(ch) < 128:
            out.append(ch)
        elif codepage is not None:
            out.append("".join(f"\\'{b:02x}" for b in ch.encode(f"cp{codepage}")))
        else:
            code = ord(ch)
            if code > 32767:
                code -= 65536
            out.append(f"\\u{code}?")
    cpg = codepage if codepage is not None else 1252
    body = "".join(out)
    return (f"{{\\rtf1\\ansi\\ansicpg{cpg}\\deff0{{\\fonttbl{{\\f0 Arial;}}}}"
            f"\\f0\\fs24 {body}\\par\n}}").encode("ascii")


def make_edoc_xml(secrecy_code: str | None, body: str, encoding: str = "utf-8", *,
                  declassify: str | None = None, bom: bool = False, root: str = "函",
                  doc_number: str = "外政字第1150012345號") -> bytes:
    """An e-document (.di) letter. `secrecy_code` None gives `<密等 />` (unclassified);
    `declassify` fills 解密條件或保密期限; `encoding` "utf-8" or "big5"."""
    from xml.sax.saxutils import escape, quoteattr

    secrecy = "<密等 />" if secrecy_code is None else f"<密等 代碼={quoteattr(secrecy_code)} />"
    xml = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<!DOCTYPE {root} SYSTEM "104_2_utf8.dtd">\n'
        f"<{root}>\n"
        "  <發文機關><全銜>外交部</全銜><機關代碼>A01000000A</機關代碼></發文機關>\n"
        "  <函類別 代碼=\"函\" />\n"
        "  <地址>臺北市中正區凱達格蘭大道2號</地址>\n"
        "  <速別 代碼=\"普通件\" />\n"
        f"  <密等及解密條件或保密期限>{secrecy}"
        f"<解密條件或保密期限>{escape(declassify or '')}</解密條件或保密期限>"
        "</密等及解密條件或保密期限>\n"
        f"  <發文字號><字>外政</字><文號><年度>115</年度><流水號>0012345</流水號></文號></發文字號>\n"
        f"  <主旨><文字>{escape(body)}</文字></主旨>\n"
        f"  <段落 段名=\"說明：\"><文字>{escape(doc_number)}</文字></段落>\n"
        f"</{root}>\n"
    )
    data = xml.encode(encoding)
    if bom and encoding.lower().replace("-", "") == "utf8":
        data = b"\xef\xbb\xbf" + data
    return data


def make_billion_laughs() -> bytes:
    """The classic XML entity-expansion bomb (must never be expanded)."""
    ents = ['<!ENTITY lol "lol">']
    for i in range(1, 10):
        prev = "lol" if i == 1 else f"lol{i - 1}"
        ents.append(f'<!ENTITY lol{i} "{("&" + prev + ";") * 10}">')
    return ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n' + "\n".join(ents)
            + "\n]>\n<lolz>&lol9;</lolz>\n").encode()


# --------------------------------------------------------------------------- archives

def make_zip(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED,
             force_zip64: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = compression
            with zf.open(info, "w", force_zip64=force_zip64) as fh:
                fh.write(data)
    return out.getvalue()


def make_zip_legacy_names(members: dict[str, bytes], encoding: str = "cp950") -> bytes:
    """A ZIP as Windows tools in Taiwan write it: names in `encoding` (Big5/cp950) without
    the UTF-8 flag, which a naive reader shows as cp437 mojibake."""
    placeholders = {f"~{i:0{len(name.encode(encoding)) - 1}d}"[: len(name.encode(encoding))]: name
                    for i, name in enumerate(members)}
    if any(len(k) != len(v.encode(encoding)) for k, v in placeholders.items()):
        raise ValueError("make_zip_legacy_names: names too short for placeholders")
    data = make_zip({k: members[v] for k, v in placeholders.items()}, compression=zipfile.ZIP_STORED)
    for placeholder, name in placeholders.items():
        data = data.replace(placeholder.encode("ascii"), name.encode(encoding))
    return data


def make_encrypted_zip(members: dict[str, bytes]) -> bytes:
    """A ZIP whose members carry the "encrypted" flag (traditional PKWARE encryption bit).

    The contents are not really enciphered (the standard library cannot write that); what
    matters to the gateway is that a reader must treat the members as unreadable.
    """
    data = bytearray(make_zip(members, compression=zipfile.ZIP_STORED))
    for sig, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (pos := data.find(sig, start)) != -1:
            data[pos + flag_offset] |= 0x01
            start = pos + 4
    return bytes(data)


def _tar(members: dict[str, bytes], mode: str) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1767225600
            tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


def make_tar(members: dict[str, bytes]) -> bytes:
    return _tar(members, "w")


def make_targz(members: dict[str, bytes]) -> bytes:
    return _tar(members, "w:gz")


def make_gzip(data: bytes, name: str | None = None) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(filename=name or "", mode="wb", fileobj=out, mtime=0) as fh:
        fh.write(data)
    return out.getvalue()


def make_bz2(data: bytes) -> bytes:
    return bz2.compress(data)


def make_xz(data: bytes) -> bytes:
    return lzma.compress(data, format=lzma.FORMAT_XZ)


def make_7z(members: dict[str, bytes], password: str | None = None) -> bytes:
    """A 7z archive; with `password`, contents and names are AES-encrypted."""
    import py7zr

    out = io.BytesIO()
    with py7zr.SevenZipFile(out, "w", password=password,
                            header_encryption=password is not None) as archive:
        for name, data in members.items():
            archive.writef(io.BytesIO(data), name)
    return out.getvalue()


def make_rar(members: dict[str, bytes], encrypted: tuple[str, ...] = (),
             compressed: tuple[str, ...] = ()) -> bytes:
    """A RAR 4 archive with stored (uncompressed) members; names in `encrypted` carry the
    password flag, names in `compressed` claim the "best" method over their bytes as they
    are (not real RAR compression: no extractor can unpack them). Built by hand, as there
    is no free RAR writer."""
    import struct
    import zlib

    def block(kind: int, flags: int, body: bytes) -> bytes:
        head = struct.pack("<BHH", kind, flags, 7 + len(body)) + body
        return struct.pack("<H", zlib.crc32(head) & 0xFFFF) + head

    out = [b"Rar!\x1a\x07\x00", block(0x73, 0, b"\0" * 6)]
    for name, data in members.items():
        encoded = name.encode("utf-8")
        flags = 0x8000 | 0x0200 | (0x0004 if name in encrypted else 0)
        method = 0x35 if name in compressed else 0x30
        body = struct.pack("<IIBIIBBHI", len(data), len(data), 3, zlib.crc32(data), 0x5C210000,
                           29 if name in compressed else 20, method, len(encoded), 0x20) + encoded
        out.append(block(0x74, flags, body) + data)
    out.append(b"\xc4\x3d\x7b\x00\x40\x07\x00")
    return b"".join(out)


def make_nested_zip(inner_name: str, inner: bytes, levels: int) -> bytes:
    """`levels` ZIPs each holding the next: level1.zip › level2.zip › ... › inner_name."""
    data, name = inner, inner_name
    for level in range(levels, 0, -1):
        data = make_zip({name: data})
        name = f"level{level}.zip"
    return data


# --------------------------------------------------------------------------- messages

def make_message(
    subject: str,
    body: str,
    attachments: list[tuple[str, bytes, str]] | None = None,
    charset: str = "utf-8",
    *,
    html: str | None = None,
    headers: dict[str, str] | None = None,
    sender: str = "attache@mission.example",
    to: str = "desk@mofa.example",
    transfer_encoding: str | None = None,
) -> bytes:
    """A full RFC 5322 message: text body in `charset` (e.g. "big5", "gb18030"), an
    optional HTML alternative, and attachments [(filename, bytes, "type/subtype")].
    Non-ASCII subjects and file names are encoded (RFC 2047 / RFC 2231) by the library.
    `transfer_encoding` ("base64" / "quoted-printable" / "8bit") forces the body's."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(__import__("datetime").datetime(2026, 1, 5, 8, 0, 0,
                                  tzinfo=__import__("datetime").timezone.utc))
    msg["Message-ID"] = make_msgid(domain="mission.example")
    for name, value in (headers or {}).items():
        msg[name] = value
    kwargs: dict[str, Any] = {}
    if transfer_encoding:
        kwargs["cte"] = transfer_encoding
    if charset.lower().replace("-", "") in ("utf8",):
        msg.set_content(body, charset="utf-8", **kwargs)
    else:
        # email's str path cannot encode to every codec; give it bytes plus the charset.
        encoded = body.encode(charset)
        msg.set_content(encoded, maintype="text", subtype="plain",
                        cte=transfer_encoding or "base64")
        msg.replace_header("Content-Type", f'text/plain; charset="{charset}"')
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for filename, data, mimetype in attachments or []:
        maintype, _, subtype = mimetype.partition("/")
        if maintype == "message" and subtype == "rfc822":
            import email
            import email.policy

            inner = email.message_from_bytes(data, policy=email.policy.default)
            msg.add_attachment(inner, filename=filename)
        else:
            msg.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=filename)
    return msg.as_bytes()


# --------------------------------------------------------------------------- hostile inputs

def make_zip_bomb(levels: int = 3, copies: int = 4, kernel_bytes: int = 16 * 1024 * 1024) -> bytes:
    """A 42.zip-style bomb: `levels` of ZIPs, each holding `copies` of the level below;
    the innermost ZIPs hold `copies` files of `kernel_bytes` zeros each
    (copies**levels × kernel_bytes when fully expanded: 1 GiB with the defaults)."""
    zeros = b"\0" * kernel_bytes
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for i in range(copies):
            zf.writestr(f"{i}.bin", zeros)
    data = out.getvalue()
    for level in range(levels - 1):
        data = make_zip({f"{level}-{i}.zip": data for i in range(copies)})
    return data


def make_overlapping_zip_bomb(entries: int = 1000, kernel_bytes: int = 10 * 1024 * 1024) -> bytes:
    """An overlapping-entry bomb (after Fifield): one highly compressed member whose data is
    referenced by `entries` central-directory records, so every record expands the same
    kernel again (entries × kernel_bytes: 10 GB with the defaults, from ~100 KB)."""
    import struct

    single = make_zip({"kernel.bin": b"\0" * kernel_bytes})
    cd_offset = struct.unpack("<I", single[-6:-2])[0]
    eocd = single.rfind(b"PK\x05\x06")
    record = single[cd_offset:eocd]
    directory = record * entries
    tail = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, entries, entries, len(directory), cd_offset, 0)
    return single[:cd_offset] + directory + tail


def make_pdf_claiming_objects(objects: int = 1_000_000) -> bytes:
    """A tiny PDF whose cross-reference table and page tree claim `objects` objects and pages."""
    body = [b"%PDF-1.4\n"]
    offsets = []
    objs = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count %d>>" % objects,
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>",
    ]
    for number, obj in enumerate(objs, start=1):
        offsets.append(sum(len(b) for b in body))
        body.append(b"%d 0 obj\n" % number + obj + b"\nendobj\n")
    xref_at = sum(len(b) for b in body)
    xref = [b"xref\n0 %d\n" % objects, b"0000000000 65535 f \n"]
    xref += [b"%010d 00000 n \n" % off for off in offsets]
    trailer = b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (objects, xref_at)
    return b"".join(body + xref) + trailer


# --------------------------------------------------------------------------- OLE2 (legacy Office)

def make_ole(streams: dict[str, bytes]) -> bytes:
    """A minimal Compound File (OLE2, version 3) holding `streams`.

    A name with "/" puts the stream in a storage ("__attach_version1.0_#00000000/data").
    Each stream is zero-padded to 4096 bytes so that it lives in regular sectors (no
    mini-stream is needed); readers of these files strip trailing NULs anyway. Enough for
    legacy .doc/.xls/.ppt, Outlook .msg, encrypted-OOXML and similar fixtures.
    """
    import struct

    sector = 512
    end, free, fatsect = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD

    def order(name: str) -> tuple[int, str]:
        return (len(name), name.upper())

    # The directory tree: "" is the root; every storage lists its children.
    children: dict[str, list[str]] = {"": []}
    for path in streams:
        parent = ""
        for step in path.split("/")[:-1]:
            node = f"{parent}/{step}" if parent else step
            if node not in children:
                children[node] = []
                children[parent].append(node)
            parent = node
        children[parent].append(path)
    ids: dict[str, int] = {"": 0}
    queue = [""]
    while queue:
        node = queue.pop(0)
        for child in sorted(children.get(node, []), key=lambda p: order(p.rsplit("/", 1)[-1])):
            ids[child] = len(ids)
            if child in children:
                queue.append(child)
    paths = sorted(ids, key=ids.get)
    padded = {p: streams[p] + b"\0" * max(0, 4096 - len(streams[p])) for p in streams}
    dir_sectors = (len(paths) * 128 + sector - 1) // sector
    fat: list[int] = [fatsect]
    dir_start = len(fat)
    fat += [dir_start + i + 1 for i in range(dir_sectors - 1)] + [end]
    starts: dict[str, int] = {}
    for path in paths:
        if path in padded:
            count = (len(padded[path]) + sector - 1) // sector
            starts[path] = len(fat)
            fat += [len(fat) + i + 1 for i in range(count - 1)] + [end]
    if len(fat) > sector // 4:
        raise ValueError("make_ole: streams too large for a single FAT sector")
    fat += [free] * (sector // 4 - len(fat))

    def entry(path: str) -> bytes:
        name = "Root Entry" if path == "" else path.rsplit("/", 1)[-1]
        kind = 5 if path == "" else 1 if path in children else 2
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        siblings = sorted(children[parent], key=lambda p: order(p.rsplit("/", 1)[-1])) if path else []
        right = -1
        if path and siblings.index(path) + 1 < len(siblings):
            right = ids[siblings[siblings.index(path) + 1]]
        kids = sorted(children.get(path, []), key=lambda p: order(p.rsplit("/", 1)[-1]))
        child = ids[kids[0]] if kids else -1
        start, size = (starts[path], len(padded[path])) if path in padded else (end if kind == 5 else 0, 0)
        encoded = name.encode("utf-16-le") + b"\0\0"
        return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1)
                + struct.pack("<iii", -1, right, child) + b"\0" * 36 + struct.pack("<IQ", start, size))

    directory = b"".join(entry(p) for p in paths).ljust(dir_sectors * sector, b"\0")
    difat = [0] + [free] * 108
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, 1, dir_start, 0, 4096, end, 0, end, 0)
              + struct.pack("<109I", *difat))
    body = b"".join(padded[p].ljust(((len(padded[p]) + sector - 1) // sector) * sector, b"\0")
                    for p in paths if p in padded)
    return header + struct.pack(f"<{sector // 4}I", *fat) + directory + body


def make_outlook_msg(subject: str, body: str, attachments: dict[str, bytes] | None = None) -> bytes:
    """An Outlook .msg (OLE) with Unicode subject and body properties and attachments
    (each attachment stream is zero-padded; use formats that tolerate trailing NULs)."""
    streams = {
        "__substg1.0_0037001F": subject.encode("utf-16-le"),
        "__substg1.0_1000001F": body.encode("utf-16-le"),
    }
    for index, (name, data) in enumerate((attachments or {}).items()):
        storage = f"__attach_version1.0_#{index:08X}"
        streams[f"{storage}/__substg1.0_3707001F"] = name.encode("utf-16-le")
        streams[f"{storage}/__substg1.0_37010102"] = data
    return make_ole(streams)


def make_legacy_doc(text: str) -> bytes:
    """A Word 97-style OLE file whose WordDocument stream holds `text` as UTF-16 (the way
    Word stores non-Latin text); a stand-in for .doc files, read best effort."""
    word = b"\xec\xa5\xc1\x00" + b"\0" * 508 + text.encode("utf-16-le") + b"\0\0"
    return make_ole({"WordDocument": word, "1Table": b"\0" * 64})


def make_doc(body_paragraphs: list[str], header: str | None = None) -> bytes:
    """A Word 97-2003 .doc with a real File Information Block and piece table: the body
    story (paragraphs) and an optional header story, stored as UTF-16 text."""
    import struct

    body = "".join(p + "\r" for p in body_paragraphs or [""])
    head = f"{header}\r\r" if header else ""
    text = body + head
    word = bytearray(0x800)
    struct.pack_into("<HH", word, 0, 0xA5EC, 0x00C1)
    struct.pack_into("<H", word, 0x0A, 0x0200)  # fWhichTblStm: the table stream is 1Table
    struct.pack_into("<H", word, 0x20, 14)
    struct.pack_into("<H", word, 0x3E, 22)
    struct.pack_into("<I", word, 0x4C, len(body))  # ccpText
    struct.pack_into("<I", word, 0x54, len(head))  # ccpHdd
    struct.pack_into("<H", word, 0x98, 0x5D)
    plc = struct.pack("<II", 0, len(text)) + struct.pack("<HIH", 0, 0x800, 0)
    clx = b"\x02" + struct.pack("<I", len(plc)) + plc
    struct.pack_into("<II", word, 0x1A2, 0, len(clx))  # fcClx, lcbClx
    word += text.encode("utf-16-le")
    return make_ole({"WordDocument": bytes(word), "1Table": clx})


def make_encrypted_ooxml() -> bytes:
    """What Office writes for a password-protected DOCX/XLSX: an OLE file with
    EncryptionInfo and EncryptedPackage streams (contents here are placeholders)."""
    return make_ole({"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00" + b"\0" * 64,
                     "EncryptedPackage": b"\x00\x10\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 16})


# --------------------------------------------------------------------------- TNEF

def make_tnef(attachments: dict[str, bytes], subject: str = "", body: str = "",
              codepage: int = 950) -> bytes:
    """A winmail.dat (TNEF) stream as Outlook writes it: OEM code page, subject, plain
    body, and each attachment as rendering data + title + data attributes."""
    import struct

    def attribute(level: int, kind: int, ident: int, value: bytes) -> bytes:
        return (struct.pack("<BII", level, (kind << 16) | ident, len(value)) + value
                + struct.pack("<H", sum(value) & 0xFFFF))

    out = [struct.pack("<IH", 0x223E9F78, 0x0001)]
    out.append(attribute(1, 0x0006, 0x9007, struct.pack("<II", codepage, 0)))
    if subject:
        out.append(attribute(1, 0x0001, 0x8004, subject.encode(f"cp{codepage}") + b"\0"))
    if body:
        out.append(attribute(1, 0x0002, 0x800C, body.encode(f"cp{codepage}") + b"\0"))
    for name, data in attachments.items():
        out.append(attribute(2, 0x0006, 0x9002, b"\1\0\xff\xff\xff\xff" + b"\0" * 8))
        out.append(attribute(2, 0x0001, 0x8010, name.encode(f"cp{codepage}") + b"\0"))
        out.append(attribute(2, 0x0006, 0x800F, data))
    return b"".join(out)


# ----------------------------------------------------------------------------- HTML mail bodies

OUTLOOK_HTML_HEAD = """<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" \
xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" \
xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="Generator" content="Microsoft Word 15 (filtered medium)">
<style><!--
/* Font Definitions */
@font-face
\t{font-family:"Cambria Math";
\tpanose-1:2 4 5 3 5 4 6 3 2 4;}
/* Style Definitions */
p.MsoNormal, li.MsoNormal, div.MsoNormal
\t{margin:0cm;
\tfont-size:11.0pt;
\tfont-family:"Calibri",sans-serif;}
a:link, span.MsoHyperlink
\t{mso-style-priority:99;
\tcolor:#0563C1;
\ttext-decoration:underline;}
.MsoChpDefault
\t{mso-style-type:export-only;
\tfont-family:"Calibri",sans-serif;}
@page WordSection1
\t{size:612.0pt 792.0pt;
\tmargin:72.0pt 72.0pt 72.0pt 72.0pt;}
div.WordSection1
\t{page:WordSection1;}
--></style><!--[if gte mso 9]><xml>
<o:shapedefaults v:ext="edit" spidmax="1026" />
</xml><![endif]-->
</head>
<body lang="EN-US" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">
<div class="WordSection1">
"""



def outlook_html(paragraphs: list[str]) -> str:
    """An HTML body as Outlook writes it (Word's filtered HTML); paragraphs go in as given."""
    body = "".join(f'<p class="MsoNormal">{p}<o:p></o:p></p>\n' for p in paragraphs)
    return OUTLOOK_HTML_HEAD + body + "</div>\n</body>\n</html>\n"


def gmail_html(paragraphs: list[str], *, blank_lines: bool = False) -> str:
    """An HTML body as Gmail writes it: one <div> per line, no document around it."""
    spacer = "<div><br></div>" if blank_lines else ""
    return '<div dir="ltr">' + "".join(f"<div>{p}</div>{spacer}" for p in paragraphs) + "</div>\n"


# --------------------------------------------------------------------------- TNEF MAPI properties

def tnef_property_block(props: list[tuple[int, int, bytes]]) -> bytes:
    """A TNEF MAPI property list (MS-OXTNEF 2.1.3.5) of single-valued standard properties,
    each (type, id, value): variable-length types (0x1E, 0x1F, 0x0102, 0x000D) get a
    value count and length, every value is padded to 4 bytes."""
    import struct

    out = [struct.pack("<I", len(props))]
    for kind, ident, value in props:
        out.append(struct.pack("<HH", kind, ident))
        if kind in (0x001E, 0x001F, 0x0102, 0x000D):
            out.append(struct.pack("<II", 1, len(value)))
        out.append(value + b"\0" * (-len(value) % 4))
    return b"".join(out)


def make_tnef_with_body_properties(*, plain: str | None = None, html: str | None = None,
                                   rtf: bytes | None = None, subject: str = "",
                                   attachments: dict[str, bytes] | None = None,
                                   long_names: dict[str, str] | None = None,
                                   codepage: int = 950) -> bytes:
    """A winmail.dat as Outlook writes a rich-text message: the body only in the MAPI
    property block (attMsgProps): PR_BODY as Unicode, PR_HTML as binary UTF-8, and
    PR_RTF_COMPRESSED (`rtf` compressed with compressed-rtf). Attachments as in
    `make_tnef`, each with an attAttachment block naming its long file name
    (`long_names[name]`) when given."""
    import struct

    from compressed_rtf import compress

    def attribute(level: int, kind: int, ident: int, value: bytes) -> bytes:
        return (struct.pack("<BII", level, (kind << 16) | ident, len(value)) + value
                + struct.pack("<H", sum(value) & 0xFFFF))

    props: list[tuple[int, int, bytes]] = []
    if plain is not None:
        props.append((0x001F, 0x1000, plain.encode("utf-16-le") + b"\0\0"))
    if html is not None:
        props.append((0x0102, 0x1013, html.encode("utf-8")))
    if rtf is not None:
        props.append((0x0102, 0x1009, compress(rtf, compressed=True)))
    props.append((0x0003, 0x3FDE, struct.pack("<I", 65001)))  # PR_INTERNET_CPID, fixed-size
    out = [struct.pack("<IH", 0x223E9F78, 0x0001)]
    out.append(attribute(1, 0x0006, 0x9007, struct.pack("<II", codepage, 0)))
    if subject:
        out.append(attribute(1, 0x0001, 0x8004, subject.encode(f"cp{codepage}") + b"\0"))
    out.append(attribute(1, 0x0006, 0x9003, tnef_property_block(props)))
    for name, data in (attachments or {}).items():
        out.append(attribute(2, 0x0006, 0x9002, b"\1\0\xff\xff\xff\xff" + b"\0" * 8))
        out.append(attribute(2, 0x0001, 0x8010, name.encode(f"cp{codepage}") + b"\0"))
        out.append(attribute(2, 0x0006, 0x800F, data))
        if long_names and name in long_names:
            block = tnef_property_block([(0x001F, 0x3707, long_names[name].encode("utf-16-le") + b"\0\0")])
            out.append(attribute(2, 0x0006, 0x9005, block))
    return b"".join(out)


# --------------------------------------------------------------------------- Outlook .msg bodies

def outlook_msg_streams(subject: str = "", *, body: str | None = None, html: str | None = None,
                        rtf: bytes | None = None, attachments: dict[str, bytes] | None = None,
                        embedded: dict[str, dict[str, bytes]] | None = None) -> dict[str, bytes]:
    """The property streams of an Outlook message (MS-OXMSG) for `make_ole`: subject and
    plain body (Unicode), PR_HTML (binary UTF-8), PR_RTF_COMPRESSED (`rtf` compressed
    with compressed-rtf), attachments by file (attach method 1), and embedded messages
    (attach method 5): `embedded` maps a display name to the streams of the inner message
    (from this function), stored under the attachment's `__substg1.0_3701000D` storage."""
    import struct

    from compressed_rtf import compress

    streams: dict[str, bytes] = {}
    if subject:
        streams["__substg1.0_0037001F"] = subject.encode("utf-16-le")
    if body is not None:
        streams["__substg1.0_1000001F"] = body.encode("utf-16-le")
    if html is not None:
        streams["__substg1.0_10130102"] = html.encode("utf-8")
    if rtf is not None:
        streams["__substg1.0_10090102"] = compress(rtf, compressed=True)
    index = 0
    for name, data in (attachments or {}).items():
        storage = f"__attach_version1.0_#{index:08X}"
        streams[f"{storage}/__substg1.0_3707001F"] = name.encode("utf-16-le")
        streams[f"{storage}/__substg1.0_37010102"] = data
        index += 1
    for name, inner in (embedded or {}).items():
        storage = f"__attach_version1.0_#{index:08X}"
        streams[f"{storage}/__substg1.0_3001001F"] = name.encode("utf-16-le")  # PR_DISPLAY_NAME
        streams[f"{storage}/__properties_version1.0"] = (
            b"\0" * 8 + struct.pack("<HHIQ", 0x0003, 0x3705, 0x6, 5))  # PR_ATTACH_METHOD = 5
        for path, data in inner.items():
            streams[f"{storage}/__substg1.0_3701000D/{path}"] = data
        index += 1
    return streams


def make_ole_large(streams: dict[str, bytes]) -> bytes:
    """`make_ole` without its single-FAT-sector bound on stream sizes (up to about 7 MB;
    the directory is still built by `make_ole`, so about 14 streams at most):
    for .msg fixtures that carry real Office attachments. Same layout otherwise: FAT
    sectors first, then the directory, then every stream padded to at least 4096 bytes."""
    import struct

    sector = 512
    per_fat = sector // 4
    end, free, fatsect = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    small = {p: d for p, d in streams.items()}
    first = make_ole({p: b"" for p in small})  # reuse make_ole's directory tree
    directory_entries = []
    # Parse the directory make_ole wrote (names, kinds, tree links) and re-point streams.
    (dir_start,) = struct.unpack_from("<I", first, 0x30)
    fat0 = struct.unpack_from(f"<{per_fat}I", first, 512)
    dir_sectors, s = [], dir_start
    while s != end:
        dir_sectors.append(s)
        s = fat0[s]
    raw_dir = b"".join(first[512 * (n + 1): 512 * (n + 2)] for n in dir_sectors)
    for i in range(len(raw_dir) // 128):
        directory_entries.append(bytearray(raw_dir[128 * i: 128 * (i + 1)]))

    def path_of(index: int, prefix: str, out: dict[int, str]) -> None:
        entry = directory_entries[index]
        name_len = struct.unpack_from("<H", entry, 64)[0]
        name = entry[: max(0, name_len - 2)].decode("utf-16-le")
        path = f"{prefix}/{name}" if prefix else name
        out[index] = path
        left, right, child = struct.unpack_from("<iii", entry, 68)
        for sibling in (left, right):
            if sibling >= 0:
                path_of(sibling, prefix, out)
        if child >= 0 and entry[66] == 1:
            path_of(child, path, out)

    paths: dict[int, str] = {}
    root_child = struct.unpack_from("<i", directory_entries[0], 76)[0]
    if root_child >= 0:
        path_of(root_child, "", paths)
    padded = {p: d + b"\0" * max(0, 4096 - len(d)) for p, d in small.items()}
    data_sectors = len(directory_entries) * 128 // sector + sum(
        (len(d) + sector - 1) // sector for d in padded.values())
    nfat = 1
    while nfat * per_fat < nfat + data_sectors:
        nfat += 1
    if nfat > 109:
        raise ValueError("make_ole_large: streams too large")
    fat: list[int] = [fatsect] * nfat
    new_dir_start = len(fat)
    ndir = len(directory_entries) * 128 // sector
    fat += [new_dir_start + i + 1 for i in range(ndir - 1)] + [end]
    body = []
    for index in sorted(paths):
        path = paths[index]
        if path not in padded:
            continue
        data = padded[path]
        count = (len(data) + sector - 1) // sector
        struct.pack_into("<IQ", directory_entries[index], 116, len(fat), len(data))
        fat += [len(fat) + i + 1 for i in range(count - 1)] + [end]
        body.append(data.ljust(count * sector, b"\0"))
    fat += [free] * (nfat * per_fat - len(fat))
    difat = list(range(nfat)) + [free] * (109 - nfat)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, nfat, new_dir_start, 0, 4096, end, 0, end, 0)
              + struct.pack("<109I", *difat))
    return (header + struct.pack(f"<{nfat * per_fat}I", *fat)
            + b"".join(bytes(e) for e in directory_entries) + b"".join(body))


# --------------------------------------------------------------------------- OOXML hiding places

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def ooxml_with_parts(data: bytes, parts: dict[str, bytes | str], *,
                     relationships: dict[str, list[tuple[str, str, str]]] | None = None,
                     content_types: dict[str, str] | None = None,
                     document_xml: tuple[str, str] | None = None) -> bytes:
    """Add parts to an OOXML package the way Office stores them.

    `relationships` maps a .rels part (e.g. "word/_rels/document.xml.rels") to
    (id, type URI, target) triples appended to it; `content_types` adds Override
    entries (part name -> content type); `document_xml` = (part, xml) inserts `xml`
    before the final `<w:sectPr` of that part (or before `</w:body>`)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    replace: dict[str, bytes] = {k: (v.encode() if isinstance(v, str) else v) for k, v in parts.items()}
    for rels_name, triples in (relationships or {}).items():
        rels = src.read(rels_name).decode() if rels_name in src.namelist() else (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
            'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>')
        extra = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{g}"/>' for i, t, g in triples)
        replace[rels_name] = rels.replace("</Relationships>", extra + "</Relationships>").encode()
    if content_types:
        types = src.read("[Content_Types].xml").decode()
        extra = "".join(f'<Override PartName="/{name}" ContentType="{ctype}"/>' for name, ctype in content_types.items())
        replace["[Content_Types].xml"] = types.replace("</Types>", extra + "</Types>").encode()
    if document_xml is not None:
        part, xml = document_xml
        source = replace.get(part, src.read(part)).decode()
        anchor = source.rfind("<w:sectPr")
        if anchor < 0:
            anchor = source.rfind("</w:body>")
        replace[part] = (source[:anchor] + xml + source[anchor:]).encode()
    return _zip_rewrite(data, replace)


def word_paragraph(text: str) -> str:
    """One WordprocessingML paragraph (w: prefix) holding `text`."""
    from xml.sax.saxutils import escape

    return f'<w:p><w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'


def word_part(root: str, text: str) -> str:
    """A standalone WordprocessingML part (`hdr`, `ftr`, `footnotes`, `document`, ...)
    whose only paragraph is `text`."""
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:{root} xmlns:w="{W_NS}" '
            f'xmlns:r="{OFFICE_REL}">{word_paragraph(text)}</w:{root}>')


def drawingml_text_part(root: str, namespace: str, text: str, prefix: str = "xdr") -> str:
    """A DrawingML part (spreadsheet drawing, chart, slide master...) with one shape
    whose text body holds `text` (a:p/a:r/a:t)."""
    from xml.sax.saxutils import escape

    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{prefix}:{root} xmlns:{prefix}="{namespace}" '
            'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
            f'<{prefix}:sp><{prefix}:txBody><a:bodyPr/><a:p><a:r><a:t>{escape(text)}</a:t></a:r></a:p>'
            f'</{prefix}:txBody></{prefix}:sp></{prefix}:{root}>')


def make_ole10native(filename: str, data: bytes) -> bytes:
    """An embedded "Package" OLE object (oleObject1.bin) as Office's Packager writes it:
    an OLE file whose \\x01Ole10Native stream wraps `data` with its label and paths."""
    import struct

    name = filename.encode("cp1252") + b"\0"
    path = f"C:\\Users\\tester\\{filename}".encode("cp1252") + b"\0"
    native = (struct.pack("<H", 2) + name + path + struct.pack("<HH", 0, 3)
              + struct.pack("<I", len(path)) + path + struct.pack("<I", len(data)) + data)
    return make_ole({"\x01Ole10Native": struct.pack("<I", len(native)) + native})


# --------------------------------------------------------------------------- damaged and disguised archives

class _Unseekable(io.RawIOBase):
    """A write-only stream zipfile cannot seek back in: it then writes each member's sizes
    in a data descriptor after the data (flag 0x08), as streaming zip tools do."""

    def __init__(self) -> None:
        super().__init__()
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.buffer += bytes(data)
        return len(data)


def make_streamed_zip(members: dict[str, bytes]) -> bytes:
    """A deflated ZIP written to a non-seekable stream: sizes only in data descriptors."""
    out = _Unseekable()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data,
                        compress_type=zipfile.ZIP_DEFLATED)
    return bytes(out.buffer)


def make_zip_without_central_directory(members: dict[str, bytes], *, streamed: bool = False) -> bytes:
    """A ZIP cut off before its central directory (a truncated download): only the local
    headers and member data remain, as `unzip` and streaming readers still read them."""
    data = make_streamed_zip(members) if streamed else make_zip(members)
    return data[: data.rfind(b"PK\x01\x02", 0, data.rfind(b"PK\x05\x06"))
                if len(members) == 1 else data.find(b"PK\x01\x02")]


def make_zip_with_unlisted_member(listed: dict[str, bytes], hidden: dict[str, bytes]) -> bytes:
    """A ZIP whose central directory lists only `listed`; the `hidden` members' local
    headers and data sit in front of them, where a streaming unzipper finds them."""
    front = make_zip(hidden)
    front = front[: front.find(b"PK\x01\x02")]
    back = make_zip(listed)
    return front + back  # zipfile reads `back` through its EOCD, the front is "prepended data"


def make_tar_with_damaged_header(members: dict[str, bytes], damaged: str) -> bytes:
    """A TAR whose member `damaged` has a header with a wrong checksum: `tarfile` stops at
    it and reports nothing; GNU tar skips it ("skipping to next header") and goes on."""
    data = bytearray(make_tar(members))
    position = 0
    while position < len(data):
        name = bytes(data[position:position + 100]).split(b"\0", 1)[0].decode()
        size = int(bytes(data[position + 124:position + 136]).split(b"\0", 1)[0] or b"0", 8)
        if name == damaged:
            data[position + 148:position + 156] = b"0000000\0"  # checksum no longer matches
            return bytes(data)
        position += 512 + -(-size // 512) * 512
    raise ValueError(f"{damaged} not in the TAR")


def make_polyglot(carrier: bytes, members: dict[str, bytes]) -> bytes:
    """`carrier` (a JPEG, a PDF) with a ZIP appended: it opens as the carrier in a viewer
    and as an archive in an unzip tool."""
    return carrier + make_zip(members)


def make_uniform_zip(count: int, member_size: int, fill: bytes = b"A") -> bytes:
    """A ZIP of `count` identical deflated members of `member_size` bytes of `fill`, written
    by hand (the member is compressed once), so a 480 MiB archive is built in milliseconds."""
    import struct
    import zlib

    content = fill * (member_size // len(fill))
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressed = packer.compress(content) + packer.flush()
    crc = zlib.crc32(content)
    local, central = bytearray(), bytearray()
    for i in range(count):
        name = f"m{i:04d}.txt".encode()
        offset = len(local)
        local += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x5C21, crc,
                             len(compressed), len(content), len(name), 0) + name + compressed
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x5C21, crc,
                               len(compressed), len(content), len(name), 0, 0, 0, 0, 0, offset) + name
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(central), len(local), 0)
    return bytes(local + central + end)


# --------------------------------------------------------------------------- PDFs that hide text

def make_pdf_with_margin_banner(body: str, banner: str, *, side: str = "left", rotate: int = 90,
                                fontname: str = CJK_FONT) -> bytes:
    """A one-page PDF with body text and `banner` turned `rotate` degrees, running up (or
    down) the left or right page edge, as classification banners are printed in margins."""
    doc = pymupdf.open()
    page = doc.new_page(width=PAGE_WIDTH, height=PAGE_HEIGHT)
    _insert_lines(page, body.split("\n"), BODY_TOP, 12, fontname)
    x = 30 if side == "left" else PAGE_WIDTH - 20
    page.insert_text((x, PAGE_HEIGHT / 2 + 60), banner, fontname=fontname, fontsize=16, rotate=rotate)
    return doc.tobytes()


def make_pdf_with_broken_xref(pages: list[str]) -> bytes:
    """A PDF whose `startxref` points nowhere (a damaged download or a careless tool): every
    viewer rebuilds the cross-reference table by scanning the objects."""
    import re

    return re.sub(rb"startxref\s+\d+", b"startxref\n999999", make_pdf(pages))


def make_stamp_png(text: str, *, dpi: int = 200, fontsize: float = 36, fontname: str = CJK_FONT,
                   color: tuple[float, float, float] = (0.85, 0.05, 0.05)) -> bytes:
    """A red ink stamp (a boxed word such as 機密) as a PNG image, as a scanned chop is."""
    width = fontsize * (len(text) + 1.2)
    height = fontsize * 2.0
    doc = pymupdf.open()
    page = doc.new_page(width=width, height=height)
    page.draw_rect(pymupdf.Rect(4, 4, width - 4, height - 4), color=color, width=3)
    page.insert_text((fontsize * 0.6, height / 2 + fontsize * 0.4), text, fontname=fontname,
                     fontsize=fontsize, color=color)
    png = page.get_pixmap(dpi=dpi).tobytes("png")
    doc.close()
    return png


def make_pdf_with_stamp_image(body: str, stamp: str, *, top: float = 12) -> bytes:
    """A page with a clean text layer (`body`) and a red `stamp` image at the top right:
    the stamp's word is not in the text layer, only in the image."""
    doc = pymupdf.open()
    page = doc.new_page(width=PAGE_WIDTH, height=PAGE_HEIGHT)
    _insert_lines(page, body.split("\n"), BODY_TOP, 12, CJK_FONT)
    width = 36 * (len(stamp) + 1.2) * 0.8
    page.insert_image(pymupdf.Rect(PAGE_WIDTH - 40 - width, top, PAGE_WIDTH - 40, top + 36 * 2 * 0.8),
                      stream=make_stamp_png(stamp))
    out = doc.tobytes(deflate=True)
    doc.close()
    return out


def make_pdf_with_pasted_scan(text_layer: str, scan_lines: list[str], *, dpi: int = 200) -> bytes:
    """A page whose text layer says one thing (`text_layer`, several lines) and which
    carries a large scanned image of other text (`scan_lines`) in its lower half."""
    doc = pymupdf.open()
    page = doc.new_page(width=PAGE_WIDTH, height=PAGE_HEIGHT)
    _insert_lines(page, text_layer.split("\n"), BODY_TOP, 12, CJK_FONT)
    pix = _raster_page(scan_lines, dpi, 24, CJK_FONT)
    w = PAGE_WIDTH - 80
    h = pix.height * w / pix.width
    page.insert_image(pymupdf.Rect(40, 420, 40 + w, 420 + h), stream=pix.tobytes("png"))
    out = doc.tobytes(deflate=True)
    doc.close()
    return out


# --------------------------------------------------------------------------- disc images and cabinets

def make_iso(members: dict[str, bytes]) -> bytes:
    """An ISO 9660 image (with Joliet and Rock Ridge names), written by libarchive."""
    import libarchive

    out = io.BytesIO()
    with libarchive.custom_writer(out.write, "iso9660") as archive:
        for name, data in members.items():
            archive.add_file_from_memory(name, len(data), data)
    return out.getvalue()


def make_cab(members: dict[str, bytes], *, compressed: bool = True) -> bytes:
    """A Microsoft cabinet (.cab) with one folder, MSZIP-compressed (or stored), written by
    hand: each 32 KiB block is "CK" and a deflate stream; names are UTF-8 (attribute 0x80)."""
    import struct
    import zlib

    stream = b"".join(members.values())
    blocks = [stream[i:i + 32768] for i in range(0, len(stream), 32768)] or [b""]
    data_records = []
    for block in blocks:
        if compressed:
            packer = zlib.compressobj(9, zlib.DEFLATED, -15)
            body = b"CK" + packer.compress(block) + packer.flush()
        else:
            body = block
        data_records.append(struct.pack("<IHH", 0, len(body), len(block)) + body)
    files, offset = [], 0
    for name, data in members.items():
        files.append(struct.pack("<IIHHHH", len(data), offset, 0, 0x5C21, 0, 0x80) + name.encode() + b"\0")
        offset += len(data)
    header_size, folder_size = 36, 8
    files_start = header_size + folder_size
    data_start = files_start + sum(map(len, files))
    total = data_start + sum(map(len, data_records))
    header = struct.pack("<4sIIIIIBBHHHHH", b"MSCF", 0, total, 0, files_start, 0, 3, 1, 1, len(members), 0, 0, 0)
    folder = struct.pack("<IHH", data_start, len(data_records), 1 if compressed else 0)
    return header + folder + b"".join(files) + b"".join(data_records)


def make_pdf_with_hidden_layer(visible: str, hidden: str) -> bytes:
    """A page with `visible` text and `hidden` text on an optional-content layer that is
    off by default (shown by ticking it in the viewer's Layers panel)."""
    doc = pymupdf.open()
    page = doc.new_page(width=PAGE_WIDTH, height=PAGE_HEIGHT)
    layer = doc.add_ocg("Notes", on=False)
    page.insert_text((56, BODY_TOP), visible, fontname=CJK_FONT, fontsize=12)
    page.insert_text((56, BODY_TOP + 40), hidden, fontname=CJK_FONT, fontsize=12, oc=layer)
    return doc.tobytes()


def make_pdf_with_outline(pages: list[str], bookmarks: list[str]) -> bytes:
    """A PDF whose outline (bookmarks sidebar) holds `bookmarks`, all pointing at page 1."""
    doc = pymupdf.open(stream=make_pdf(pages), filetype="pdf")
    doc.set_toc([[1, title, 1] for title in bookmarks])
    return doc.tobytes()


def make_pdf_with_xfa(page_text: str, field_value: str) -> bytes:
    """A PDF carrying an XFA form (template and datasets as XML streams under /AcroForm
    /XFA) whose filled-in value `field_value` appears on no page's content stream."""
    doc = pymupdf.open(stream=make_pdf([page_text]), filetype="pdf")
    template = (b'<template xmlns="http://www.xfa.org/schema/xfa-template/3.3/"><subform name="form1">'
                b'<field name="level"><caption><value><text>Level</text></value></caption></field>'
                b'</subform></template>')
    datasets = ('<xfa:datasets xmlns:xfa="http://www.xfa.org/schema/xfa-data/1.0/"><xfa:data>'
                f'<form1><level>{field_value}</level></form1></xfa:data></xfa:datasets>').encode()
    refs = []
    for name, body in (("template", template), ("datasets", datasets)):
        xref = doc.get_new_xref()
        doc.update_object(xref, "<<>>")
        doc.update_stream(xref, body)
        refs.append(f"({name}) {xref} 0 R")
    doc.xref_set_key(doc.pdf_catalog(), "AcroForm", f"<</Fields[]/XFA[{' '.join(refs)}]>>")
    return doc.tobytes()


def _vector_glyphs(page: pymupdf.Page, text: str, origin: tuple[float, float], height: float,
                   color: tuple[float, float, float], fontname: str = CJK_FONT) -> None:
    """Draw `text` as filled vector shapes (no text, no image), the way a PDF with text
    converted to outlines carries it: the text is rasterised, and every run of dark pixels
    becomes a small filled rectangle of one path."""
    source = pymupdf.open()
    size = 40.0
    src = source.new_page(width=size * (len(text) + 1), height=size * 1.6)
    src.insert_text((size * 0.5, size * 1.15), text, fontname=fontname, fontsize=size)
    pix = src.get_pixmap(dpi=72, colorspace=pymupdf.csGRAY)
    source.close()
    scale = height / pix.height
    shape = page.new_shape()
    samples = pix.samples
    for y in range(pix.height):
        row = samples[y * pix.stride:y * pix.stride + pix.width]
        x = 0
        while x < pix.width:
            if row[x] < 128:
                start = x
                while x < pix.width and row[x] < 128:
                    x += 1
                shape.draw_rect(pymupdf.Rect(origin[0] + start * scale, origin[1] + y * scale,
                                             origin[0] + x * scale, origin[1] + (y + 1) * scale))
            x += 1
    shape.finish(color=None, fill=color, width=0)
    shape.commit()


def make_pdf_with_vector_stamp(body: str, stamp: str, *, top: float = 14) -> bytes:
    """A page with a clean text layer and a red `stamp` drawn as vector outlines (boxed),
    as e-seal tools stamp: the stamp's word is neither text nor an image."""
    doc = pymupdf.open()
    page = doc.new_page(width=PAGE_WIDTH, height=PAGE_HEIGHT)
    _insert_lines(page, body.split("\n"), BODY_TOP, 12, CJK_FONT)
    red = (0.85, 0.05, 0.05)
    width = 40 * (len(stamp) + 1) * 0.9
    box = pymupdf.Rect(PAGE_WIDTH - 40 - width, top, PAGE_WIDTH - 40, top + 64)
    page.draw_rect(box, color=red, width=2.5)
    _vector_glyphs(page, stamp, (box.x0 + 4, box.y0 + 4), box.height - 8, red)
    out = doc.tobytes(deflate=True)
    doc.close()
    return out


def make_outlined_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text was converted to outlines: black filled shapes, no text
    layer, no image (print-shop and Illustrator exports)."""
    doc = pymupdf.open()
    page = doc.new_page(width=PAGE_WIDTH, height=PAGE_HEIGHT)
    for number, line in enumerate(lines):
        _vector_glyphs(page, line, (56, BODY_TOP + number * 40), 30, (0, 0, 0))
    out = doc.tobytes(deflate=True)
    doc.close()
    return out
# --------------------------------------------------------------------------- ODF hiding places

ODF_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
    'xmlns:chart="urn:oasis:names:tc:opendocument:xmlns:chart:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" office:version="1.3"'
)


def make_odf_package(kind: str, body: str, *, master_styles: str = "",
                     extra: dict[str, bytes | str] | None = None) -> bytes:
    """An ODF package written part by part, as LibreOffice stores it: `kind` is `text`,
    `spreadsheet` or `presentation`; `body` the XML inside `office:<kind>` of
    content.xml; `master_styles` the XML inside `office:master-styles` of styles.xml;
    `extra` more members (e.g. "Object 1/content.xml" for an embedded object)."""
    mimetypes = {"text": "application/vnd.oasis.opendocument.text",
                 "spreadsheet": "application/vnd.oasis.opendocument.spreadsheet",
                 "presentation": "application/vnd.oasis.opendocument.presentation"}
    content = (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {ODF_NAMESPACES}>'
               f"<office:body><office:{kind}>{body}</office:{kind}></office:body></office:document-content>")
    styles = (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-styles {ODF_NAMESPACES}>'
              f"<office:master-styles>{master_styles}</office:master-styles></office:document-styles>")
    entries = "".join(f'<manifest:file-entry manifest:full-path="{name}" manifest:media-type="text/xml"/>'
                      for name in ("content.xml", "styles.xml", *(extra or {})))
    manifest = ('<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest xmlns:manifest='
                '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
                f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetypes[kind]}"/>'
                f"{entries}</manifest:manifest>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("mimetype", mimetypes[kind], compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("styles.xml", styles, compress_type=zipfile.ZIP_DEFLATED)
        for name, data in (extra or {}).items():
            zf.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def odf_content(kind: str, body: str) -> str:
    """A content.xml (for an embedded `Object N/content.xml`) with `body` inside `office:<kind>`."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {ODF_NAMESPACES}>'
            f"<office:body><office:{kind}>{body}</office:{kind}></office:body></office:document-content>")


# --------------------------------------------------------------------------- RTF hiding places

def rtf_document(content: str) -> bytes:
    """An RTF document around raw RTF `content` (groups, control words, ASCII text)."""
    return ("{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Arial;}}\\f0\\fs24 "
            + content + "\\par\n}").encode("ascii")


def rtf_escape(text: str) -> str:
    """`text` as RTF: non-ASCII as `\\uN?` escapes."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in "\\{}":
            out.append("\\" + ch)
        elif code < 128:
            out.append(ch)
        else:
            out.append(f"\\u{code - 65536 if code > 32767 else code}?")
    return "".join(out)


def rtf_package_object(filename: str, data: bytes) -> str:
    """An embedded Packager object as Word writes it into RTF (`\\object\\objemb` with an
    OLE1 `\\objdata` stream in hex) wrapping `data` under `filename`."""
    import struct

    native = make_ole10native(filename, data)
    import olefile

    with olefile.OleFileIO(native) as ole:
        stream = ole.openstream("\x01Ole10Native").read()
    (size,) = struct.unpack_from("<I", stream, 0)
    payload = stream[4: 4 + size]

    def name(value: str) -> bytes:
        raw = value.encode("latin-1") + b"\0"
        return struct.pack("<I", len(raw)) + raw

    ole1 = (struct.pack("<II", 0x00000501, 2) + name("Package") + name("") + name("")
            + struct.pack("<I", len(payload)) + payload)
    hexdata = ole1.hex()
    lines = "\n".join(hexdata[i: i + 128] for i in range(0, len(hexdata), 128))
    return "{\\object\\objemb{\\*\\objclass Package}\\objw1000\\objh500{\\*\\objdata \n" + lines + "\n}}"


def make_tnef_with_attached_message(inner_tnef: bytes, display_name: str, *, body: str = "see below") -> bytes:
    """A winmail.dat carrying an attached Outlook message (attach method 5): the inner
    message is itself a TNEF stream in PR_ATTACH_DATA_OBJ (PT_OBJECT, IID_IMessage first)."""
    import struct

    def attribute(level: int, kind: int, ident: int, value: bytes) -> bytes:
        return (struct.pack("<BII", level, (kind << 16) | ident, len(value)) + value
                + struct.pack("<H", sum(value) & 0xFFFF))

    iid_imessage = bytes.fromhex("07030200000000000c00000000000046")
    out = [struct.pack("<IH", 0x223E9F78, 0x0001)]
    out.append(attribute(1, 0x0006, 0x9003, tnef_property_block([(0x001F, 0x1000, body.encode("utf-16-le") + b"\0\0")])))
    out.append(attribute(2, 0x0006, 0x9002, b"\1\0\xff\xff\xff\xff" + b"\0" * 8))
    out.append(attribute(2, 0x0001, 0x8010, display_name.encode("utf-8") + b"\0"))
    block = tnef_property_block([(0x0003, 0x3705, struct.pack("<I", 5)),
                                 (0x001F, 0x3001, display_name.encode("utf-16-le") + b"\0\0"),
                                 (0x000D, 0x3701, iid_imessage + inner_tnef)])
    out.append(attribute(2, 0x0006, 0x9005, block))
    return b"".join(out)


def tnef_outlook_extra_properties() -> tuple[int, bytes]:
    """(count, encoded entries) of properties Outlook writes before the body in a TNEF
    property block: a named property by string name (PT_BOOLEAN), a named property by
    id (PT_LONG), a multi-valued Unicode property (categories) and a PT_SYSTIME."""
    import struct

    guid = bytes.fromhex("0820060000000000c000000000000046")  # PS_PUBLIC_STRINGS
    name = "Keywords-Hidden".encode("utf-16-le") + b"\0\0"
    entries = [
        struct.pack("<HH", 0x000B, 0x8001) + guid + struct.pack("<II", 1, len(name)) + name
        + b"\0" * (-len(name) % 4) + struct.pack("<I", 1),
        struct.pack("<HH", 0x0003, 0x8002) + guid + struct.pack("<II", 0, 0x8510) + struct.pack("<I", 369),
    ]
    values = ["第一類".encode("utf-16-le") + b"\0\0", "b".encode("utf-16-le") + b"\0\0"]
    mv = struct.pack("<HHI", 0x101F, 0x3A4D, len(values))
    for value in values:
        mv += struct.pack("<I", len(value)) + value + b"\0" * (-len(value) % 4)
    entries.append(mv)
    entries.append(struct.pack("<HH", 0x0040, 0x0039) + struct.pack("<Q", 133_000_000_000_000_000))
    return len(entries), b"".join(entries)


def make_tnef_outlook_body(plain: str) -> bytes:
    """A winmail.dat whose property block carries Outlook's extra properties
    (`tnef_outlook_extra_properties`) before PR_BODY."""
    import struct

    def attribute(level: int, kind: int, ident: int, value: bytes) -> bytes:
        return (struct.pack("<BII", level, (kind << 16) | ident, len(value)) + value
                + struct.pack("<H", sum(value) & 0xFFFF))

    count, extra = tnef_outlook_extra_properties()
    body = tnef_property_block([(0x001F, 0x1000, plain.encode("utf-16-le") + b"\0\0")])
    block = struct.pack("<I", count + 1) + extra + body[4:]
    return (struct.pack("<IH", 0x223E9F78, 0x0001)
            + attribute(1, 0x0006, 0x9007, struct.pack("<II", 1252, 0))
            + attribute(1, 0x0006, 0x9003, block))


def tnef_stream(attributes: list[tuple[int, int, int, bytes]]) -> bytes:
    """A TNEF stream of (level, kind, attribute id, value) attributes, with checksums."""
    import struct

    out = [struct.pack("<IH", 0x223E9F78, 0x0001)]
    for level, kind, ident, value in attributes:
        out.append(struct.pack("<BII", level, (kind << 16) | ident, len(value)) + value
                   + struct.pack("<H", sum(value) & 0xFFFF))
    return b"".join(out)


def ole_with_streams(data: bytes, extra: dict[str, bytes]) -> bytes:
    """An OLE file (from `make_ole`, e.g. `make_doc`) rebuilt with `extra` streams added,
    e.g. an embedded object in a .doc's `ObjectPool/_1234/` storage."""
    import olefile

    with olefile.OleFileIO(data) as ole:
        streams = {"/".join(path): ole.openstream(path).read() for path in ole.listdir(streams=True, storages=False)}
    streams.update(extra)
    return make_ole_large(streams)


def make_pdf_with_stacked_margin_banner(body: str, banner: str, *, side: str = "left",
                                        fontname: str = CJK_FONT) -> bytes:
    """A one-page PDF with `banner` written upright, one character under the other, down
    the left or right page edge (vertical writing of a banner)."""
    doc = pymupdf.open()
    page = doc.new_page(width=PAGE_WIDTH, height=PAGE_HEIGHT)
    _insert_lines(page, body.split("\n"), BODY_TOP, 12, fontname)
    x = 24 if side == "left" else PAGE_WIDTH - 30
    for number, char in enumerate(banner):
        page.insert_text((x, PAGE_HEIGHT / 2 + number * 20), char, fontname=fontname, fontsize=16)
    return doc.tobytes()
