"""Round-3 red-team cases for the walk/filetype/mime/archives readers (issue #12): what a
recipient's client shows is read, and only content that truly cannot be read is held.
Each test builds its message in code and runs the real pipeline and the shipped policy."""

from __future__ import annotations

import shutil
import subprocess
import tempfile

import docgen
import pytest
from mimegen import US, b64, binhex, decision, inspect, message

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
    assert "secret" in found(raw)


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
