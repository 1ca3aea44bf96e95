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
