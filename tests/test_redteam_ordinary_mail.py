"""Red team, direction A: the mail real clients send every day is delivered, not held.

Each message is what Outlook, Apple Mail, Thunderbird or Gmail writes (built in code, with
real signatures and small but valid media files), sent through the real pipeline and the
shipped default policy. None carries a marking, so each must be delivered with no problem:
a hold here is a false "uninspectable" hold that makes a security office switch the
gateway off (issue #12).
"""

from __future__ import annotations

import io
import json
import struct
import wave
from email import encoders
from email.message import EmailMessage
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import docgen
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
from mimegen import b64, decision, inspect
from PIL import Image
from smime_certs import recipient

DOCX = "vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "vnd.openxmlformats-officedocument.presentationml.presentation"
HEADERS = (b"From: attache@mission.example\r\nTo: desk@mofa.example\r\nSubject: sync\r\n"
           b"Date: Mon, 05 Jan 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\n")
ICS = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r\n"
       "METHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:abc@mofa.example\r\nDTSTAMP:20260105T080000Z\r\n"
       "DTSTART:20260106T090000Z\r\nDTEND:20260106T100000Z\r\nSUMMARY:Weekly sync\r\n"
       "ORGANIZER:mailto:attache@mission.example\r\nATTENDEE;RSVP=TRUE:mailto:desk@mofa.example\r\n"
       "END:VEVENT\r\nEND:VCALENDAR\r\n")
VCARD = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:王小明\r\nN:王;小明;;;\r\nEMAIL:wang@mofa.example\r\nEND:VCARD\r\n"
# A detached OpenPGP signature made once with `gpg --detach-sign -a` (ed25519 test key).
PGP_SIGNATURE = (b"-----BEGIN PGP SIGNATURE-----\r\n\r\n"
                 b"iHUEABYIAB0WIQSkfpQotEOtYTd4rtUJvGF3D7geLgUCaxL4owAKCRAJvGF3D7ge\r\n"
                 b"Lg8iAQDFP6Tx1ExwiSW445U3IS/m1074uj6wtR/hJ2i3Sj1dHgEAr22315Lltray\r\n"
                 b"fIRSD//xpKpbEudBTPRE5TyskPiU8AU=\r\n=/Hfv\r\n-----END PGP SIGNATURE-----\r\n")


def delivered_cleanly(raw: bytes) -> None:
    """The default policy delivers `raw`, nothing was left unread and nothing was found."""
    report = inspect(raw)
    assert [(p.kind, p.location, p.detail) for p in report.problems] == []
    assert report.findings == []
    assert decision(report) == ("deliver", "default")


def mail(body: str = "Hi, see attached.\n") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "attache@mission.example"
    message["To"] = "desk@mofa.example"
    message["Subject"] = "weekly notes"
    message.set_content(body)
    return message


def with_attachment(data: bytes, maintype: str, subtype: str, filename: str) -> bytes:
    message = mail()
    message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(struct.pack("<800h", *([1000, -1000] * 400)))
    return buffer.getvalue()


def mp3() -> bytes:
    """An ID3v2 tag and ten MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz: 417 bytes each)."""
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + (b"\xff\xfb\x90\x64" + bytes(413)) * 10


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def iso_media(brand: bytes) -> bytes:
    """An ISO base media file (MP4, M4A, QuickTime): ftyp, a movie header, a free box."""
    mvhd = _box(b"mvhd", bytes(12) + struct.pack(">II", 1000, 0) + b"\x00\x01\x00\x00\x01\x00"
                + bytes(10) + b"\x00\x01\x00\x00" + bytes(12) + b"\x00\x01\x00\x00" + bytes(12)
                + b"\x40\x00\x00\x00" + bytes(24) + struct.pack(">I", 2))
    return _box(b"ftyp", brand + b"\x00\x00\x02\x00" + brand + b"iso2mp41") + _box(b"moov", mvhd) + _box(b"free", b"")


def picture(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


def animated_gif(frames: int) -> bytes:
    images = [Image.new("RGB", (200, 200), ((i * 37) % 255, 80, 160)) for i in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:], duration=50, loop=0)
    return buffer.getvalue()


def fax_tiff(pages: int) -> bytes:
    images = [Image.new("1", (1728, 1100), 1) for _ in range(pages)]
    buffer = io.BytesIO()
    images[0].save(buffer, "TIFF", save_all=True, append_images=images[1:], compression="group4")
    return buffer.getvalue()


def system_font() -> bytes:
    fonts = sorted(Path("/usr/share/fonts").rglob("*.ttf")) if Path("/usr/share/fonts").is_dir() else []
    if fonts:
        return fonts[0].read_bytes()
    # No system font: a minimal sfnt header with an empty table directory.
    return b"\x00\x01\x00\x00" + struct.pack(">HHHH", 0, 0, 0, 0)


EVERYDAY_ATTACHMENTS = {
    "wav": lambda: (wav(), "audio", "wav", "memo.wav"),
    "mp3": lambda: (mp3(), "audio", "mpeg", "memo.mp3"),
    "m4a": lambda: (iso_media(b"M4A "), "audio", "mp4", "memo.m4a"),
    "mp4": lambda: (iso_media(b"isom"), "video", "mp4", "clip.mp4"),
    "mov": lambda: (iso_media(b"qt  "), "video", "quicktime", "clip.mov"),
    "ttf": lambda: (system_font(), "font", "ttf", "font.ttf"),
    "ttf as octet-stream": lambda: (system_font(), "application", "octet-stream", "font.ttf"),
    "ics": lambda: (ICS.encode(), "text", "calendar", "invite.ics"),
    "vcf": lambda: (VCARD.encode(), "text", "vcard", "wang.vcf"),
    "x-vcard": lambda: (VCARD.encode(), "text", "x-vcard", "wang.vcf"),
    "csv in Big5": lambda: ("姓名,電話\n王小明,02-1234\n".encode("big5"), "text", "csv", "list.csv"),
    "json": lambda: (json.dumps({"名": "王", "n": 1}).encode(), "application", "json", "d.json"),
    "xml": lambda: (b'<?xml version="1.0"?><root><a>hi</a></root>', "application", "xml", "d.xml"),
    "svg": lambda: (b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><rect width="9" height="9"/></svg>',
                    "image", "svg+xml", "i.svg"),
    "gif": lambda: (picture("GIF"), "image", "gif", "i.gif"),
    "bmp": lambda: (picture("BMP"), "image", "bmp", "i.bmp"),
    "jpeg 2000": lambda: (picture("JPEG2000"), "image", "jp2", "i.jp2"),
    "animated gif of 50 frames": lambda: (animated_gif(50), "image", "gif", "party.gif"),
    "three-page G4 fax tiff": lambda: (fax_tiff(3), "image", "tiff", "fax.tif"),
    "docx": lambda: (docgen.make_docx(["Agenda"]), "application", DOCX, "a.docx"),
    "xlsx": lambda: (docgen.make_xlsx({"S": [["a", 1]]}), "application", XLSX, "a.xlsx"),
    "pptx": lambda: (docgen.make_pptx(["Agenda"]), "application", PPTX, "a.pptx"),
    "odt": lambda: (docgen.make_odt(["Agenda"]), "application", "vnd.oasis.opendocument.text", "a.odt"),
    "pdf": lambda: (docgen.make_pdf(["Agenda"]), "application", "pdf", "a.pdf"),
    "7z": lambda: (docgen.make_7z({"a.txt": b"hello"}), "application", "x-7z-compressed", "a.7z"),
    "zip of everyday files": lambda: (docgen.make_zip({
        "a.docx": docgen.make_docx(["hello"]), "b.pdf": docgen.make_pdf(["hello"]), "c.wav": wav(),
        "d.png": picture("PNG"), "e.ics": ICS.encode()}), "application", "zip", "all.zip"),
    "winmail.dat": lambda: (docgen.make_tnef({"notes.txt": b"meeting notes"}, subject="sync", body="hello"),
                            "application", "ms-tnef", "winmail.dat"),
    "forward as .eml octet-stream": lambda: (mail("inner forward\n").as_bytes(), "application", "octet-stream", "fwd.eml"),
    "zero-byte txt": lambda: (b"", "text", "plain", "empty.txt"),
    "zero-byte bin": lambda: (b"", "application", "octet-stream", "empty.bin"),
    "zero-byte pdf": lambda: (b"", "application", "pdf", "empty.pdf"),
    "zero-byte docx": lambda: (b"", "application", DOCX, "empty.docx"),
}


@pytest.mark.parametrize("kind", list(EVERYDAY_ATTACHMENTS))
def test_everyday_attachment_is_delivered(kind: str) -> None:
    delivered_cleanly(with_attachment(*EVERYDAY_ATTACHMENTS[kind]()))


def test_outlook_html_with_inline_cid_image_is_delivered() -> None:
    related = MIMEMultipart("related")
    alternative = MIMEMultipart("alternative")
    alternative.attach(MIMEText("Hello\n", "plain", "utf-8"))
    alternative.attach(MIMEText('<html><body><p>Hello</p><img src="cid:image001.png@01DA"></body></html>', "html", "utf-8"))
    related.attach(alternative)
    image = MIMEBase("image", "png")
    image.set_payload(picture("PNG"))
    encoders.encode_base64(image)
    image["Content-ID"] = "<image001.png@01DA>"
    image["Content-Disposition"] = 'inline; filename="image001.png"'
    related.attach(image)
    related["Subject"] = "RE: sync"
    delivered_cleanly(related.as_bytes())


def test_outlook_meeting_request_with_calendar_part_and_ics_attachment_is_delivered() -> None:
    mixed = MIMEMultipart("mixed")
    alternative = MIMEMultipart("alternative")
    alternative.attach(MIMEText("Weekly sync\n", "plain", "utf-8"))
    alternative.attach(MIMEText("<html><body>Weekly sync</body></html>", "html", "utf-8"))
    calendar = MIMEText(ICS, "calendar", "utf-8")
    calendar.set_param("method", "REQUEST")
    alternative.attach(calendar)
    mixed.attach(alternative)
    ics = MIMEBase("application", "ics")
    ics.set_payload(ICS.encode())
    encoders.encode_base64(ics)
    ics["Content-Disposition"] = 'attachment; filename="invite.ics"'
    mixed.attach(ics)
    mixed["Subject"] = "Invitation: Weekly sync"
    delivered_cleanly(mixed.as_bytes())


def test_read_receipt_is_delivered() -> None:
    delivered_cleanly(
        HEADERS + b"Content-Type: multipart/report; report-type=disposition-notification; boundary=R\r\n\r\n"
        b"--R\r\nContent-Type: text/plain\r\n\r\nYour message was read.\r\n"
        b"--R\r\nContent-Type: message/disposition-notification\r\n\r\n"
        b"Reporting-UA: b.mofa.example; Microsoft Outlook 16.0\r\nFinal-Recipient: rfc822;desk@mofa.example\r\n"
        b"Original-Message-ID: <t1@mission.example>\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n"
        b"\r\n--R--\r\n")


def _bounce(returned_type: bytes, returned: bytes) -> bytes:
    return (HEADERS + b"Content-Type: multipart/report; report-type=delivery-status; boundary=D\r\n\r\n"
            b"--D\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nI'm sorry to have to inform you...\r\n"
            b"--D\r\nContent-Type: message/delivery-status\r\n\r\n"
            b"Reporting-MTA: dns; mofa.example\r\nArrival-Date: Mon,  5 Jan 2026 08:00:00 +0000\r\n\r\n"
            b"Final-Recipient: rfc822; nobody@partner.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            b"Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n"
            b"--D\r\nContent-Type: " + returned_type + b"\r\n\r\n" + returned + b"\r\n--D--\r\n")


RETURNED_HEADERS = (b"From: attache@mission.example\r\nTo: nobody@partner.example\r\nSubject: sync\r\n"
                    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"inner\"\r\n")


def test_bounce_returning_only_the_headers_of_a_multipart_message_is_delivered() -> None:
    delivered_cleanly(_bounce(b"text/rfc822-headers", RETURNED_HEADERS))


def test_bounce_returning_a_headers_only_message_rfc822_is_delivered() -> None:
    delivered_cleanly(_bounce(b"message/rfc822", RETURNED_HEADERS))


def test_smime_detached_signature_made_by_a_real_signer_is_delivered() -> None:
    identity = recipient("attache@mission.example")
    signed = (pkcs7.PKCS7SignatureBuilder()
              .set_data(b"Content-Type: text/plain; charset=utf-8\r\n\r\nSigned hello.\r\n")
              .add_signer(identity.certificate, identity.key, hashes.SHA256())
              .sign(Encoding.SMIME, [pkcs7.PKCS7Options.DetachedSignature]))
    delivered_cleanly(b"From: attache@mission.example\r\nTo: desk@mofa.example\r\nSubject: signed\r\n" + signed)


def test_pgp_mime_signed_message_is_delivered() -> None:
    delivered_cleanly(
        HEADERS + b"Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; "
        b"boundary=S\r\n\r\n--S\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
        b"PGP signed hello.\r\n\r\n--S\r\nContent-Type: application/pgp-signature; name=\"signature.asc\"\r\n"
        b"Content-Disposition: attachment; filename=\"signature.asc\"\r\n\r\n" + PGP_SIGNATURE + b"\r\n--S--\r\n")


def test_gmail_message_with_dkim_and_arc_headers_is_delivered() -> None:
    delivered_cleanly(
        b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=gmail.com; s=20230601;\r\n"
        b"\th=to:subject:message-id:date:from:mime-version;\r\n\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n"
        b"\tb=dGVzdGluZyBzaWduYXR1cmUgZGF0YSBoZXJl\r\nARC-Seal: i=1; a=rsa-sha256; t=1700000000; cv=none;\r\n\tb=abc=\r\n"
        + HEADERS + b"Content-Type: multipart/alternative; boundary=\"000000000000abcdef\"\r\n\r\n"
        b"--000000000000abcdef\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\nhi there\r\n\r\n"
        b"--000000000000abcdef\r\nContent-Type: text/html; charset=\"UTF-8\"\r\n\r\n<div dir=\"ltr\">hi there</div>\r\n\r\n"
        b"--000000000000abcdef--\r\n")


def test_thunderbird_forward_as_attached_message_is_delivered() -> None:
    message = mail("-------- Forwarded Message --------\n")
    message.add_attachment(mail("inner body\n"), filename="old.eml")
    delivered_cleanly(message.as_bytes())


def test_attachment_named_with_rfc2231_big5_continuations_is_delivered() -> None:
    delivered_cleanly(
        HEADERS + b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee\r\n"
        b"--B\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*0*=big5''%B3%F8%A7%69; filename*1*=%AE%D1.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(docgen.make_pdf(["hello report"])) + b"--B--\r\n")


def test_attachment_named_with_a_gbk_encoded_word_is_delivered() -> None:
    import base64

    name = b"=?GBK?B?" + base64.b64encode("报告.docx".encode("gbk")) + b"?="
    delivered_cleanly(
        HEADERS + b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee\r\n"
        b"--B\r\nContent-Type: application/" + DOCX.encode() + b"; name=\"" + name + b"\"\r\n"
        b"Content-Disposition: attachment; filename=\"" + name + b"\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + b64(docgen.make_docx(["hello"])) + b"--B--\r\n")


# (declared charset, text, codec that writes it): labels clients send that Python may not know.
EVERYDAY_CHARSETS = {
    "iso-2022-jp": ("こんにちは、会議の件です。\n", "iso-2022-jp"),
    "euc-kr": ("안녕하세요 회의\n", "euc-kr"),
    "ks_c_5601-1987": ("안녕하세요 회의\n", "cp949"),
    "x-sjis": ("こんにちは\n", "shift_jis"),
    "windows-1251": ("Привет, встреча\n", "windows-1251"),
    "koi8-r": ("Привет, встреча\n", "koi8-r"),
    "iso-8859-8-i": ("שלום\n", "iso-8859-8"),
    "utf8": ("héllo\n", "utf-8"),
    "iso-8859-1": ("“smart” quotes – dash\n", "cp1252"),
    "x-mac-chinesetrad": ("會議紀錄\n", "big5"),
    "gb_2312-80": ("会议\n", "gb2312"),
    "windows-874": ("สวัสดี\n", "cp874"),
    "unicode-1-1-utf-7": ("hello\n", "utf-7"),
}


@pytest.mark.parametrize("charset", list(EVERYDAY_CHARSETS))
def test_body_in_a_charset_label_clients_send_is_delivered(charset: str) -> None:
    text, codec = EVERYDAY_CHARSETS[charset]
    delivered_cleanly(HEADERS + f"Content-Type: text/plain; charset={charset}\r\n\r\n".encode() + text.encode(codec))


def _permissions_only_pdf(text: str) -> bytes:
    import pymupdf

    doc = pymupdf.open()
    doc.new_page().insert_text((50, 100), text)
    return doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner", user_pw="",
                       permissions=pymupdf.PDF_PERM_PRINT)


def test_pdf_encrypted_with_only_an_owner_password_is_delivered() -> None:
    delivered_cleanly(with_attachment(_permissions_only_pdf("Statement of account"), "application", "pdf", "statement.pdf"))


def test_docx_with_edit_protection_is_delivered() -> None:
    settings = (b'<?xml version="1.0"?><w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                b'<w:documentProtection w:edit="readOnly" w:enforcement="1" w:cryptProviderType="rsaAES" '
                b'w:cryptAlgorithmSid="14" w:cryptSpinCount="100000" w:hash="abc=" w:salt="def="/></w:settings>')
    data = docgen._zip_rewrite(docgen.make_docx(["hello"]), {"word/settings.xml": settings})
    delivered_cleanly(with_attachment(data, "application", DOCX, "p.docx"))


def test_xlsx_with_sheet_and_workbook_protection_is_delivered() -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active["A1"] = "hello"
    book.active.protection.sheet = True
    book.active.protection.password = "x"
    book.security.lockStructure = True
    buffer = io.BytesIO()
    book.save(buffer)
    delivered_cleanly(with_attachment(buffer.getvalue(), "application", XLSX, "p.xlsx"))


def test_pdf_with_an_empty_signature_field_is_delivered() -> None:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((50, 100), "hello")
    widget = pymupdf.Widget()
    widget.field_type = pymupdf.PDF_WIDGET_TYPE_SIGNATURE
    widget.field_name = "Sig1"
    widget.rect = pymupdf.Rect(50, 200, 200, 250)
    page.add_widget(widget)
    delivered_cleanly(with_attachment(doc.tobytes(), "application", "pdf", "signed.pdf"))


def test_legacy_word_document_is_delivered() -> None:
    delivered_cleanly(with_attachment(docgen.make_doc(["hello"]), "application", "msword", "a.doc"))


def test_apple_mail_appledouble_attachment_is_delivered() -> None:
    import struct

    entries = [(3, b"r.pdf"), (9, b"PDF CARO" + bytes(24))]
    offset = 26 + 12 * len(entries)
    header = struct.pack(">II16sH", 0x00051607, 0x00020000, bytes(16), len(entries))
    directory, data = b"", b""
    for entry, value in entries:
        directory += struct.pack(">III", entry, offset + len(data), len(value))
        data += value
    delivered_cleanly(
        HEADERS + b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        b"--B\r\nContent-Type: multipart/appledouble; boundary=A\r\n\r\n--A\r\n"
        b"Content-Type: application/applefile; name=\"r.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + b64(header + directory + data) + b"\r\n--A\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(docgen.make_pdf(["hello"])) + b"\r\n--A--\r\n--B--\r\n")


def emf() -> bytes:
    """A minimal Enhanced Metafile: EMR_HEADER (100×100 device units, 1024×768 reference)
    and EMR_EOF, as Office stores logos and OLE previews."""
    body = (struct.pack("<iiii", 0, 0, 100, 100) + struct.pack("<iiii", 0, 0, 2540, 2540)
            + struct.pack("<II", 0x464D4520, 0x10000) + struct.pack("<IIHH", 0, 2, 1, 0)
            + struct.pack("<III", 0, 0, 0) + struct.pack("<ii", 1024, 768) + struct.pack("<ii", 320, 240))
    data = struct.pack("<II", 1, 8 + len(body)) + body + struct.pack("<IIIII", 14, 20, 0, 16, 20)
    return data[:48] + struct.pack("<I", len(data)) + data[52:]


def test_emf_picture_attachment_is_delivered() -> None:
    delivered_cleanly(with_attachment(emf(), "image", "emf", "logo.emf"))


def test_docx_holding_an_emf_picture_is_delivered() -> None:
    data = docgen._zip_rewrite(docgen.make_docx(["Agenda"]), {"word/media/image1.emf": emf()})
    delivered_cleanly(with_attachment(data, "application", DOCX, "a.docx"))


def _noisy_picture(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((300, 200), 40).convert("RGB").save(buffer, fmt)
    return buffer.getvalue()


@pytest.mark.slow  # the decoded part is OCR'd
def test_jpeg_cut_short_is_delivered() -> None:
    data = _noisy_picture("JPEG")
    delivered_cleanly(with_attachment(data[: len(data) * 4 // 5], "image", "jpeg", "a.jpg"))


@pytest.mark.slow  # OCR'd
def test_jpeg_with_trailing_zero_bytes_is_delivered() -> None:
    delivered_cleanly(with_attachment(_noisy_picture("JPEG") + bytes(100), "image", "jpeg", "a.jpg"))


def test_pdf_whose_cross_reference_table_must_be_rebuilt_is_delivered() -> None:
    delivered_cleanly(with_attachment(docgen.make_pdf_with_broken_xref(["hello"]), "application", "pdf", "a.pdf"))
