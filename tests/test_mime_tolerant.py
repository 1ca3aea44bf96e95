"""Untidy MIME is read the way mail clients read it: a defect is a note, never a hold.

Each message here carries one packaging defect that the issue's public sample mail
showed (or that clients are known to tolerate), with a marking in the content behind it.
The marking must be found at its level, with no problem recorded (so the default policy
does not hold the message as "uninspectable"), and the defect noted.
"""

from __future__ import annotations

import pytest
from mimegen import HEAD, ROC, US, b64, decision, inspect, levels, message, text_part

from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits


def notes(report) -> list[str]:
    return [f"{n.location}: {n.detail}" for n in report.inspection.notes]


def test_multipart_without_closing_boundary_is_read_and_noted() -> None:
    raw = message("multipart/mixed; boundary=B", b"--B\r\n" + text_part(US) + b"\r\n")
    report = inspect(raw)
    assert report.problems == []
    assert levels(report) == {"body": "secret"}
    assert any("closing boundary" in n for n in notes(report))


def test_final_delimiter_without_its_dashes_still_reads_every_part() -> None:
    raw = message("multipart/mixed; boundary=B",
                  b"--B\r\n" + text_part("hello") + b"\r\n--B\r\n" + text_part(ROC) + b"\r\n--B\r\n")
    report = inspect(raw)
    assert report.problems == []
    assert levels(report) == {"body 2": "confidential"}


def test_empty_multipart_is_empty_not_unreadable() -> None:
    report = inspect(message("multipart/mixed; boundary=B", b""))
    assert report.problems == []
    assert decision(report) == ("deliver", "default")
    assert any("holds no parts" in n or "first boundary" in n for n in notes(report))


def test_unquoted_equals_sign_in_boundary_is_split_as_clients_split_it() -> None:
    raw = message("multipart/mixed; boundary=----=_Part_1=abc",
                  b"------=_Part_1=abc\r\n" + text_part(US) + b"\r\n------=_Part_1=abc--\r\n")
    report = inspect(raw)
    assert report.problems == []
    assert levels(report) == {"body": "secret"}


def test_part_whose_headers_lack_the_blank_line_is_read() -> None:
    raw = message("multipart/mixed; boundary=B",
                  b"--B\r\nContent-Type: text/plain\r\n" + US.encode() + b"\r\nmeeting\r\n--B--\r\n")
    report = inspect(raw)
    assert report.problems == []
    assert "secret" in levels(report).values()
    assert any("not ended by a blank line" in n for n in notes(report))


def test_every_subject_header_is_read() -> None:
    raw = HEAD + b"Subject: " + US.encode() + b"\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
    report = inspect(raw)
    assert levels(report) == {"subject (2)": "secret"}
    assert any("2 Subject headers" in n for n in notes(report))


def test_base64_without_padding_is_decoded_and_noted() -> None:
    encoded = b64((US + "\nweekly!").encode())
    assert encoded.rstrip().endswith(b"==")
    encoded = encoded.replace(b"=", b"")
    raw = message("text/plain; charset=utf-8", encoded, b"Content-Transfer-Encoding: base64\r\n")
    report = inspect(raw)
    assert report.problems == []
    assert levels(report) == {"body": "secret"}
    assert any("padding" in n for n in notes(report))


def _encoded(cte: str, text: str) -> bytes:
    data = text.encode()
    normal = cte.lower().replace("_", "-").replace(" ", "-").split(";")[0].split(" ")[0]
    if normal.startswith("base64") or normal.startswith("base-64"):
        return b64(data)
    if normal.startswith("quoted"):
        return b"=E6=A9=9F=E5=AF=86 report\r\n" if text == ROC else data.replace(b"/", b"=2F")
    if "uu" in normal:
        from mimegen import uuencode

        return uuencode("body.txt", data)
    return data


@pytest.mark.parametrize("cte", ["7-bit", "8bits", "7 bit", "quoted printable", "quoted_printable",
                                 "plain", "x-uuencode", "x-uue", "uuencode", "base64;", "base64 x",
                                 "base-64"])
def test_loosely_spelled_transfer_encoding_is_decoded_as_it_plainly_means(cte: str) -> None:
    raw = message("text/plain; charset=utf-8", _encoded(cte, US), f"Content-Transfer-Encoding: {cte}\r\n".encode())
    report = inspect(raw)
    assert report.problems == []
    assert levels(report) == {"body": "secret"}


def test_unknown_transfer_encoding_is_read_as_is_and_as_base64() -> None:
    raw = message("text/plain; charset=utf-8", b64((US + "\nnotes").encode()),
                  b"Content-Transfer-Encoding: x-gzip64\r\n")
    report = inspect(raw)
    assert report.problems == []
    assert levels(report) == {"body (as base64)": "secret"}
    assert any("unknown transfer encoding 'x-gzip64'" in n for n in notes(report))


def test_unknown_transfer_encoding_is_read_as_quoted_printable_too() -> None:
    raw = message("text/plain; charset=utf-8", b"=E6=A9=9F=E5=AF=86\r\nreport\r\n",
                  b"Content-Transfer-Encoding: x-qp\r\n")
    report = inspect(raw)
    assert report.problems == []
    assert levels(report) == {"body (as quoted-printable)": "confidential"}


def test_unknown_binary_blob_is_noted_and_delivered() -> None:
    blob = bytes((i * 7919) % 251 for i in range(4096))
    raw = message("multipart/mixed; boundary=B",
                  b"--B\r\n" + text_part("data attached") + b"\r\n--B\r\nContent-Type: application/octet-stream\r\n"
                  b"Content-Disposition: attachment; filename=sensor.dat\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                  + b64(blob) + b"--B--\r\n")
    report = inspect(raw)
    assert report.problems == []
    assert any(f.name == "file.unread_type" and f.location == "sensor.dat" for f in report.inspection.facts)
    assert decision(report) == ("deliver", "default")


def _pe_executable() -> bytes:
    import struct

    return (b"MZ" + b"\0" * 58 + struct.pack("<I", 64) + b"PE\0\0" + struct.pack("<HH", 0x14C, 1) + b"\0" * 12
            + struct.pack("<HH", 224, 0x102) + struct.pack("<H", 0x10B) + b"\0" * 300)


@pytest.mark.parametrize("name,data", [
    ("setup.bin", _pe_executable()),
    ("tool", b"\x7fELF\x02\x01\x01\x00" + b"\0" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + b"\0" * 100),
    ("run.txt", b"#!/bin/sh\nrm -rf /tmp/x\n"),
])
def test_executables_and_scripts_are_held_by_true_type(name: str, data: bytes) -> None:
    raw = message("multipart/mixed; boundary=B",
                  b"--B\r\n" + text_part("see attached") + b"\r\n--B\r\nContent-Type: application/octet-stream\r\n"
                  + f"Content-Disposition: attachment; filename={name}\r\n".encode()
                  + b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(data) + b"--B--\r\n")
    report = inspect(raw)
    assert report.problems == []
    assert decision(report) == ("quarantine", "executable")


def test_part_that_claims_to_be_a_signature_but_is_text_is_read() -> None:
    raw = message("multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=S",
                  b"--S\r\n" + text_part("hello") + b"\r\n--S\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\n"
                  b"Content-Transfer-Encoding: base64\r\n\r\n" + b64((US + "\nminutes of the meeting").encode()) + b"--S--\r\n")
    report = inspect(raw)
    assert levels(report) == {"smime.p7s": "secret"}


def test_twenty_thousand_tiny_parts_stop_at_the_member_limit_quickly() -> None:
    import time

    parts = b"".join(b"--B\r\nContent-Type: text/plain\r\n\r\nx%d\r\n" % i for i in range(20_000))
    raw = message("multipart/mixed; boundary=B", parts + b"--B--\r\n")
    started = time.monotonic()
    inspection = extract(raw, ExtractionLimits(max_members=1000))
    assert time.monotonic() - started < 5
    assert len(inspection.parts) == 1000
    assert [p.limit for p in inspection.problems] == ["max_members"]


def test_header_continuation_without_its_leading_blank_is_mended() -> None:
    docx = docgen_docx(["Minutes", US])
    raw = message("multipart/mixed; boundary=B",
                  b"--B\r\n" + text_part("hello") + b"\r\n--B\r\nContent-Transfer-Encoding: base64\r\n"
                  b"Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document;\r\n"
                  b'name="minutes.docx"\r\nContent-Disposition: attachment; filename="minutes.docx"\r\n\r\n'
                  + b64(docx) + b"--B--\r\n")
    report = inspect(raw)
    assert report.problems == []
    assert "secret" in {level for where, level in levels(report).items() if where.startswith("minutes.docx")}


def test_plain_text_labelled_base64_is_read_as_is() -> None:
    raw = message("text/plain; charset=utf-8", f"{US}\nThe delegation arrives on Monday, see you there.\n".encode(),
                  b"Content-Transfer-Encoding: base64\r\n")
    report = inspect(raw)
    assert report.problems == []
    assert levels(report) == {"body (as text)": "secret"}


def test_blank_part_is_empty_not_an_unknown_binary() -> None:
    raw = message("multipart/mixed; boundary=B",
                  b"--B\r\n" + text_part("hello") + b"\r\n--B\r\nContent-Type: text/plain\r\n\r\n\n\r\n--B--\r\n")
    report = inspect(raw)
    assert report.problems == [] and report.inspection.notes == []


def docgen_docx(paragraphs: list[str]) -> bytes:
    import docgen

    return docgen.make_docx(paragraphs)


def test_notes_reach_the_relay_through_the_worker_pickle() -> None:
    import pickle

    from dlp_gateway.inspector import for_the_relay

    raw = message("multipart/mixed; boundary=B", b"--B\r\n" + text_part("hello") + b"\r\n")
    report = pickle.loads(pickle.dumps(for_the_relay(inspect(raw))))
    assert any("closing boundary" in n.detail for n in report.inspection.notes)


def test_returned_multipart_headers_in_a_bounce_are_empty_not_unreadable() -> None:
    raw = message("multipart/report; report-type=delivery-status; boundary=R",
                  b"--R\r\n" + text_part("Delivery failed.") + b"\r\n"
                  b"--R\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: a@b.example\r\nTo: x@y.example\r\n"
                  b"Subject: lunch\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"inner\"\r\n"
                  b"\r\n--R--\r\n")
    report = inspect(raw)
    assert report.problems == []
    assert decision(report) == ("deliver", "default")


def test_attached_message_of_multipart_headers_only_is_empty_not_unreadable() -> None:
    raw = message("multipart/mixed; boundary=B",
                  b"--B\r\n" + text_part("see below") + b"\r\n--B\r\nContent-Type: message/rfc822\r\n\r\n"
                  b"From: a@b.example\r\nSubject: old thread\r\nContent-Type: multipart/alternative; boundary=x\r\n"
                  b"\r\n--B--\r\n")
    report = inspect(raw)
    assert report.problems == []
    assert decision(report) == ("deliver", "default")


def test_control_characters_in_a_charset_do_not_stop_the_text_being_read() -> None:
    raw = message('text/plain; charset="utf-8\x00"', f"{US}\nnotes\n".encode())
    report = inspect(raw)
    assert report.problems == []
    assert levels(report) == {"body": "secret"}


def test_cut_off_xml_in_a_plain_text_body_is_read_as_text() -> None:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<lead>\n  <note>{US}\n  meeting at noon</note>\n'
            "  <prospect>\n    <requestdate>2010-10-13</requ").encode()
    report = inspect(message("text/plain; charset=utf-8", body))
    assert report.problems == []
    assert "secret" in levels(report).values()


def test_data_that_libmagic_only_guesses_is_an_image_is_an_unknown_binary() -> None:
    garbage = bytes(range(256)) * 4  # libmagic: image/x-tga, from weak bytes
    raw = message("multipart/mixed; boundary=B",
                  b"--B\r\n" + text_part("photo attached") + b"\r\n--B\r\nContent-Type: image/jpeg; name=photo.jpg\r\n"
                  b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(garbage) + b"--B--\r\n")
    report = inspect(raw)
    assert report.problems == []
    assert decision(report) == ("deliver", "default")
    assert any(n.location == "photo.jpg" and "no image" in n.detail for n in report.inspection.notes)


def test_digest_members_are_read_once_as_attached_messages() -> None:
    member = b"From: a@b.example\r\nSubject: item\r\n\r\nfirst item\r\n"
    raw = message("multipart/digest; boundary=D", b"--D\r\n\r\n" + member + b"\r\n--D\r\n\r\n" + member.replace(b"first", b"second")
                  + b"\r\n--D--\r\n")
    report = inspect(raw)
    assert [p.location for p in report.inspection.parts] == ["message 1", "message 1 › body", "message 2", "message 2 › body"]
    assert report.inspection.notes == []


def test_attached_message_in_crlf_mail_is_not_read_twice() -> None:
    import docgen

    inner = docgen.make_message("inner", "inner body\nsecond line\nthird line", [("x.txt", b"hello\nthere\n", "text/plain")])
    raw = docgen.make_message("s", "body", [("fwd.eml", inner, "message/rfc822")]).replace(b"\n", b"\r\n")
    report = inspect(raw)
    assert not [p.location for p in report.inspection.parts if "outside" in p.location]
    assert report.inspection.notes == []


def test_digest_member_that_is_a_multipart_message_is_read_once() -> None:
    member = (b"From: a@b.example\r\nSubject: item\r\nContent-Type: multipart/mixed; boundary=I\r\n\r\n"
              b"--I\r\n" + text_part("inner text") + b"\r\n--I--\r\n")
    raw = message("multipart/digest; boundary=D", b"--D\r\n\r\n" + member + b"\r\n--D--\r\n")
    report = inspect(raw)
    assert not [p.location for p in report.inspection.parts if "outside" in p.location]


def test_decoy_boundaries_do_not_unbound_the_parse_of_many_parts() -> None:
    decoys = b" ".join(b"boundary=d%d" % i for i in range(300))  # push the real boundary out of the list
    parts = b"".join(b"--Z\r\nContent-Type: text/plain\r\n\r\nx%d\r\n" % i for i in range(5000))
    raw = message("multipart/mixed; boundary=Z", parts + b"--Z--\r\n", b"X-Decoy: " + decoys + b"\r\n")
    inspection = extract(raw, ExtractionLimits(max_members=100))
    assert len(inspection.parts) == 100
    assert [p.detail for p in inspection.problems] == ["more than 100 MIME parts; the rest of the message was not read"]


def test_opaque_signed_smime_is_unpacked_and_read_not_held() -> None:
    from mimegen import signed_data

    der = signed_data(b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + f"{US}\nreadout\n".encode())
    raw = message("application/pkcs7-mime; smime-type=signed-data; name=smime.p7m", b64(der),
                  b"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=smime.p7m\r\n")
    report = inspect(raw)
    assert report.problems == []
    assert "secret" in {level for where, level in levels(report).items() if where.startswith("smime.p7m › signed content")}


def test_a_real_detached_signature_is_skipped_quietly() -> None:
    from mimegen import signed_data

    der = signed_data(b"hello", detached=True)
    raw = message('multipart/signed; protocol="application/pkcs7-signature"; boundary=S',
                  b"--S\r\n" + text_part("hello") + b"\r\n--S\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\n"
                  b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(der) + b"--S--\r\n")
    report = inspect(raw)
    assert report.problems == [] and report.inspection.notes == []


@pytest.mark.parametrize("sender", [b"a@", b'"x" <a@[1.2.3'])
def test_broken_address_header_does_not_make_the_message_unreadable(sender: bytes) -> None:
    raw = b"From: " + sender + b"\r\nSubject: s\r\nContent-Type: text/plain\r\n\r\n" + US.encode() + b"\r\nnotes\r\n"
    report = inspect(raw)
    assert report.problems == []
    assert levels(report) == {"body": "secret"}
