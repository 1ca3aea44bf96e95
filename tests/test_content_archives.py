"""Archives read as tolerant tools read them (damaged TAR headers, ZIPs without a central
directory, members the directory does not list, ZIPs appended to other files), and
archive bombs stopped while streaming, within a per-message decompression budget."""

from __future__ import annotations

import docgen

from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.model import Inspection, ProblemKind

SECRET = "機密 Operation Lantern"


def with_attachment(name: str, data: bytes, **limits: object) -> Inspection:
    raw = docgen.make_message("weekly report", "see attachment", [(name, data, "application/octet-stream")])
    return extract(raw, ExtractionLimits(**limits))


def where(inspection: Inspection, phrase: str) -> set[str]:
    return {s.location for s in inspection.segments if phrase in s.text}


def problem_kinds(inspection: Inspection) -> set[tuple[ProblemKind, str | None]]:
    return {(p.kind, p.limit) for p in inspection.problems}


# --------------------------------------------------------------------------- TAR

def test_tar_members_after_a_damaged_header_are_read_and_the_damage_noted() -> None:
    tar = docgen.make_tar_with_damaged_header(
        {"a.txt": b"first", "b.txt": b"second " * 10, "c.txt": SECRET.encode()}, damaged="b.txt")
    ins = with_attachment("a.tar", tar)
    assert where(ins, SECRET) == {"a.tar › c.txt"}
    assert any("damaged" in n.detail for n in ins.notes)
    assert not ins.problems


def test_content_of_the_member_with_the_damaged_header_is_still_inspected() -> None:
    tar = docgen.make_tar_with_damaged_header({"a.txt": b"first", "b.txt": SECRET.encode()}, damaged="b.txt")
    ins = with_attachment("a.tar", tar)
    assert where(ins, SECRET) == {"a.tar › damaged member at byte 1024 (b.txt)"}


# --------------------------------------------------------------------------- ZIP repairs

def test_zip_without_central_directory_is_read_from_local_headers() -> None:
    data = docgen.make_zip_without_central_directory({"a.txt": b"hello", "b.txt": SECRET.encode()})
    ins = with_attachment("a.zip", data)
    assert where(ins, SECRET) == {"a.zip › b.txt"}
    assert any("local headers" in n.detail for n in ins.notes)
    assert not ins.problems


def test_streamed_zip_without_central_directory_finds_deflated_members_ends() -> None:
    data = docgen.make_zip_without_central_directory(
        {"a.txt": b"x" * 5000, "b.txt": SECRET.encode() * 3, "c.txt": b"tail " + SECRET.encode()}, streamed=True)
    ins = with_attachment("a.zip", data)
    assert where(ins, SECRET) == {"a.zip › b.txt", "a.zip › c.txt"}
    assert not ins.problems


def test_zip_member_missing_from_the_central_directory_is_read() -> None:
    data = docgen.make_zip_with_unlisted_member({"cover.txt": b"nothing here"}, {"hidden.txt": SECRET.encode()})
    ins = with_attachment("a.zip", data)
    assert where(ins, SECRET) == {"a.zip › hidden.txt"}
    assert any("not listed in the central directory" in n.detail for n in ins.notes)


def test_zip_appended_to_a_jpeg_is_found_and_read() -> None:
    jpeg = docgen.make_jpeg(["holiday"], dpi=72, fontsize=10)
    ins = with_attachment("photo.jpg", docgen.make_polyglot(jpeg, {"plan.txt": SECRET.encode()}))
    assert where(ins, SECRET) == {"photo.jpg › appended.zip › plan.txt"}
    assert any("appended" in n.detail for n in ins.notes)
    plain = with_attachment("photo.jpg", jpeg)
    assert not [p for p in plain.parts if "appended" in p.location] and not plain.notes


def test_zip_appended_to_a_pdf_is_found_and_read() -> None:
    pdf = docgen.make_pdf(["an ordinary memo"])
    ins = with_attachment("memo.pdf", docgen.make_polyglot(pdf, {"plan.txt": SECRET.encode()}))
    assert where(ins, SECRET) == {"memo.pdf › appended.zip › plan.txt"}


def test_pdf_with_a_large_zip_appended_is_not_mistaken_for_a_truncated_pdf() -> None:
    import os

    # MuPDF rebuilds the xref (startxref is far from the end); the PDF itself is whole.
    pdf = docgen.make_polyglot(docgen.make_pdf(["an ordinary memo"]), {"data.bin": os.urandom(2_000_000)})
    ins = with_attachment("memo.pdf", pdf)
    assert where(ins, "an ordinary memo") == {"memo.pdf › page 1"}
    assert not [p for p in ins.problems if p.location == "memo.pdf"]


# --------------------------------------------------------------------------- bombs and budgets

def test_member_of_exactly_the_ratio_threshold_is_judged() -> None:
    size = 256 * 1024
    ins = with_attachment("a.zip", docgen.make_zip({"a.txt": b"A" * size}), compression_ratio_min_bytes=size)
    assert (ProblemKind.LIMIT_EXCEEDED, "max_compression_ratio") in problem_kinds(ins)


def test_bomb_member_without_declared_sizes_is_abandoned_while_streaming() -> None:
    # Read from local headers with sizes only in data descriptors: nothing to pre-check.
    data = docgen.make_zip_without_central_directory({"a.txt": b"A" * (8 * 1024 * 1024)}, streamed=True)
    ins = with_attachment("a.zip", data)
    assert (ProblemKind.LIMIT_EXCEEDED, "max_compression_ratio") in problem_kinds(ins)
    assert not [p for p in ins.parts if p.location == "a.zip › a.txt"]


def test_archive_of_many_small_high_ratio_members_is_stopped_as_a_whole() -> None:
    members = {f"m{i:03}.txt": b"B" * (100 * 1024) for i in range(60)}  # each under the threshold
    ins = with_attachment("a.zip", docgen.make_zip(members))
    assert (ProblemKind.LIMIT_EXCEEDED, "max_compression_ratio") in problem_kinds(ins)
    # Stopped once the members together reach 100 times the archive's size.
    assert len([p for p in ins.parts if p.location.startswith("a.zip › ")]) < 30


def test_decompressed_bytes_per_message_are_capped() -> None:
    import os

    members = {f"m{i:02}.bin": os.urandom(64 * 1024) for i in range(40)}  # incompressible: ratio 1
    ins = with_attachment("a.zip", docgen.make_zip(members), max_decompressed_bytes=1024 * 1024)
    assert (ProblemKind.LIMIT_EXCEEDED, "max_decompressed_bytes") in problem_kinds(ins)
    read = [p for p in ins.parts if p.location.startswith("a.zip › ")]
    assert 10 <= len(read) <= 16


_MEASURE = """
import sys, time
sys.path.insert(0, "tests")
import docgen
from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits

def peak_mib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmHWM"))

raw = docgen.make_message("bomb", "see attachment",
                          [("b.zip", docgen.make_uniform_zip(480, 1024 * 1024), "application/zip")])
extract(docgen.make_message("warm", "up", [("w.zip", docgen.make_zip({"a.txt": b"a"}), "application/zip")]),
        ExtractionLimits())
before, started = peak_mib(), time.monotonic()
ins = extract(raw, ExtractionLimits())
print(time.monotonic() - started, peak_mib() - before, sorted({str(p.limit) for p in ins.problems}))
"""


def test_zip_of_480_members_of_one_mib_is_answered_fast_with_bounded_memory() -> None:
    """Issue #13: 480 members of exactly 1 MiB each took 12 s and +441 MiB (each member sat
    exactly at the old ratio threshold). Measured in a fresh process so the peak is its own."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    out = subprocess.run([sys.executable, "-c", _MEASURE], capture_output=True, text=True, env=env,
                         timeout=120, check=True, cwd=os.getcwd()).stdout.split(maxsplit=2)
    seconds, growth_mib, limits = float(out[0]), int(out[1]), out[2]
    assert seconds < 3.0
    # Was +441..501 MiB. The archive itself now costs ~10 MiB; the rest of the bound is the
    # MIME layer's base64 decoding of the 1 MB attachment (mime.py/encoded_blocks.py).
    assert growth_mib < 128
    assert "max_compression_ratio" in limits


# --------------------------------------------------------------------------- libarchive formats

def test_iso9660_image_members_are_read_with_their_joliet_names() -> None:
    iso = docgen.make_iso({"docs/機密報告.txt": SECRET.encode(), "readme.txt": b"disc"})
    ins = with_attachment("disc.iso", iso)
    assert where(ins, SECRET) == {"disc.iso › docs/機密報告.txt"}
    assert not ins.problems


def test_mszip_compressed_cab_members_are_read() -> None:
    cab = docgen.make_cab({"報告.txt": (SECRET + "\n").encode() * 3000, "b.txt": b"hello"})
    ins = with_attachment("setup.cab", cab)
    assert where(ins, SECRET) == {"setup.cab › 報告.txt"}
    assert not ins.problems


def test_cab_bomb_is_stopped_by_the_ratio_while_streaming() -> None:
    cab = docgen.make_cab({"a.txt": b"A" * (2 * 1024 * 1024)})
    ins = with_attachment("setup.cab", cab)
    assert (ProblemKind.LIMIT_EXCEEDED, "max_compression_ratio") in problem_kinds(ins)
    assert not [p for p in ins.parts if p.location == "setup.cab › a.txt"]


def test_7z_members_are_planned_against_the_decompression_budget() -> None:
    import os

    members = {f"m{i}.bin": os.urandom(300 * 1024) for i in range(6)}
    ins = with_attachment("a.7z", docgen.make_7z(members), max_decompressed_bytes=1024 * 1024)
    assert (ProblemKind.LIMIT_EXCEEDED, "max_decompressed_bytes") in problem_kinds(ins)
    assert len([p for p in ins.parts if p.location.startswith("a.7z › ")]) == 3


def test_zip_appended_to_an_unreadable_binary_is_found_and_read() -> None:
    import os

    carrier = b"MZ" + os.urandom(4096)  # an executable stub: a self-extracting archive
    ins = with_attachment("setup.exe", docgen.make_polyglot(carrier, {"plan.txt": SECRET.encode()}))
    assert where(ins, SECRET) == {"setup.exe › appended.zip › plan.txt"}
