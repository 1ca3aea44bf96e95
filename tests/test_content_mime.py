"""The MIME walk: headers, subject, bodies in any charset, HTML, damaged encodings,
attached messages."""

from __future__ import annotations

import docgen
import pytest

from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.model import Inspection


def inspect(raw: bytes) -> Inspection:
    return extract(raw, ExtractionLimits())


def where(inspection: Inspection, phrase: str) -> dict[str, str]:
    return {s.location: s.kind for s in inspection.segments if phrase in s.text}


def test_subject_is_its_own_segment_and_decoded_from_rfc2047() -> None:
    raw = docgen.make_message("會議紀錄 極機密 minutes", "body")
    assert b"=?utf-8?" in raw
    ins = inspect(raw)
    assert ins.subject == "會議紀錄 極機密 minutes"
    assert where(ins, "極機密") == {"subject": "subject"}


def test_headers_are_decoded_and_keyed_by_lower_case_name() -> None:
    ins = inspect(docgen.make_message("s", "b", headers={"X-Mailer": "Outlook 16"}))
    assert ins.headers["x-mailer"] == ["Outlook 16"]
    assert ins.headers["from"] == ["attache@mission.example"]
    assert ins.message_id.endswith("@mission.example>")


def test_label_headers_become_facts_and_header_segments() -> None:
    raw = docgen.make_message("s", "b", headers={
        "X-Classification": "SECRET//NOFORN",
        "msip_labels": "MSIP_Label_3de9faa6-9fe1-49b3-9a08-227a296b54a6_Name=Secret;",
    })
    ins = inspect(raw)
    facts = {f.name: f.value for f in ins.facts}
    assert facts["mail.header.x-classification"] == "SECRET//NOFORN"
    assert facts["mail.header.msip_labels"].startswith("MSIP_Label_3de9faa6")
    assert where(ins, "NOFORN") == {"header x-classification": "header"}


@pytest.mark.parametrize("charset", ["utf-8", "big5", "big5-hkscs", "gb18030", "gbk", "gb2312"])
def test_body_in_declared_cjk_charset(charset: str) -> None:
    text = "機密電報 請查照" if charset.startswith("big5") or charset == "utf-8" else "机密电报 请查照"
    ins = inspect(docgen.make_message("s", text, charset=charset))
    assert where(ins, text) == {"body": "body"}
    assert not ins.problems


def test_big5_body_with_cp950_extension_characters() -> None:
    # "碁" and "銹" are in Microsoft's cp950 but not in strict Big5: Outlook writes them anyway.
    body = "碁銹 機密"
    raw = docgen.make_message("s", "placeholder", charset="utf-8")
    raw = raw.replace(b'text/plain; charset="utf-8"', b'text/plain; charset="big5"')
    raw = raw.replace(b"Content-Transfer-Encoding: 7bit", b"Content-Transfer-Encoding: 8bit")
    raw = raw.replace(b"placeholder", body.encode("cp950"))
    ins = inspect(raw)
    assert where(ins, body) == {"body": "body"}


@pytest.mark.parametrize("charset,text", [("iso-8859-2", "Tajné: Příliš žluťoučký kůň"),
                                          ("iso-8859-1", "Confidentiel: réunion à Genève")])
def test_body_in_iso_8859_charsets(charset: str, text: str) -> None:
    ins = inspect(docgen.make_message("s", text, charset=charset))
    assert where(ins, text) == {"body": "body"}


def test_unknown_charset_falls_back_and_is_recorded() -> None:
    raw = docgen.make_message("s", "機密 fallback text").replace(b'charset="utf-8"', b'charset="x-unknown-42"')
    ins = inspect(raw)
    assert where(ins, "機密 fallback text") == {"body": "body"}
    # Read as UTF-8 (it is): a note, not a hold (issue #12).
    assert not ins.problems
    assert any(n.location == "body" and "x-unknown-42" in n.detail for n in ins.notes)


def test_html_entities_are_decoded_and_hidden_text_included() -> None:
    html = ('<html><body><p>&#27231;&#23494; &amp; &quot;Lantern&quot;</p>'
            '<div style="display:none">隱藏 hidden words</div>'
            '<span style="color:#fff;font-size:1px">白色字 &#x6975;&#x6a5f;&#x5bc6;</span>'
            '<style>.x{color:red}</style><img alt="圖說 caption"></body></html>')
    ins = inspect(docgen.make_message("s", "plain part", html=html))
    assert where(ins, '機密 & "Lantern"') == {"body 2": "body"}
    assert where(ins, "隱藏 hidden words") == {"body 2": "body"}
    assert where(ins, "白色字 極機密") == {"body 2": "body"}
    assert where(ins, "圖說 caption") == {"body 2": "body"}
    assert not where(ins, "color:red")


def test_broken_base64_is_read_through_and_noted() -> None:
    raw = docgen.make_message("s", "placeholder", transfer_encoding="base64")
    import base64

    good = base64.b64encode("機密 broken base64 body".encode()).decode()
    raw = raw.replace(base64.b64encode(b"placeholder\n").decode().encode(), (good[:-2] + "!!*").encode())
    ins = inspect(raw)
    assert any("機密" in s.text for s in ins.segments if s.location == "body")
    assert ins.problems == []
    assert [n.location for n in ins.notes] == ["body"] and "base64" in ins.notes[0].detail


def test_broken_quoted_printable_is_read_through_and_noted() -> None:
    raw = (b"From: a@b.example\r\nTo: c@d.example\r\nSubject: qp\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
           b"=E6=A9=9F=E5=AF=86 report =ZZ broken\r\n")
    ins = inspect(raw)
    assert where(ins, "機密 report") == {"body": "body"}
    assert ins.problems == []
    assert [n.location for n in ins.notes] == ["body"] and "quoted-printable" in ins.notes[0].detail


def test_rfc2231_attachment_name_is_decoded() -> None:
    raw = docgen.make_message("s", "b", [("極機密報告.txt", b"content", "text/plain")])
    assert b"filename*=" in raw
    ins = inspect(raw)
    assert where(ins, "極機密報告.txt") == {"極機密報告.txt": "filename"}


def test_rfc2047_attachment_name_is_decoded() -> None:
    raw = (b"From: a@b.example\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: multipart/mixed; boundary="BB"\r\n\r\n--BB\r\nContent-Type: text/plain\r\n\r\nhi\r\n'
           b"--BB\r\nContent-Type: text/plain\r\n"
           b'Content-Disposition: attachment; filename="=?big5?B?vvexS7P4p2k=?="\r\n\r\nsecret\r\n--BB--\r\n')
    ins = inspect(raw)
    names = {p.filename for p in ins.parts if p.filename}
    assert names == {"機密報告"}


def test_attached_message_is_read_recursively() -> None:
    inner = docgen.make_message("內層主旨 inner", "內層本文 inner body",
                                [("a.zip", docgen.make_zip({"c.txt": "深層 deep".encode()}), "application/zip")])
    ins = inspect(docgen.make_message("outer", "outer body", [("fwd.eml", inner, "message/rfc822")]))
    assert where(ins, "內層主旨") == {"fwd.eml › subject": "subject"}
    assert where(ins, "內層本文") == {"fwd.eml › body": "body"}
    assert where(ins, "深層 deep") == {"fwd.eml › a.zip › c.txt": "body"}
    assert ins.subject == "outer"


def test_two_attachments_with_the_same_name_get_distinct_locations() -> None:
    raw = docgen.make_message("s", "b", [("a.txt", b"first one", "text/plain"), ("a.txt", b"second one", "text/plain")])
    ins = inspect(raw)
    assert where(ins, "first one") == {"a.txt": "body"}
    assert where(ins, "second one") == {"a.txt (2)": "body"}


def test_message_without_headers_or_mime_is_read_as_text() -> None:
    ins = inspect("just some 機密 text without headers".encode())
    assert any("機密" in s.text for s in ins.segments)


def test_html_attachment_charset_from_its_meta_tag() -> None:
    html = '<html><head><meta charset="big5"></head><body>大五碼網頁 機密</body></html>'.encode("big5")
    ins = inspect(docgen.make_message("s", "b", [("page.html", html, "text/html")]))
    assert where(ins, "大五碼網頁 機密") == {"page.html": "body"}


def test_attached_message_subject_belongs_to_the_attached_message_part() -> None:
    inner = docgen.make_message("內層主旨", "x", headers={"X-Classification": "CONFIDENTIAL"})
    ins = inspect(docgen.make_message("outer", "b", [("fwd.eml", inner, "message/rfc822")]))
    (subject,) = [s for s in ins.segments if s.location == "fwd.eml › subject"]
    assert subject.part == "fwd.eml"
    (fact,) = [f for f in ins.facts if f.name == "mail.header.x-classification"]
    assert (fact.value, fact.location, fact.part) == ("CONFIDENTIAL", "fwd.eml › headers", "fwd.eml")
    assert "x-classification" not in ins.headers


def test_raw_8bit_big5_subject_and_filename_without_rfc2047_are_decoded() -> None:
    raw = ("Subject: 機密會議紀錄\r\nFrom: a@b.example\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=BB\r\n\r\n--BB\r\n"
           "Content-Type: text/plain; charset=big5\r\n\r\n內容\r\n--BB\r\n"
           "Content-Type: application/octet-stream\r\n"
           'Content-Disposition: attachment; filename="極機密名單.txt"\r\n\r\nabc\r\n--BB--\r\n').encode("big5")
    ins = inspect(raw)
    assert ins.subject == "機密會議紀錄"
    assert where(ins, "機密會議紀錄") == {"subject": "subject"}
    assert where(ins, "極機密名單.txt") == {"極機密名單.txt": "filename"}
