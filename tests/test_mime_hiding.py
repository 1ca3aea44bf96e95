"""No hiding place in the MIME packaging: a marking placed where some reader can find it
is found, at its level, and the default policy holds the message.

Each message hides a marked text in one place a strict parser skips or misreads:
preamble, epilogue, parts after a premature end, an inner multipart reusing the outer
boundary, a duplicate Content-Type or Content-Transfer-Encoding header, an attached
message that is itself encoded, files encoded inside a text body, a part that claims to
be a signature.
"""

from __future__ import annotations

import docgen
from mimegen import (
    ROC,
    US,
    b64,
    binhex,
    decision,
    inspect,
    levels,
    message,
    text_part,
    uuencode,
    yenc,
)

from dlp_gateway.model import ProblemKind

MARKED = f"{US}\nMeeting with the delegation\n{US}\n"


def held(report) -> bool:
    return decision(report) == ("quarantine", "national-secret")


def test_marking_in_the_preamble_is_found() -> None:
    raw = message("multipart/mixed; boundary=B", MARKED.encode() + b"\r\n--B\r\n" + text_part("hello") + b"\r\n--B--\r\n")
    report = inspect(raw)
    assert levels(report) == {"preamble": "secret"}
    assert held(report)


def test_marking_in_the_epilogue_is_found() -> None:
    raw = message("multipart/mixed; boundary=B", b"--B\r\n" + text_part("hello") + b"\r\n--B--\r\n" + MARKED.encode())
    report = inspect(raw)
    assert levels(report) == {"epilogue": "secret"}
    assert held(report)


def test_base64_blob_in_the_preamble_is_decoded_and_read() -> None:
    docx = docgen.make_docx(["Minutes", US, "talking points"])
    raw = message("multipart/mixed; boundary=B",
                  b"This is a multi-part message in MIME format.\r\n\r\n" + b64(docx)
                  + b"\r\n--B\r\n" + text_part("hello") + b"\r\n--B--\r\n")
    report = inspect(raw)
    assert "secret" in {level for where, level in levels(report).items() if where.startswith("preamble › ")}


def test_inner_multipart_reusing_the_outer_boundary_does_not_hide_a_zip() -> None:
    zipped = docgen.make_zip({"cable.txt": MARKED.encode()})
    raw = message("multipart/mixed; boundary=B",
                  b"--B\r\nContent-Type: multipart/alternative; boundary=B\r\n\r\n"
                  b"--B\r\n" + text_part("cover note") + b"\r\n--B--\r\n"
                  b"--B\r\nContent-Type: application/zip; name=cable.zip\r\n"
                  b"Content-Disposition: attachment; filename=cable.zip\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                  + b64(zipped) + b"--B--\r\n")
    report = inspect(raw)
    assert levels(report) == {"cable.zip › cable.txt": "secret"}
    assert held(report)


def test_parts_after_a_premature_end_are_read() -> None:
    raw = message("multipart/mixed; boundary=B",
                  b"--B\r\n" + text_part("hello") + b"\r\n--B--\r\n"
                  b"--B\r\nContent-Type: text/plain; name=notes.txt\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                  + b64(MARKED.encode()) + b"--B--\r\n")
    report = inspect(raw)
    assert levels(report) == {"notes.txt": "secret"}
    assert any("did not yield" in n.detail for n in report.inspection.notes)


def test_duplicate_transfer_encoding_is_read_under_each() -> None:
    # One reader takes "7bit" and shows base64 text; another takes "base64" and shows the banner.
    raw = message("text/plain; charset=utf-8", b64(MARKED.encode()),
                  b"Content-Transfer-Encoding: 7bit\r\nContent-Transfer-Encoding: base64\r\n")
    report = inspect(raw)
    assert "secret" in levels(report).values()
    assert held(report)


def test_duplicate_content_type_with_a_multipart_reading_is_read_as_multipart() -> None:
    body = b"--B\r\n" + text_part("hello") + b"\r\n--B\r\n" + text_part(MARKED, cte="base64", encoded=b64(MARKED.encode())) + b"\r\n--B--\r\n"
    raw = message("multipart/mixed; boundary=B", body, b"Content-Type: text/plain\r\n")  # text/plain first
    report = inspect(raw)
    assert "secret" in levels(report).values()


def test_base64_encoded_attached_message_is_decoded_and_read() -> None:
    inner = b"From: a@b.example\r\nSubject: readout\r\n\r\n" + MARKED.encode()
    raw = message("multipart/mixed; boundary=B",
                  b"--B\r\n" + text_part("fyi") + b"\r\n--B\r\nContent-Type: message/rfc822\r\n"
                  b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(inner) + b"--B--\r\n")
    report = inspect(raw)
    assert levels(report) == {"message 2 › body": "secret"}


def test_quoted_printable_attached_message_is_decoded_and_read() -> None:
    inner = "From: a@b.example\r\nSubject: readout\r\n\r\n" + ROC + "\r\n會議紀錄\r\n"
    encoded = "".join(f"={b:02X}" if b > 127 else chr(b) for b in inner.encode()).encode()
    raw = message("multipart/mixed; boundary=B",
                  b"--B\r\n" + text_part("fyi") + b"\r\n--B\r\nContent-Type: message/rfc822\r\n"
                  b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + encoded + b"\r\n--B--\r\n")
    report = inspect(raw)
    assert levels(report) == {"message 2 › body": "confidential"}


def test_uuencoded_file_in_a_text_body_is_read() -> None:
    body = b"Please find the file below.\n\n" + uuencode("cable.txt", MARKED.encode()) + b"\nRegards\n"
    report = inspect(message("text/plain; charset=utf-8", body))
    assert levels(report) == {"body › cable.txt": "secret"}


def test_yenc_file_in_a_text_body_is_read() -> None:
    docx = docgen.make_docx(["Minutes", US])
    body = b"Attached:\n" + yenc("minutes.docx", docx) + b"bye\n"
    report = inspect(message("text/plain; charset=utf-8", body))
    assert "secret" in {level for where, level in levels(report).items() if where.startswith("body › minutes.docx")}


def test_binhex_file_in_a_text_body_is_read() -> None:
    body = b"Mac file follows\n\n" + binhex("cable.txt", MARKED.encode()) + b"\n"
    report = inspect(message("text/plain; charset=utf-8", body))
    assert levels(report) == {"body › cable.txt": "secret"}


def test_message_partial_is_held_with_a_clear_reason() -> None:
    raw = message('message/partial; id="abc@b.example"; number=1; total=2', b"From: x@y.example\r\n\r\nhalf")
    report = inspect(raw)
    (problem,) = report.problems
    assert problem.kind == ProblemKind.UNSUPPORTED and "split for sending" in problem.detail
    assert decision(report) == ("quarantine", "uninspectable")


def test_part_claiming_to_be_a_signature_is_read_by_its_content() -> None:
    pdf = docgen.make_pdf(["Minutes", US])
    raw = message('multipart/signed; protocol="application/pkcs7-signature"; boundary=S',
                  b"--S\r\n" + text_part("hello") + b"\r\n--S\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\n"
                  b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(pdf) + b"--S--\r\n")
    report = inspect(raw)
    assert "secret" in {level for where, level in levels(report).items() if where.startswith("smime.p7s")}
    assert held(report)


def test_scan_json_reports_notes(capsys, tmp_path) -> None:
    import json

    from dlp_gateway.cli import main

    path = tmp_path / "m.eml"
    path.write_bytes(message("text/plain", b"aGVsbG8gd29ybGQ\r\n", b"Content-Transfer-Encoding: base64\r\n"))
    main(["scan", "--json", "--data-dir", str(tmp_path / "data"), str(path)])
    result = json.loads(capsys.readouterr().out.splitlines()[0])
    assert result["notes"] == [{"location": "body", "detail": "base64 without its padding; read what it decodes to"}]


def test_text_after_base64_data_and_a_broken_delimiter_is_read() -> None:
    raw = message("multipart/mixed; boundary=B",
                  b"--B\r\n" + text_part("hello") + b"\r\n--B\r\nContent-Type: text/html; name=a.html\r\n"
                  b"Content-Transfer-Encoding: base64\r\n\r\nPGh0bWw+Cg==\r\n\r\n--B-->\r\n" + MARKED.encode())
    report = inspect(raw)
    assert report.problems == []
    assert "secret" in {level for where, level in levels(report).items() if where.startswith("a.html")}


def test_hidden_part_with_the_same_bytes_under_another_encoding_is_read() -> None:
    # The visible part shows the base64 text as text; the hidden copy decodes it.
    encoded = b64(MARKED.encode())
    raw = message("multipart/mixed; boundary=B",
                  b"--B\r\n" + text_part("", cte="7bit", encoded=encoded) + b"\r\n--B--\r\n"
                  b"--B\r\n" + text_part("", cte="base64", encoded=encoded) + b"\r\n--B--\r\n")
    report = inspect(raw)
    assert "secret" in levels(report).values()


def test_subject_of_an_attached_multipart_message_after_a_premature_end_is_read() -> None:
    inner = (b"From: a@b.example\r\nSubject: " + US.encode() + b"\r\nContent-Type: multipart/mixed; boundary=I\r\n\r\n"
             b"--I\r\n" + text_part("nothing here") + b"\r\n--I--\r\n")
    raw = message("multipart/mixed; boundary=B",
                  b"--B\r\n" + text_part("hello") + b"\r\n--B--\r\n"
                  b"--B\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--B--\r\n")
    report = inspect(raw)
    assert any(f.level is not None and f.location.endswith("subject") for f in report.findings)


def test_signed_data_declared_as_a_detached_signature_is_unpacked_and_read() -> None:
    from mimegen import signed_data

    der = signed_data(b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + MARKED.encode())
    raw = message('multipart/signed; protocol="application/pkcs7-signature"; boundary=S',
                  b"--S\r\n" + text_part("hello") + b"\r\n--S\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\n"
                  b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(der) + b"--S--\r\n")
    report = inspect(raw)
    assert "secret" in {level for where, level in levels(report).items() if where.startswith("smime.p7s › signed content")}
    assert held(report)


def test_every_block_and_field_of_a_delivery_status_is_read() -> None:
    raw = message("multipart/report; report-type=delivery-status; boundary=R",
                  b"--R\r\n" + text_part("Delivery failed.") + b"\r\n--R\r\nContent-Type: message/delivery-status\r\n\r\n"
                  b"Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; x@y.example\r\nAction: failed\r\n"
                  b"Diagnostic-Code: smtp; " + US.encode() + b"\r\n\r\n--R--\r\n")
    report = inspect(raw)
    assert [s.location for s in report.inspection.segments if US in s.text] == ["delivery status 2"]
    assert report.inspection.notes == []
