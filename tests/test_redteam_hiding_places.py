"""Red team, direction B: a marking hidden in packaging a reader opens is still found.

Each message carries a banner in one of the places issue #12 lists (MIME structure,
encodings, legacy and Office formats, PDFs, HTML, archives, legacy charsets, Unicode
disguises) and goes through the real pipeline with the shipped rules. The banner must be
found at its level, with nothing left unread, so the default policy holds the message for
its content rather than delivering it.
"""

from __future__ import annotations

import base64
import io
import quopri
import zipfile
from collections.abc import Callable

import docgen
import pymupdf
import pytest
from mimegen import HEAD, ROC, US, b64, decision, inspect, message, text_part, uuencode, yenc

TOP_ROC = "極機密"  # ROC level "secret"
PRC_TOP = "绝密★启用前"  # PRC level "top secret"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def multipart(content_type: str, parts: list[bytes], *, preamble: bytes = b"", epilogue: bytes = b"") -> bytes:
    body = preamble
    for part in parts:
        body += b"--B\r\n" + part + b"\r\n"
    return message(f"{content_type}; boundary=B", body + b"--B--\r\n" + epilogue)


def attachment(data: bytes, content_type: str, filename: str) -> bytes:
    part = (f"Content-Type: {content_type}; name=\"{filename}\"\r\n"
            f"Content-Disposition: attachment; filename=\"{filename}\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n").encode() + b64(data)
    return multipart("multipart/mixed", [text_part("Hi, see attached."), part])


def letter(line: str) -> bytes:
    """A UTF-8 text body with `line` as a line of its own between ordinary lines."""
    return message("text/plain; charset=utf-8", f"Dear colleague,\n{line}\nthanks\n".encode())


def html(markup: str) -> bytes:
    return message("text/html; charset=utf-8", f"<html><body><p>hello</p>{markup}</body></html>".encode())


def data_uri(mime: str, text: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(text.encode()).decode()}"


def svg(text: str) -> str:
    return f'<svg xmlns="http://www.w3.org/2000/svg"><text x="0" y="15">{text}</text></svg>'


def pdf_with(draw: Callable[[pymupdf.Page], None]) -> bytes:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((50, 100), "ordinary text")
    draw(page)
    return doc.tobytes()


def zip_with_comment(comment: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "ok")
        archive.comment = comment
    return buffer.getvalue()


def attached_message_in_base64_with_zip_of_docx() -> bytes:
    archive = docgen.make_zip({"report.docx": docgen.make_docx(["ordinary", US])})
    inner = (b"From: x@mission.example\r\nSubject: inner\r\nMIME-Version: 1.0\r\n"
             b"Content-Type: multipart/mixed; boundary=I\r\n\r\n--I\r\nContent-Type: text/plain\r\n\r\nsee zip\r\n"
             b"--I\r\nContent-Type: application/zip; name=r.zip\r\nContent-Transfer-Encoding: base64\r\n\r\n"
             + b64(archive) + b"\r\n--I--\r\n")
    return multipart("multipart/mixed", [text_part("fwd"), b"Content-Type: message/rfc822\r\n"
                                         b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(inner)])


def inner_multipart_reusing_the_outer_boundary() -> bytes:
    part = (b"Content-Type: application/zip; name=r.zip\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + b64(docgen.make_zip({"r.txt": US.encode()})))
    return message("multipart/mixed; boundary=B",
                   b"--B\r\nContent-Type: multipart/alternative; boundary=B\r\n\r\n--B\r\n"
                   b"Content-Type: text/plain\r\n\r\nhi\r\n--B--\r\n--B\r\n" + part + b"\r\n--B--\r\n")


def part_after_a_premature_close() -> bytes:
    return message("multipart/mixed; boundary=B",
                   b"--B\r\n" + text_part("hi") + b"\r\n--B--\r\n--B\r\nContent-Type: text/plain\r\n\r\n"
                   + US.encode() + b"\r\n--B--\r\n")


def duplicate_transfer_encodings() -> bytes:
    return (HEAD + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(f"text\n{US}\n".encode()))


def duplicate_content_types() -> bytes:
    return (HEAD + b"Content-Type: text/plain; charset=utf-8\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(US.encode()))


def attached_message_in_quoted_printable() -> bytes:
    inner = (f"From: x@mission.example\r\nSubject: i\r\nContent-Type: text/plain; charset=utf-8\r\n"
             f"Content-Transfer-Encoding: 8bit\r\n\r\nx\r\n{ROC}\r\n").encode()
    return multipart("multipart/mixed", [text_part("fwd"), b"Content-Type: message/rfc822\r\n"
                                         b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + quopri.encodestring(inner)])


def x_uuencode_transfer_encoding() -> bytes:
    import binascii

    encoded = b"begin 644 a.txt\n" + binascii.b2a_uu(f"x\n{US}\n".encode()) + b"`\nend\n"
    return multipart("multipart/mixed", [text_part("hi"), b"Content-Type: text/plain; name=a.txt\r\n"
                                         b"Content-Transfer-Encoding: x-uuencode\r\n\r\n" + encoded])


def quoted_printable_soft_break_in(word: str) -> bytes:
    encoded = "".join(f"={b:02X}" for b in word.encode())
    cut = len(encoded) // 2 // 3 * 3
    return (HEAD + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            + encoded[:cut].encode() + b"=\r\n" + encoded[cut:].encode() + b"\r\n")


def digest_with_default_type(cte: bytes, body: bytes) -> bytes:
    inner = b"From: x@mission.example\r\nSubject: i\r\nContent-Type: text/plain\r\n" + cte + b"\r\n" + body
    return multipart("multipart/digest", [b"\r\n" + inner])


def rtf_hidden_text() -> bytes:
    return attachment(b"{\\rtf1\\ansi{\\fonttbl\\f0 Arial;}\\f0 hello\\par {\\v " + US.encode() + b"}\\par bye\\par}",
                      "application/rtf", "h.rtf")


def xlsx_very_hidden_sheet() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.active["A1"] = "ok"
    hidden = book.create_sheet("h")
    hidden["A1"] = US
    hidden.sheet_state = "veryHidden"
    buffer = io.BytesIO()
    book.save(buffer)
    return attachment(buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "h.xlsx")


def pptx_hidden_slide() -> bytes:
    from pptx import Presentation

    deck = Presentation()
    deck.slides.add_slide(deck.slide_layouts[5]).shapes.title.text = "ordinary"
    hidden = deck.slides.add_slide(deck.slide_layouts[5])
    hidden.shapes.title.text = US
    hidden._element.set("show", "0")
    buffer = io.BytesIO()
    deck.save(buffer)
    return attachment(buffer.getvalue(), "application/vnd.openxmlformats-officedocument.presentationml.presentation", "h.pptx")


def docx_vanished_run() -> bytes:
    xml = ('<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
           '<w:p><w:r><w:t>ordinary</w:t></w:r></w:p><w:p><w:r><w:rPr><w:vanish/></w:rPr>'
           f'<w:t>{US}</w:t></w:r></w:p></w:body></w:document>')
    return attachment(docgen._zip_rewrite(docgen.make_docx(["ordinary"]), {"word/document.xml": xml.encode()}), DOCX, "v.docx")


def flat_odt() -> bytes:
    xml = ('<?xml version="1.0"?><office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
           'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
           'office:mimetype="application/vnd.oasis.opendocument.text"><office:body><office:text>'
           f'<text:p>ordinary</text:p><text:p>{US}</text:p></office:text></office:body></office:document>')
    return attachment(xml.encode(), "application/vnd.oasis.opendocument.text-flat-xml", "f.fodt")


def word_2003_xml() -> bytes:
    xml = ('<?xml version="1.0"?><?mso-application progid="Word.Document"?>'
           '<w:wordDocument xmlns:w="http://schemas.microsoft.com/office/word/2003/wordml"><w:body>'
           f'<w:p><w:r><w:t>ordinary</w:t></w:r></w:p><w:p><w:r><w:t>{US}</w:t></w:r></w:p></w:body></w:wordDocument>')
    return attachment(xml.encode(), "application/msword", "w.doc")


def jpeg_with_zip_appended() -> bytes:
    buffer = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (32, 32), (200, 30, 30)).save(buffer, "JPEG")
    return attachment(docgen.make_polyglot(buffer.getvalue(), {"s.txt": US.encode()}), "image/jpeg", "p.jpg")


def csv_in(encoding: str) -> bytes:
    return attachment(f"名稱,等級\n{ROC}\n文件,一般\n".encode(encoding), "text/csv", "l.csv")


def subject_split_inside_a_character() -> bytes:
    raw = f"【{ROC}】會議".encode()
    words = [b"=?UTF-8?B?" + base64.b64encode(half) + b"?=" for half in (raw[:4], raw[4:])]
    return (b"From: a@x.example\r\nTo: b@y.example\r\nSubject: " + words[0] + b"\r\n " + words[1]
            + b"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhi\r\n")


def docx_banner_over_runs() -> bytes:
    xml = ('<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
           '<w:p><w:r><w:t>ordinary</w:t></w:r></w:p><w:p><w:r><w:rPr><w:b/></w:rPr><w:t>SEC</w:t></w:r>'
           '<w:r><w:t>RET//</w:t></w:r><w:r><w:rPr><w:i/></w:rPr><w:t>NOFORN</w:t></w:r></w:p></w:body></w:document>')
    return attachment(docgen._zip_rewrite(docgen.make_docx(["x"]), {"word/document.xml": xml.encode()}), DOCX, "r.docx")


def permissions_only_pdf() -> bytes:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((50, 100), "x")
    page.insert_text((50, 130), US)
    return doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner", user_pw="",
                       permissions=pymupdf.PDF_PERM_PRINT)


def zip_behind_boundary(parameters: bytes, boundary: bytes) -> bytes:
    """A multipart whose Content-Type spells its boundary `parameters` and whose body uses `boundary`."""
    part = (b"Content-Type: application/zip; name=r.zip\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + b64(docgen.make_zip({"r.txt": f"{US}\n".encode()})))
    body = (b"--" + boundary + b"\r\nContent-Type: text/plain\r\n\r\nhi\r\n--" + boundary + b"\r\n" + part
            + b"\r\n--" + boundary + b"--\r\n")
    return HEAD + b"Content-Type: multipart/mixed; " + parameters + b"\r\n\r\n" + body


def saved_message(first_headers: bytes) -> bytes:
    """A saved message (headers, then a multipart with a base64 DOCX carrying the banner)
    attached as application/octet-stream, its file starting with `first_headers`."""
    saved = (first_headers + b"From: a@mission.example\r\nSubject: report\r\nMIME-Version: 1.0\r\n"
             b"Content-Type: multipart/mixed; boundary=I\r\n\r\n--I\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
             b"--I\r\nContent-Type: " + DOCX.encode() + b"; name=r.docx\r\nContent-Transfer-Encoding: base64\r\n\r\n"
             + b64(docgen.make_docx(["ordinary", US])) + b"\r\n--I--\r\n")
    return attachment(saved, "application/octet-stream", "saved.eml")


def base64_body_with_junk() -> bytes:
    """A base64 body with a '*' after every eight characters (decoders skip them)."""
    encoded = base64.b64encode(f"Dear\n{US}\nthanks\n".encode()).decode()
    junk = "*".join(encoded[i:i + 8] for i in range(0, len(encoded), 8))
    return (HEAD + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + junk.encode() + b"\r\n")


def appledouble_with_marked_pdf() -> bytes:
    """Apple Mail's multipart/appledouble: an AppleDouble header part (name and Finder info
    entries) and the data fork, here a PDF whose second line is the banner."""
    import struct

    entries = [(3, b"r.pdf"), (9, b"PDF CARO" + bytes(24))]
    offset = 26 + 12 * len(entries)
    header = struct.pack(">II16sH", 0x00051607, 0x00020000, bytes(16), len(entries))
    directory, data = b"", b""
    for entry, value in entries:
        directory += struct.pack(">III", entry, offset + len(data), len(value))
        data += value
    appledouble = (b"Content-Type: multipart/appledouble; boundary=A\r\n\r\n--A\r\n"
                   b"Content-Type: application/applefile; name=\"r.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                   + b64(header + directory + data) + b"\r\n--A\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\n"
                   b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(docgen.make_pdf(["x", US])) + b"\r\n--A--\r\n")
    return multipart("multipart/mixed", [text_part("see attached"), appledouble])


def edoc_with_ndata(secrecy: str | None) -> str:
    """An e-document letter whose DOCTYPE declares its attachments as NDATA entities, as
    exchange systems write them (the external DTD and the files are never fetched)."""
    return docgen.make_edoc_xml(secrecy, "會議紀錄").decode().replace(
        '<!DOCTYPE 函 SYSTEM "104_2_utf8.dtd">',
        '<!DOCTYPE 函 SYSTEM "104_2_utf8.dtd" [\n<!NOTATION DI SYSTEM "">\n'
        '<!ENTITY ATTCH1 SYSTEM "A01_attch1.pdf" NDATA DI>\n]>')


def chart_xml() -> str:
    return ('<c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" '
            'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><c:chart><c:title><c:tx><c:rich>'
            f'<a:p><a:r><a:t>{US}</a:t></a:r></a:p></c:rich></c:tx></c:title></c:chart></c:chartSpace>')


def smartart_xml() -> str:
    return ('<dgm:dataModel xmlns:dgm="http://schemas.openxmlformats.org/drawingml/2006/diagram" '
            'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><dgm:ptLst><dgm:pt modelId="1"><dgm:t>'
            f'<a:p><a:r><a:t>{US}</a:t></a:r></a:p></dgm:t></dgm:pt></dgm:ptLst></dgm:dataModel>')


HIDING_PLACES: dict[str, tuple[Callable[[], bytes], str]] = {
    # MIME structure and transfer encodings
    "base64 message/rfc822 > zip > docx": (attached_message_in_base64_with_zip_of_docx, "secret"),
    "inner multipart reusing the outer boundary": (inner_multipart_reusing_the_outer_boundary, "secret"),
    "part after a premature close": (part_after_a_premature_close, "secret"),
    "preamble": (lambda: multipart("multipart/mixed", [text_part("hi")], preamble=f"{US}\r\n".encode()), "secret"),
    "epilogue": (lambda: multipart("multipart/mixed", [text_part("hi")], epilogue=f"{US}\r\n".encode()), "secret"),
    "duplicate Content-Transfer-Encoding": (duplicate_transfer_encodings, "secret"),
    "duplicate Content-Type": (duplicate_content_types, "secret"),
    "quoted-printable message/rfc822": (attached_message_in_quoted_printable, "confidential"),
    "x-uuencode transfer encoding": (x_uuencode_transfer_encoding, "secret"),
    "QP soft break inside SECRET": (lambda: quoted_printable_soft_break_in(US), "secret"),
    "QP soft break inside 機密": (lambda: quoted_printable_soft_break_in(ROC), "confidential"),
    "multipart/digest default type": (lambda: digest_with_default_type(b"", f"{US}\r\n".encode()), "secret"),
    "multipart/digest default type, base64": (
        lambda: digest_with_default_type(b"Content-Transfer-Encoding: base64\r\n", b64(US.encode())), "secret"),
    "alternative with the banner only in HTML": (
        lambda: multipart("multipart/alternative", [text_part("hello"), b"Content-Type: text/html; charset=utf-8\r\n\r\n"
                                                    b"<html><body>hello<p>" + US.encode() + b"</p></body></html>"]), "secret"),
    "inline attachment without a file name": (
        lambda: multipart("multipart/mixed", [text_part("hi"), b"Content-Type: application/octet-stream\r\n"
                                              b"Content-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                                              + b64(docgen.make_docx([US]))]), "secret"),
    "uuencoded docx in a text body": (lambda: message("text/plain", b"see file\n" + uuencode("a.docx", docgen.make_docx([US]))), "secret"),
    "yEnc file in a text body": (lambda: message("text/plain", b"see\n" + yenc("a.txt", US.encode())), "secret"),
    # charsets
    "UTF-7 body": (lambda: message("text/plain; charset=utf-7", f"Dear\n{ROC}\n".encode("utf-7")), "confidential"),
    "UTF-16 body with BOM": (lambda: message("text/plain; charset=utf-16", f"Dear\n{ROC}\n".encode("utf-16")), "confidential"),
    "UTF-16LE body declared utf-16 without BOM": (
        lambda: message("text/plain; charset=utf-16", f"Dear\n{ROC}\n".encode("utf-16-le")), "confidential"),
    "UTF-16LE text attachment without BOM": (
        lambda: attachment(f"notes\n{US}\n".encode("utf-16-le"), "text/plain", "a.txt"), "secret"),
    "CSV in UTF-16LE without BOM": (lambda: csv_in("utf-16-le"), "confidential"),
    "CSV in Big5": (lambda: csv_in("big5"), "confidential"),
    "Big5 HTML declared only by meta http-equiv": (
        lambda: message("text/html", ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=big5">'
                                      f'</head><body><p>敬啟者</p><p>{ROC}</p></body></html>').encode("big5")), "confidential"),
    "Big5 text with no charset": (lambda: message("text/plain", f"敬啟者：\n{ROC}\n請查照。\n".encode("big5")), "confidential"),
    "gb2312 label on GBK text": (
        lambda: message("text/plain; charset=gb2312", f"尊敬的同志：\n{PRC_TOP}\n请查收镕文件。\n".encode("gbk")), "top_secret"),
    "big5 label on Big5-HKSCS text": (
        lambda: message("text/plain; charset=big5", f"敬啟者：\n{ROC}\n請查照。\n".encode("big5hkscs")), "confidential"),
    "encoded-word subject": (
        lambda: b"From: a@x.example\r\nTo: b@y.example\r\nSubject: =?UTF-8?B?" + base64.b64encode(US.encode())
        + b"?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhi\r\n", "secret"),
    # Unicode disguises that are handled
    "full-width letters": (lambda: letter("ＳＥＣＲＥＴ／／ＮＯＦＯＲＮ"), "secret"),
    "spaced letters": (lambda: letter("S E C R E T // N O F O R N"), "secret"),
    "spaced CJK": (lambda: letter("極 機 密"), "secret"),
    # HTML
    "HTML data: URI iframe": (lambda: html(f'<iframe src="{data_uri("text/html", f"<p>{US}</p>")}"></iframe>'), "secret"),
    "HTML data: URI SVG image": (lambda: html(f'<img src="{data_uri("image/svg+xml", svg(US))}">'), "secret"),
    "HTML data: URI object": (lambda: html(f'<object data="{data_uri("text/plain", US)}"></object>'), "secret"),
    "HTML data: URI in CSS background": (
        lambda: html(f'<div style="background:url({data_uri("image/svg+xml", svg(US))})">x</div>'), "secret"),
    "HTML URL-encoded data: URI": (
        lambda: html('<iframe src="data:text/html,%3Cp%3E' + US.replace("/", "%2F") + '%3C/p%3E"></iframe>'), "secret"),
    "HTML display:none": (lambda: html(f'<div style="display:none">{US}</div>'), "secret"),
    "HTML font-size 0": (lambda: html(f'<span style="font-size:0">{US}</span>'), "secret"),
    "HTML comment": (lambda: html(f"<!-- {US} -->"), "secret"),
    "HTML numeric entities": (lambda: html("".join(f"&#{ord(c)};" for c in US)), "secret"),
    "HTML CSS generated content": (
        lambda: message("text/html; charset=utf-8", f'<html><head><style>p::before{{content:"{US}"}}</style></head>'
                                                    '<body><p>hi</p></body></html>'.encode()), "secret"),
    "HTML banner split over spans": (lambda: html("<p><span>SEC</span><span>RET//NOFORN</span></p>"), "secret"),
    "HTML img alt": (lambda: html(f'<img alt="{US}" src="x.png">'), "secret"),
    "HTML noscript": (lambda: html(f"<noscript>{US}</noscript>"), "secret"),
    "HTML template": (lambda: html(f"<template><p>{US}</p></template>"), "secret"),
    "HTML select option": (lambda: html(f"<select><option>{US}</option></select>"), "secret"),
    "HTML inline SVG title": (lambda: html(f'<svg><title>{US}</title><rect width="1" height="1"/></svg>'), "secret"),
    # documents
    "TNEF body properties": (
        lambda: attachment(docgen.make_tnef_with_body_properties(plain=f"x\n{US}"), "application/ms-tnef", "winmail.dat"), "secret"),
    "Outlook .msg body": (
        lambda: attachment(docgen.make_outlook_msg("s", f"x\n{US}"), "application/vnd.ms-outlook", "a.msg"), "secret"),
    "ODT": (lambda: attachment(docgen.make_odt(["x", US]), "application/vnd.oasis.opendocument.text", "a.odt"), "secret"),
    "flat ODF (.fodt)": (flat_odt, "secret"),
    "Word 2003 XML named .doc": (word_2003_xml, "secret"),
    "HTML saved as .doc": (
        lambda: attachment(f"<html><body><p>ordinary</p><p>{US}</p></body></html>".encode(), "application/msword", "w.doc"), "secret"),
    "RTF": (lambda: attachment(docgen.make_rtf(f"x\n{US}"), "application/rtf", "a.rtf"), "secret"),
    "RTF hidden text (\\v)": (rtf_hidden_text, "secret"),
    "DOCX vanished run": (docx_vanished_run, "secret"),
    "DOCX tracked deletion": (lambda: attachment(docgen.make_docx(["ordinary"], deleted_text=US), DOCX, "d.docx"), "secret"),
    "DOCX extra part not in the relationships": (
        lambda: attachment(docgen._zip_rewrite(docgen.make_docx(["ordinary"]), {"word/embeddings/s.txt": f"{US}\n".encode()}),
                           DOCX, "e.docx"), "secret"),
    "XLSX very hidden sheet": (xlsx_very_hidden_sheet, "secret"),
    "PPTX hidden slide": (pptx_hidden_slide, "secret"),
    "XML internal entity": (
        lambda: attachment(f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY m "{US}">]><d>&m;</d>'.encode(), "application/xml", "d.xml"),
        "secret"),
    "SVG entities joined": (
        lambda: attachment(b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "SECRET"><!ENTITY b "//NOFORN">]>'
                           b'<svg xmlns="http://www.w3.org/2000/svg"><text>&a;&b;</text></svg>', "image/svg+xml", "d.svg"), "secret"),
    # PDFs
    "PDF form field": (lambda: attachment(docgen.make_pdf(["x"], form_field=("cls", US)), "application/pdf", "a.pdf"), "secret"),
    "PDF annotation": (lambda: attachment(docgen.make_pdf(["x"], annotation=US), "application/pdf", "a.pdf"), "secret"),
    "PDF embedded file": (
        lambda: attachment(docgen.make_pdf(["x"], embedded={"e.txt": US.encode()}), "application/pdf", "a.pdf"), "secret"),
    "PDF rotated margin": (lambda: attachment(docgen.make_pdf_with_margin_banner("body text", US), "application/pdf", "a.pdf"), "secret"),
    "PDF white text": (
        lambda: attachment(pdf_with(lambda p: p.insert_text((50, 200), US, color=(1, 1, 1))), "application/pdf", "a.pdf"), "secret"),
    "PDF half-point text": (
        lambda: attachment(pdf_with(lambda p: p.insert_text((50, 200), US, fontsize=0.5)), "application/pdf", "a.pdf"), "secret"),
    "PDF text below the page": (
        lambda: attachment(pdf_with(lambda p: p.insert_text((50, 2000), US)), "application/pdf", "a.pdf"), "secret"),
    # archives
    "JPEG with a ZIP appended": (jpeg_with_zip_appended, "secret"),
    "7z": (lambda: attachment(docgen.make_7z({"s.txt": US.encode()}), "application/x-7z-compressed", "a.7z"), "secret"),
    "gzip": (lambda: attachment(docgen.make_gzip(US.encode(), "s.txt"), "application/gzip", "s.txt.gz"), "secret"),
    "tar.gz": (lambda: attachment(docgen.make_targz({"d/s.txt": f"{US}\n".encode()}), "application/gzip", "a.tgz"), "secret"),
    "RAR": (lambda: attachment(docgen.make_rar({"s.txt": f"{US}\n".encode()}), "application/vnd.rar", "a.rar"), "secret"),
    ".eml inside a zip": (
        lambda: attachment(docgen.make_zip({"fwd.eml": b"From: x@y.example\r\nSubject: i\r\nContent-Type: text/plain\r\n\r\nx\r\n"
                                            + US.encode() + b"\r\n"}), "application/zip", "m.zip"), "secret"),
    # found since the pass that wrote this file (more disguises and packagings)
    "ideographic spaces in a CJK banner": (lambda: letter("極\u3000機\u3000密"), "secret"),
    "format=flowed with DelSp inside the banner": (
        lambda: HEAD + b"Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\r\n\r\n"
        b"Dear colleague,\r\nSECRET//NO \r\nFORN\r\nthanks\r\n", "secret"),
    "HTML <wbr> inside the banner": (lambda: html("<p>SEC<wbr>RET//NOFORN</p>"), "secret"),
    "encoded-word subject split inside a character": (subject_split_inside_a_character, "confidential"),
    "DOCX banner over runs of different formatting": (docx_banner_over_runs, "secret"),
    "TNEF compressed RTF body": (
        lambda: attachment(docgen.make_tnef_with_body_properties(rtf=f"{{\\rtf1\\ansi hello\\par {US}\\par}}".encode()),
                           "application/ms-tnef", "winmail.dat"), "secret"),
    "TNEF HTML body": (
        lambda: attachment(docgen.make_tnef_with_body_properties(html=f"<html><body><p>hi</p><p>{US}</p></body></html>"),
                           "application/ms-tnef", "winmail.dat"), "secret"),
    "ZIP without a central directory": (
        lambda: attachment(docgen.make_zip_without_central_directory({"s.txt": f"{US}\n".encode()}), "application/zip", "a.zip"),
        "secret"),
    "ZIP member missing from the central directory": (
        lambda: attachment(docgen.make_zip_with_unlisted_member({"a.txt": b"ok"}, {"s.txt": f"{US}\n".encode()}),
                           "application/zip", "a.zip"), "secret"),
    "PDF encrypted with only an owner password": (lambda: attachment(permissions_only_pdf(), "application/pdf", "s.pdf"), "secret"),
    "boundary given as RFC 2231 continuations": (
        lambda: zip_behind_boundary(b"boundary*0=\"B\"; boundary*1=\"X\"", b"BX"), "secret"),
    "two boundary parameters, body uses the second": (lambda: zip_behind_boundary(b"boundary=A; boundary=B", b"B"), "secret"),
    "two boundary parameters, body uses the first": (lambda: zip_behind_boundary(b"boundary=A; boundary=B", b"A"), "secret"),
    "CR-only line ends": (lambda: message("text/plain; charset=utf-8", f"Dear colleague,\r{US}\rthanks\r".encode()), "secret"),
    "HTML table cell": (lambda: html(f"<table><tr><td>Ref 12</td><td>{US}</td><td>2026-01-05</td></tr></table>"), "secret"),
    "HTML lines separated by <br>": (
        lambda: message("text/html; charset=utf-8", f"<html><body>Dear colleague,<br>{US}<br>thanks</body></html>".encode()), "secret"),
    "SVG desc": (lambda: attachment(f'<svg xmlns="http://www.w3.org/2000/svg"><desc>{US}</desc></svg>'.encode(), "image/svg+xml", "i.svg"),
                 "secret"),
    "SVG foreignObject HTML": (
        lambda: attachment(f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xhtml"><foreignObject '
                           f'width="99" height="99"><x:p>{US}</x:p></foreignObject></svg>'.encode(), "image/svg+xml", "i.svg"), "secret"),
    "XLSX banner row": (
        lambda: attachment(docgen.make_xlsx({"S": [[US], ["Ref 12", "x", "2026-01-05"]]}),
                           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "r.xlsx"), "secret"),
    "PDF free-text annotation": (
        lambda: attachment(pdf_with(lambda p: p.add_freetext_annot(pymupdf.Rect(100, 300, 400, 400), US)), "application/pdf", "a.pdf"),
        "secret"),
    "PDF with a ZIP appended": (
        lambda: attachment(pdf_with(lambda p: None) + docgen.make_zip({"s.txt": f"{US}\n".encode()}), "application/pdf", "a.pdf"),
        "secret"),
    "ZIP with a second ZIP appended": (
        lambda: attachment(docgen.make_zip({"a.txt": b"hello"}) + docgen.make_zip({"s.txt": f"{US}\n".encode()}),
                           "application/zip", "a.zip"), "secret"),
    "ZIP followed by a second ZIP": (
        lambda: attachment(docgen.make_zip({"s.txt": f"{US}\n".encode()}) + docgen.make_zip({"a.txt": b"hello"}),
                           "application/zip", "a.zip"), "secret"),
    "X-Classification header": (
        lambda: HEAD + f"X-Classification: {US}\r\nContent-Type: text/plain\r\n\r\nhi\r\n".encode(), "secret"),
    "Outlook .msg with only an HTML body": (
        lambda: attachment(docgen.make_ole(docgen.outlook_msg_streams("s", html=f"<html><body><p>hi</p><p>{US}</p></body></html>")),
                           "application/vnd.ms-outlook", "a.msg"), "secret"),
    "saved .eml starting with Received:, sent as octet-stream": (lambda: saved_message(
        b"Received: from mail.mission.example (mail.mission.example [192.0.2.1])\r\n\tby mx.mofa.example with ESMTPS id abc\r\n"
        b"\tfor <desk@mofa.example>; Mon, 5 Jan 2026 08:00:00 +0000\r\n"), "secret"),
    "saved .eml starting with Return-Path:, sent as octet-stream": (
        lambda: saved_message(b"Return-Path: <a@mission.example>\r\nDelivered-To: desk@mofa.example\r\n"), "secret"),
    "saved .eml starting with X-Mozilla-Status:, sent as octet-stream": (
        lambda: saved_message(b"X-Mozilla-Status: 0001\r\nX-Mozilla-Status2: 00000000\r\n"), "secret"),
    "saved .eml starting with DKIM-Signature:, sent as octet-stream": (
        lambda: saved_message(b"DKIM-Signature: v=1; a=rsa-sha256; d=mission.example; s=s1; b=abc=\r\n"), "secret"),
    "saved .eml starting with Thread-Topic:, sent as octet-stream": (
        lambda: saved_message(b"Thread-Topic: report\r\nThread-Index: AdqAbCdEf==\r\n"), "secret"),
    "base64 body with junk characters between groups": (lambda: base64_body_with_junk(), "secret"),
    "QP with lower-case hex digits": (
        lambda: HEAD + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nDear\r\n"
        + "".join(f"={x:02x}" for x in ROC.encode()).encode() + b"\r\nthanks\r\n", "confidential"),
    "QP soft breaks inside an HTML banner": (
        lambda: HEAD + b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"<html><body><p>hi</p><p>SEC=\r\nRET//NO=\r\nFORN</p></body></html>\r\n", "secret"),
    "data fork of an Apple Mail multipart/appledouble": (appledouble_with_marked_pdf, "secret"),
    "application/x-uuencode attachment": (
        lambda: multipart("multipart/mixed", [text_part("see attached"), b"Content-Type: application/x-uuencode; name=a.uu\r\n"
                                              b"Content-Transfer-Encoding: 7bit\r\n\r\n" + uuencode("a.txt", f"x\n{US}\n".encode())]),
        "secret"),
    "e-document .di with NDATA attachment entities": (
        lambda: attachment(edoc_with_ndata("機密").encode(), "application/octet-stream", "letter.di"), "confidential"),
    "e-document .di in Big5 without an encoding declaration": (
        lambda: attachment(docgen.make_edoc_xml("機密", "會議紀錄").decode().replace(' encoding="utf-8"', "").encode("big5"),
                           "application/octet-stream", "letter.di"), "confidential"),
    "HTML placeholder attribute": (lambda: html(f'<input placeholder="{US}">'), "secret"),
    "HTML aria-label attribute": (lambda: html(f'<div aria-label="{US}"></div>'), "secret"),
    "HTML image title attribute": (lambda: html(f'<img title="{US}" src="x.png">'), "secret"),
    "HTML image-map area alt": (lambda: html(f'<map><area alt="{US}" href="#"></map>'), "secret"),
    "HTML button value": (lambda: html(f'<button value="{US}"></button>'), "secret"),
    "HTML collapsed details": (lambda: html(f"<details><summary>x</summary><p>{US}</p></details>"), "secret"),
    "HTML MathML string": (lambda: html(f"<math><ms>{US}</ms></math>"), "secret"),
    "HTML marquee": (lambda: html(f"<marquee>{US}</marquee>"), "secret"),
    "HTML xmp": (lambda: html(f"<xmp>{US}</xmp>"), "secret"),
    "PPTX chart title": (lambda: attachment(docgen.ooxml_with_parts(docgen.make_pptx(["x"]), {"ppt/charts/chart1.xml": chart_xml()}),
                                            "application/vnd.openxmlformats-officedocument.presentationml.presentation", "c.pptx"),
                         "secret"),
    "DOCX chart title": (lambda: attachment(docgen.ooxml_with_parts(docgen.make_docx(["x"]), {"word/charts/chart1.xml": chart_xml()}),
                                            DOCX, "c.docx"), "secret"),
    "PPTX SmartArt data": (
        lambda: attachment(docgen.ooxml_with_parts(docgen.make_pptx(["x"]), {"ppt/diagrams/data1.xml": smartart_xml()}),
                           "application/vnd.openxmlformats-officedocument.presentationml.presentation", "s.pptx"), "secret"),
    "ODS second sheet": (lambda: attachment(docgen.make_ods({"a": [["x"]], "b": [[US]]}), "application/vnd.oasis.opendocument.spreadsheet",
                                            "a.ods"), "secret"),
    "ODP speaker notes": (lambda: attachment(docgen.make_odp(["x"], notes=[US]), "application/vnd.oasis.opendocument.presentation",
                                             "a.odp"), "secret"),
}


@pytest.mark.parametrize("place", list(HIDING_PLACES))
def test_banner_in_hiding_place_is_found_at_its_level(place: str) -> None:
    build, level = HIDING_PLACES[place]
    report = inspect(build())
    assert [(p.kind, p.location, p.detail) for p in report.problems] == []
    assert level in {f.level.label for f in report.findings if f.level is not None}
    assert decision(report)[0] == "quarantine"


def test_message_partial_is_held_because_it_cannot_be_read_whole() -> None:
    report = inspect(message('message/partial; id="abc@x.example"; number=1; total=2',
                             b"From: x@y.example\r\nSubject: part\r\n\r\nhello\r\n"))
    assert [p.kind for p in report.problems] == ["unsupported"]
    assert "message/partial" in report.problems[0].detail
    assert decision(report) == ("quarantine", "uninspectable")


@pytest.mark.slow
def test_banner_in_an_html_data_uri_png_is_found_by_ocr() -> None:
    png = docgen.make_png([US], fontsize=28)
    report = inspect(html(f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}">'))
    assert report.problems == []
    assert "secret" in {f.level.label for f in report.findings if f.level is not None}


def red_stamp_png() -> bytes:
    """A red 極機密 rubber stamp in a frame, rendered at 200 dpi, as agencies stamp scans."""
    doc = pymupdf.open()
    page = doc.new_page(width=300, height=120)
    page.insert_text((20, 85), TOP_ROC, fontname="china-t", fontsize=72, color=(0.85, 0, 0))
    page.draw_rect(pymupdf.Rect(5, 5, 295, 115), color=(0.85, 0, 0), width=4)
    return page.get_pixmap(dpi=200).tobytes("png")


@pytest.mark.slow
def test_red_stamp_image_attachment_is_found_by_ocr() -> None:
    report = inspect(attachment(red_stamp_png(), "image/png", "stamp.png"))
    assert report.problems == []
    assert "secret" in {f.level.label for f in report.findings if f.level is not None}


def test_unclassified_e_document_with_ndata_attachments_is_delivered() -> None:
    report = inspect(attachment(edoc_with_ndata(None).encode(), "application/octet-stream", "letter.di"))
    assert report.problems == []
    assert [f for f in report.findings if f.level is not None] == []
    assert decision(report) == ("deliver", "default")


# First words of ordinary prose that are also file signatures libmagic looks for.
PROSE_OPENINGS = ["MZ,", "MZ Airlines flight", "ID3 tags are missing", "RIFF header problem", "FWS 2026 summit",
                  "CWS agenda", "BM team notes", "FORM 1040 update", "#!important", "OggS", "PK dear colleagues",
                  "#EXTINF", "WEBVTT"]


@pytest.mark.parametrize("opening", PROSE_OPENINGS)
def test_text_body_opening_with_a_file_signature_is_still_read_as_text(opening: str) -> None:
    report = inspect(message("text/plain; charset=utf-8", f"{opening}\n{US}\nregards\n".encode()))
    assert report.problems == []
    assert "secret" in {f.level.label for f in report.findings if f.level is not None}


SUBJECTS = {
    "(S//NF) Trip report": "secret",
    "[SECRET] trip report": "secret",
    "SECRET//NOFORN - trip report": "secret",
    "RE: SECRET//NOFORN - trip report": "secret",
    "FW: SECRET//NOFORN - trip report": "secret",
    "AW: SECRET//NOFORN - trip report": "secret",
    "RE: (S//NF) Trip report": "secret",
    "Re: Re: [SECRET] trip report": "secret",
    "FW: 【極機密】會議紀錄": "secret",
    "(機密) 會議紀錄": "confidential",
    "機密：會議紀錄": "confidential",
    "回覆: 機密：會議紀錄": "confidential",
    "绝密★启用前": "top_secret",
    "机密★10年 会议纪要": "secret",
}


def with_subject(subject: str) -> bytes:
    from email.header import Header

    return (b"From: a@x.example\r\nTo: b@y.example\r\nSubject: " + Header(subject, "utf-8").encode().encode()
            + b"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nsee below\r\n")


@pytest.mark.parametrize("subject", list(SUBJECTS))
def test_marked_subject_of_a_reply_or_forward_is_found(subject: str) -> None:
    report = inspect(with_subject(subject))
    assert SUBJECTS[subject] in {f.level.label for f in report.findings if f.level is not None}


@pytest.mark.parametrize("subject", ["商業機密保護研討會", "The top secret to great dumplings"])
def test_subject_that_only_mentions_secrecy_is_delivered(subject: str) -> None:
    report = inspect(with_subject(subject))
    assert [f for f in report.findings if f.level is not None] == []
    assert decision(report) == ("deliver", "default")
