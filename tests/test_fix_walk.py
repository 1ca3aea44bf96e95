"""Round-3 red-team cases for the walk/filetype/mime/archives readers (issue #12): what a
recipient's client shows is read, and only content that truly cannot be read is held.
Each test builds its message in code and runs the real pipeline and the shipped policy.

Most cases failed on the branch base (dd41faf). Those that already passed there are kept
as cheap regression tests: the BinHex file inside a body and the .hqx attachment, the
`<?xml` prose body, the ISO 9660 image, data before a ZIP, saved messages starting with a
trace header, DelSp=yes flowed text, opaque-signed S/MIME, and the two guards that a real
file mislabelled text/plain keeps its own reading (and its hold when damaged)."""

from __future__ import annotations

import base64
import io
import quopri
import shutil
import subprocess
import tempfile
import zipfile

import docgen
import pytest
from mimegen import US, b64, binhex, decision, inspect, message, signed_data

MIXED = "multipart/mixed; boundary=B"


def attach(data: bytes, content_type: str = "application/octet-stream", name: str = "a.bin",
           cte: str = "base64") -> bytes:
    """A multipart/mixed message: a short text body and one attachment."""
    body = data if cte != "base64" else b64(data)
    return message(MIXED, b"--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--B\r\n"
                   + f"Content-Type: {content_type}; name={name}\r\nContent-Disposition: attachment; "
                     f"filename={name}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n".encode()
                   + body + b"\r\n--B--\r\n")


def found(raw: bytes) -> set[str]:
    """Levels of the findings the real pipeline makes on `raw`."""
    return {f.level.label for f in inspect(raw).findings if f.level is not None}


def held_uninspectable(raw: bytes) -> bool:
    return decision(inspect(raw))[1] == "uninspectable"


def plain(body: bytes) -> bytes:
    return message("text/plain; charset=utf-8", body)


# ----------------------------------------------------------------- B1 declared text/plain

def test_binhex_after_text_in_a_plain_body_is_read_with_the_text() -> None:
    raw = plain(b"Dear colleague\n" + US.encode() + b"\n" + binhex("a.txt", b"hello"))
    assert "secret" in found(raw)


def test_binhex_file_inside_a_plain_body_is_decoded_and_read() -> None:
    raw = plain(b"Dear colleague\n" + binhex("a.txt", b"x\n" + US.encode() + b"\n"))
    assert "secret" in found(raw)


def test_hqx_attachment_is_decoded_and_read() -> None:
    raw = attach(binhex("a.txt", b"x\n" + US.encode() + b"\n"), "application/mac-binhex40", "a.hqx", "7bit")
    assert "secret" in found(raw)


@pytest.mark.parametrize("opening", [b"%!PS-Adobe-3.0", b"{\\rtf1 hello}", b"fLaC test", b"%!"])
def test_plain_body_with_a_file_signature_opening_is_read_as_text(opening: bytes) -> None:
    raw = plain(opening + b"\n" + US.encode() + b"\nregards\n")
    assert "secret" in found(raw)


@pytest.mark.parametrize("opening", [b"Please see %PDF-1.4 spec", b'<?xml version="1.0"?>',
                                     b"GIF89a is the format we need", b"BZh9 was the block size"])
def test_plain_body_opening_like_a_file_is_not_held_and_is_read(opening: bytes) -> None:
    raw = plain(opening + b"\n" + US.encode() + b"\nregards\n")
    report = inspect(raw)
    assert "secret" in {f.level.label for f in report.findings if f.level is not None}
    assert not report.inspection.problems


def test_text_attachment_with_nul_bytes_is_read_as_text() -> None:
    part = (b"abc\x00\x00\x00\r\n" + US.encode() + b"\r\n\x00\x00def")
    raw = attach(part, "text/plain", "a.txt", "binary")
    assert "secret" in found(raw)


# ----------------------------------------------------------------- B2, B5, B21 archives

def test_damaged_tar_that_libmagic_calls_ustar_is_read() -> None:
    tar = docgen.make_tar_with_damaged_header({"a.txt": b"ok", "b.txt": (US + "\n").encode()}, "a.txt")
    assert "secret" in found(attach(tar, name="a.tar"))


def _libarchive(fmt: str, flt: str | None = None, data: bytes = (US + "\n").encode()) -> bytes:
    import libarchive

    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/a"
        with libarchive.file_writer(path, fmt, flt) as writer:
            writer.add_file_from_memory("s.txt", len(data), data)
        with open(path, "rb") as f:
            return f.read()


@pytest.mark.parametrize(("fmt", "flt"), [("iso9660", None), ("cpio", None), ("ar_bsd", None), ("ustar", "zstd"),
                                          ("ustar", "compress"), ("ustar", "lz4"), ("ustar", "lzip"),
                                          ("xar", None), ("warc", None)])
def test_archive_formats_libarchive_reads_are_read(fmt: str, flt: str | None) -> None:
    raw = attach(_libarchive(fmt, flt), name="bundle.bin")
    assert "secret" in found(raw)
    assert not held_uninspectable(raw)


def test_lone_zstd_compressed_text_file_is_decompressed_and_read() -> None:
    raw = attach(_libarchive("raw", "zstd", b"notes\n" + US.encode() + b"\n"), name="notes.txt.zst")
    segments = inspect(raw).inspection.segments
    assert [(s.location, s.kind) for s in segments if US in s.text] == [("notes.txt.zst › notes.txt", "body")]


# ----------------------------------------------------------------- B33 unrecognised encryption

def _gpg(*args: str, data: bytes) -> bytes:
    with tempfile.TemporaryDirectory() as home:
        return subprocess.run(["gpg", "--homedir", home, "--batch", "--pinentry-mode", "loopback",
                               "--passphrase", "pw", "-c", *args, "-o", "-"], input=data,
                              capture_output=True, check=True).stdout


needs_gpg = pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg not installed")


@needs_gpg
def test_inline_pgp_block_after_text_is_encrypted() -> None:
    raw = plain(b"Hi,\n\nsee below\n\n" + _gpg("-a", data=US.encode()))
    assert held_uninspectable(raw)
    assert any(p.kind == "encrypted" for p in inspect(raw).inspection.problems)


@needs_gpg
def test_binary_openpgp_attachment_is_encrypted() -> None:
    raw = attach(_gpg(data=US.encode()), name="notes.gpg")
    assert [p.kind for p in inspect(raw).inspection.problems] == ["encrypted"]


def test_openssl_enc_file_is_encrypted() -> None:
    raw = attach(b"Salted__" + bytes(range(8)) + bytes(range(40, 200)), name="notes.enc")
    assert [p.kind for p in inspect(raw).inspection.problems] == ["encrypted"]


def test_age_file_is_encrypted() -> None:
    age = b"age-encryption.org/v1\n-> X25519 abc\nxyz\n--- def\n" + bytes(range(256))
    raw = attach(age, name="notes.age")
    assert [p.kind for p in inspect(raw).inspection.problems] == ["encrypted"]


# ----------------------------------------------------------------- B29 data before a ZIP

def test_zip_after_leading_data_in_an_unknown_binary_is_read() -> None:
    data = b"README: unpack with unzip\n" * 20 + docgen.make_zip({"s.txt": US.encode()})
    assert "secret" in found(attach(data, name="bundle.dat"))


# ----------------------------------------------------------------- B34, B6 saved messages

SAVED = (b"From: a@mission.example\r\nTo: b@mofa.example\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n"
         b"Content-Type: multipart/mixed; boundary=S\r\n\r\n--S\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
         b"--S\r\nContent-Type: application/octet-stream; name=r.docx\r\nContent-Transfer-Encoding: base64\r\n\r\n"
         + b64(docgen.make_docx(["notes", US])) + b"\r\n--S--\r\n")


def test_saved_message_starting_with_an_mbox_from_line_is_read_as_a_message() -> None:
    data = b"From a@mission.example Mon Jan  5 08:00:00 2026\r\n" + SAVED
    assert "secret" in found(attach(data, name="saved.eml"))


def test_every_message_of_an_mbox_file_is_read() -> None:
    first = b"From a@mission.example Mon Jan  5 08:00:00 2026\nFrom: a@x\nSubject: hi\n\nhello\n\n"
    data = first + b"From b@mission.example Mon Jan  5 09:00:00 2026\n" + SAVED.replace(b"\r\n", b"\n")
    assert "secret" in found(attach(data, name="export.mbox"))


@pytest.mark.parametrize("first", [b"Received: from a by b; Mon, 5 Jan 2026 08:00:00 +0000\r\n",
                                   b"Return-Path: <a@mission.example>\r\n", b"X-Mozilla-Status: 0001\r\n",
                                   b"DKIM-Signature: v=1; a=rsa-sha256; d=mission.example\r\n"])
def test_saved_message_starting_with_a_trace_header_is_read_as_a_message(first: bytes) -> None:
    assert "secret" in found(attach(first + SAVED, name="saved.eml"))


MHTML = (b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=M; type=\"text/html\"\r\n\r\n"
         b"--M\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"
         b"Content-Location: file:///page.htm\r\n\r\n<html><body><p>intro</p><p>" + US.encode()
         + b"</p></body></html>\r\n--M--\r\n")


def test_mhtml_page_is_read_as_a_web_page_archive() -> None:
    assert "secret" in found(attach(MHTML, name="page.mht"))


# ----------------------------------------------------------------- B35, B22 transfer encodings

def test_base64_of_separately_padded_chunks_is_decoded_chunk_by_chunk() -> None:
    body = base64.b64encode(b"Dear\n") + b"\r\n" + base64.b64encode(US.encode() + b"\n") + b"\r\n"
    raw = message("text/plain; charset=utf-8", body, b"Content-Transfer-Encoding: base64\r\n")
    assert "secret" in found(raw)


def test_multipart_whose_body_is_base64_is_parsed_after_decoding() -> None:
    inner = (b"--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B\r\nContent-Type: application/zip; name=a.zip\r\n"
             b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(docgen.make_zip({"s.txt": US.encode()}))
             + b"\r\n--B--\r\n")
    raw = message(MIXED, b64(inner), b"Content-Transfer-Encoding: base64\r\n")
    assert "secret" in found(raw)


# ----------------------------------------------------------------- B18 format=flowed

@pytest.mark.parametrize(("params", "body"), [("format=flowed", b"SECRET// \r\nNOFORN\r\n"),
                                              ("format=flowed; delsp=yes", b"SECRET//NO \r\nFORN\r\n")])
def test_format_flowed_lines_are_unflowed(params: str, body: bytes) -> None:
    assert "secret" in found(message(f"text/plain; charset=utf-8; {params}", b"Dear colleague,\r\n" + body))


# ----------------------------------------------------------------- B8, B19 ZIP

def test_zip_archive_comment_is_read() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("a.txt", "hello")
        zf.comment = b"x\n" + US.encode()
    assert "secret" in found(attach(buffer.getvalue(), name="a.zip"))


def test_zip_member_comment_is_read() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        info = zipfile.ZipInfo("a.txt")
        info.comment = US.encode()
        zf.writestr(info, "hello")
    assert "secret" in found(attach(buffer.getvalue(), name="a.zip"))


def _bad_crc_zip(members: dict[str, bytes]) -> bytes:
    data = bytearray(docgen.make_zip(members, compression=zipfile.ZIP_STORED))
    for sig, offset in ((b"PK\x03\x04", 14), (b"PK\x01\x02", 16)):
        at = data.find(sig)
        data[at + offset:at + offset + 4] = b"\x01\x02\x03\x04"
    return bytes(data)


def test_zip_member_with_a_bad_crc_is_read_with_a_note() -> None:
    raw = attach(_bad_crc_zip({"s.txt": US.encode()}), name="a.zip")
    report = inspect(raw)
    assert "secret" in {f.level.label for f in report.findings if f.level is not None}
    assert not report.inspection.problems
    assert any("CRC" in n.detail for n in report.inspection.notes)


# ----------------------------------------------------------------- B26 line separators

@pytest.mark.parametrize("sep", ["\u2028", "\u0085", "\v", "\f", "\u2029"])
def test_unusual_line_separators_end_lines(sep: str) -> None:
    body = f"Dear colleague,{sep}{US}{sep}thanks".encode()
    assert "secret" in found(message("text/plain; charset=utf-8", body))


# ----------------------------------------------------------------- B7 iCalendar

def _ics(*lines: str) -> bytes:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nSUMMARY:meeting\r\n"
            + "".join(f"{line}\r\n" for line in lines) + "END:VEVENT\r\nEND:VCALENDAR\r\n").encode()


def test_icalendar_escaped_newlines_are_unescaped() -> None:
    raw = attach(_ics(f"DESCRIPTION:agenda\\n{US}\\nend"), "text/calendar", "invite.ics")
    assert "secret" in found(raw)


def test_icalendar_inline_base64_attachment_is_decoded_and_read() -> None:
    payload = base64.b64encode(b"notes\n" + US.encode() + b"\n").decode()
    line = f"ATTACH;ENCODING=BASE64;VALUE=BINARY;FMTTYPE=text/plain;X-FILENAME=a.txt:{payload}"
    raw = attach(_ics(line), "text/calendar", "invite.ics")
    assert "secret" in found(raw)


def test_vcard_note_value_is_read_apart_from_its_property_name() -> None:
    card = f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A. Attache\r\nNOTE:{US}\r\nEND:VCARD\r\n".encode()
    assert "secret" in found(attach(card, "text/vcard", "a.vcf", "7bit"))


def test_damaged_binary_file_declared_text_plain_is_still_held() -> None:
    damaged = b"BZh91AY&SY" + bytes(range(256)) * 8
    raw = attach(damaged, "text/plain", "a.txt")
    assert held_uninspectable(raw)


def test_real_file_declared_text_plain_is_read_by_its_own_reader_only() -> None:
    raw = attach(docgen.make_docx(["notes", US]), "text/plain", "r.txt")
    report = inspect(raw)
    assert "secret" in {f.level.label for f in report.findings if f.level is not None}
    assert not any("also read as plain text" in n.detail for n in report.inspection.notes)


def test_postscript_attachment_string_literals_are_read_as_lines() -> None:
    ps = (b"%!PS-Adobe-3.0\n%%Title: memo\n/Helvetica findfont 12 scalefont setfont\n"
          b"72 720 moveto (Dear colleague,) show\n72 700 moveto (" + US.encode() + b") show\nshowpage\n")
    assert "secret" in found(attach(ps, "application/postscript", "memo.ps"))


def test_postscript_escaped_and_nested_string_literals_are_unescaped() -> None:
    ps = b"%!PS\n(memo \\(draft\\)) show\n(\\123ECRET//NOFORN) show\n(a (b) c) show\n"
    assert "secret" in found(attach(ps, "application/postscript", "memo.ps"))


def test_csv_attachment_opening_like_a_pdf_is_read_as_text_not_held() -> None:
    raw = attach(b"%PDF-1.4,size\n" + US.encode() + b"\nx,y\n", "text/csv", "list.csv")
    assert "secret" in found(raw)
    assert not held_uninspectable(raw)


# ----------------------------------------------------------------- A3 opaque-signed S/MIME (regression)

def test_opaque_signed_smime_is_unpacked_and_read_not_held() -> None:
    inner = b"Content-Type: text/plain; charset=utf-8\r\n\r\nnotes\r\n" + US.encode() + b"\r\n"
    raw = message("application/pkcs7-mime; smime-type=signed-data; name=smime.p7m", b64(signed_data(inner)),
                  b"Content-Transfer-Encoding: base64\r\n")
    assert "secret" in found(raw)
    assert not held_uninspectable(raw)


def test_outlook_saved_internet_headers_file_is_read_as_a_message() -> None:
    data = b"Microsoft Mail Internet Headers Version 2.0\r\n" + SAVED
    assert "secret" in found(attach(data, name="headers.txt"))


def test_multipart_whose_body_is_quoted_printable_is_parsed_after_decoding() -> None:
    inner = (b"--B\r\nContent-Type: application/zip; name=a.zip\r\nContent-Transfer-Encoding: base64\r\n\r\n"
             + b64(docgen.make_zip({"s.txt": US.encode()})) + b"\r\n--B--\r\n")
    encoded = quopri.encodestring(inner).replace(b"--B", b"=2D-B")  # the delimiters only appear once decoded
    raw = message(MIXED, encoded, b"Content-Transfer-Encoding: quoted-printable\r\n")
    assert "secret" in found(raw)


def test_symmetric_openpgp_packet_without_armour_is_encrypted() -> None:
    # SKESK v4 (old format, tag 3): AES-256, iterated and salted S2K with SHA-256; then SEIPD.
    skesk = b"\x8c\x0d\x04\x09\x03\x08" + bytes(range(8)) + b"\x60"
    raw = attach(skesk + b"\xd2\x3f\x01" + bytes(range(100, 163)), name="notes.pgp")
    assert [p.kind for p in inspect(raw).inspection.problems] == ["encrypted"]


@pytest.mark.parametrize("damaged", [b"070701" + bytes(range(256)) * 2, b"!<arch>\n" + bytes(range(256)),
                                     b"LZIP" + bytes(range(200))])
def test_damaged_libarchive_format_is_corrupt_once_not_read_as_itself_again(damaged: bytes) -> None:
    problems = inspect(attach(damaged, name="x.bin")).inspection.problems
    assert [(p.kind, p.location) for p in problems] == [("corrupt", "x.bin")]


def test_plain_body_that_looks_like_a_message_keeps_its_unknown_header_lines() -> None:
    # A client shows a text/plain body as it is: the folded "Note" line is a line of its own.
    body = b"From: a@mission.example\nSubject: notes\nNote: memo\n " + US.encode() + b"\n\nregards\n"
    assert "secret" in found(plain(body))


def test_text_file_that_looks_like_a_message_keeps_its_unknown_header_lines() -> None:
    data = b"From: a@mission.example\nSubject: notes\nNote: memo\n " + US.encode() + b"\n\nregards\n"
    assert "secret" in found(attach(data, name="notes.txt"))


def test_zstd_bomb_is_stopped_by_the_ratio_while_streaming() -> None:
    raw = attach(_libarchive("raw", "zstd", bytes(100_000_000)), name="z.zst")
    problems = inspect(raw).inspection.problems
    assert [(p.kind, p.limit) for p in problems] == [("limit_exceeded", "max_compression_ratio")]


def test_html_body_opening_like_a_pdf_is_read_as_html_not_held() -> None:
    raw = message("text/html; charset=utf-8", b"%PDF-1.4 is the version<br>\n<p>" + US.encode() + b"</p>\n")
    assert "secret" in found(raw)
    assert not held_uninspectable(raw)


def test_binary_that_only_starts_like_an_openpgp_packet_is_not_held_as_encrypted() -> None:
    lookalike = b"\x84\x0c\x03" + bytes(8) + b"\x01\x00\x00" + bytes(range(64))  # no packet follows
    assert not inspect(attach(lookalike, name="data.bin")).inspection.problems
