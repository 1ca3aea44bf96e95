"""Red team: content that nobody but the recipient can read is held, never delivered unread.

The default policy holds encrypted content as uninspectable (rule `uninspectable`): the
gateway cannot tell what leaves. Each test sends one kind of encrypted payload a sender
could use to carry a marked document out, made by code (or, for OpenPGP, captured once from
`gpg -e -a` with a throw-away key), and checks that it is held with an `encrypted` problem.
"""

from __future__ import annotations

import base64

import docgen
import pymupdf
import pytest
from mimegen import US, decision, inspect, message

# `printf 'hello\n' | gpg -e -a -r r@x.example` with a throw-away cv25519 key.
PGP_MESSAGE = (b"-----BEGIN PGP MESSAGE-----\n\n"
               b"hF4DY7MSQN45Fd8SAQdAAeKaYoe8S5YxfCV3J3VO+MV3s5PYJDgbXayIwIDjKxgw\n"
               b"AfU8e7BcR6XoS1TdTpAzP9Cii1jl+N89adEfuJkaSEh1YF1JAM68G1+/Ddc0kGQk\n"
               b"0kEBKmsUpDMJY1r7l3oVoDiJgiKwPM8LV4MNuZn1IXg9W2nX6lgmO/5cn4+dDQli\n"
               b"jchpUKD91BGeYQQCgSMgg3o5UA==\n=6I9q\n-----END PGP MESSAGE-----\n")


def attachment(data: bytes, content_type: str, filename: str) -> bytes:
    return message("multipart/mixed; boundary=B",
                   b"--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--B\r\n"
                   + f"Content-Type: {content_type}\r\nContent-Disposition: attachment; filename=\"{filename}\"\r\n"
                     "Content-Transfer-Encoding: base64\r\n\r\n".encode()
                   + base64.encodebytes(data) + b"\r\n--B--\r\n")


def pdf_with_user_password() -> bytes:
    doc = pymupdf.open()
    doc.new_page().insert_text((50, 100), US)
    return doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="o", user_pw="u")


ENCRYPTED = {
    "armoured OpenPGP attachment": lambda: attachment(PGP_MESSAGE, "application/octet-stream", "notes.asc"),
    "ZIP with an encrypted member": lambda: attachment(docgen.make_encrypted_zip({"s.txt": US.encode()}), "application/zip", "a.zip"),
    "7z with encrypted names": lambda: attachment(docgen.make_7z({"s.txt": US.encode()}, password="x"),
                                                  "application/x-7z-compressed", "a.7z"),
    "PDF with a user password": lambda: attachment(pdf_with_user_password(), "application/pdf", "a.pdf"),
    "password-protected Office document": lambda: attachment(
        docgen.make_encrypted_ooxml(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "a.docx"),
}


@pytest.mark.parametrize("kind", list(ENCRYPTED))
def test_encrypted_payload_is_held_as_uninspectable(kind: str) -> None:
    report = inspect(ENCRYPTED[kind]())
    assert "encrypted" in {p.kind for p in report.problems}
    assert decision(report) == ("quarantine", "uninspectable")
