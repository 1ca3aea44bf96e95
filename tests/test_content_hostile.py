"""Hostile and broken inputs end with a recorded problem, within the time limit, with
bounded memory, and without taking the process down."""

from __future__ import annotations

import resource
import time

import docgen
import pytest

from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.model import Inspection, ProblemKind

TIME_LIMIT = 20.0  # seconds: max_seconds given to extract() in these tests
MEMORY_GROWTH = 400 * 1024 * 1024  # bytes of peak RSS growth tolerated per hostile input


def max_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def inspect_attachment(name: str, data: bytes, **limits: object) -> tuple[Inspection, float]:
    raw = docgen.make_message("hostile", "see attachment", [(name, data, "application/octet-stream")])
    settings = ExtractionLimits(**{"max_seconds": TIME_LIMIT, **limits})
    before = max_rss()
    started = time.monotonic()
    inspection = extract(raw, settings)
    elapsed = time.monotonic() - started
    assert max_rss() - before < MEMORY_GROWTH
    assert elapsed < TIME_LIMIT
    return inspection, elapsed


def kinds(inspection: Inspection) -> set[tuple[ProblemKind, str | None]]:
    return {(p.kind, p.limit) for p in inspection.problems}


def test_42_zip_style_bomb_stops_at_the_compression_ratio() -> None:
    bomb = docgen.make_zip_bomb(levels=3, copies=4, kernel_bytes=16 * 1024 * 1024)
    assert len(bomb) < 100_000
    ins, _ = inspect_attachment("42.zip", bomb)
    assert (ProblemKind.LIMIT_EXCEEDED, "max_compression_ratio") in kinds(ins)
    assert sum(p.size for p in ins.parts) < 10 * 1024 * 1024


def test_overlapping_entry_bomb_is_refused_whole() -> None:
    ins, _ = inspect_attachment("overlap.zip", docgen.make_overlapping_zip_bomb(entries=1000))
    (problem,) = ins.problems
    assert problem.kind == ProblemKind.LIMIT_EXCEEDED and problem.location == "overlap.zip"
    assert "overlap" in problem.detail
    assert [p.location for p in ins.parts if p.location.startswith("overlap.zip")] == ["overlap.zip"]


def test_member_larger_than_the_byte_limit_is_recorded_not_truncated() -> None:
    data = docgen.make_zip({"big.txt": b"a" * 300_000}, compression=0)
    ins, _ = inspect_attachment("a.zip", data, max_member_bytes=100_000)
    assert (ProblemKind.LIMIT_EXCEEDED, "max_member_bytes") in kinds(ins)
    assert not [p for p in ins.parts if p.location == "a.zip › big.txt"]


def test_forty_levels_of_nesting_stop_at_max_depth() -> None:
    nested = docgen.make_nested_zip("deep.txt", "最深處 bottom".encode(), levels=40)
    ins, _ = inspect_attachment("nest.zip", nested)
    assert (ProblemKind.LIMIT_EXCEEDED, "max_depth") in kinds(ins)
    assert max(p.depth for p in ins.parts) == ExtractionLimits().max_depth
    assert not any("最深處" in s.text for s in ins.segments)


def test_member_count_limit() -> None:
    archive = docgen.make_zip({f"{i}.txt": b"x" for i in range(30)})
    ins, _ = inspect_attachment("many.zip", archive, max_members=10)
    assert (ProblemKind.LIMIT_EXCEEDED, "max_members") in kinds(ins)
    assert len(ins.parts) == 10


def test_truncated_pdf_is_recorded_corrupt() -> None:
    pdf = docgen.make_pdf(["第一頁 first page", "second page"] * 3)
    ins, _ = inspect_attachment("cut.pdf", pdf[: len(pdf) // 2])
    assert any(p.kind == ProblemKind.CORRUPT and p.location.startswith("cut.pdf") for p in ins.problems)


def test_pdf_claiming_a_million_objects_is_recorded() -> None:
    ins, elapsed = inspect_attachment("million.pdf", docgen.make_pdf_claiming_objects(1_000_000))
    assert any(p.kind in (ProblemKind.CORRUPT, ProblemKind.LIMIT_EXCEEDED) and p.location.startswith("million.pdf")
               for p in ins.problems)
    assert elapsed < 5


def test_pdf_over_the_page_limit_reads_the_first_pages_and_records_the_rest() -> None:
    ins, _ = inspect_attachment("long.pdf", docgen.make_pdf([f"page text {i}" for i in range(6)]), max_pages=4)
    assert (ProblemKind.LIMIT_EXCEEDED, "max_pages") in kinds(ins)
    assert {s.location for s in ins.segments if s.kind == "page"} == {f"long.pdf › page {i}" for i in range(1, 5)}


def test_30000_by_30000_image_is_never_decoded() -> None:
    header_only = docgen.make_png_header(30000, 30000)
    assert len(header_only) < 200
    ins, elapsed = inspect_attachment("huge.png", header_only)
    (problem,) = ins.problems
    assert (problem.kind, problem.limit, problem.location) == (ProblemKind.LIMIT_EXCEEDED, "max_image_pixels", "huge.png")
    assert elapsed < 2


def test_xml_billion_laughs_is_not_expanded_and_is_recorded() -> None:
    # internal entities are expanded up to a bound (issue #12); a bomb stops at it
    ins, elapsed = inspect_attachment("lol.xml", docgen.make_billion_laughs())
    assert (ProblemKind.LIMIT_EXCEEDED, "max_xml_entity_expansion") in kinds(ins)
    assert sum(len(s.text) for s in ins.segments) < 10_000
    assert elapsed < 2


def test_xml_external_entity_is_not_fetched_and_is_recorded() -> None:
    xxe = b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<r>&x; tail</r>'
    ins, _ = inspect_attachment("xxe.xml", xxe)
    assert (ProblemKind.LIMIT_EXCEEDED, "xml_entities") in kinds(ins)
    assert not any("root:" in s.text for s in ins.segments)


def test_file_that_libmagic_calls_something_else_is_read_as_what_it_is() -> None:
    docx = docgen.make_docx(["偽裝成文字檔的文件 disguised"])
    ins, _ = inspect_attachment("readme.txt", docx)
    part = next(p for p in ins.parts if p.location == "readme.txt")
    assert part.true_type.endswith("wordprocessingml.document") and part.type_mismatch
    assert any("偽裝成文字檔" in s.text and s.location == "readme.txt › body" for s in ins.segments)
    assert any(f.name == "file.type_mismatch" and f.location == "readme.txt" for f in ins.facts)


def test_garbage_declared_as_pdf_is_recorded() -> None:
    ins, _ = inspect_attachment("fake.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 20)
    assert any(p.location == "fake.pdf" and p.kind == ProblemKind.CORRUPT for p in ins.problems)


@pytest.mark.parametrize("name,data", [
    ("bad.zip", b"PK\x03\x04" + b"\x00" * 100),
    ("bad.docx", docgen.make_docx(["x"])[:600]),
    ("bad.gz", b"\x1f\x8b\x08\x00" + b"\xff" * 50),
    ("bad.7z", b"7z\xbc\xaf\x27\x1c" + b"\x00" * 50),
    ("bad.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40),
])
def test_damaged_containers_are_recorded(name: str, data: bytes) -> None:
    ins, _ = inspect_attachment(name, data)
    assert any(p.location.startswith(name) for p in ins.problems)


def test_per_message_deadline_records_a_timeout() -> None:
    pdf = docgen.make_pdf([f"page {i}" for i in range(40)])
    raw = docgen.make_message("s", "b", [(f"{i}.pdf", pdf, "application/pdf") for i in range(40)])
    started = time.monotonic()
    ins = extract(raw, ExtractionLimits(max_seconds=0.05))
    assert time.monotonic() - started < 3
    timeouts = [p for p in ins.problems if p.kind == ProblemKind.TIMEOUT]
    assert len(timeouts) == 1 and timeouts[0].limit == "max_seconds"


def test_text_limit_is_recorded_not_silent() -> None:
    ins, _ = inspect_attachment("long.txt", ("機密 " * 5000).encode(), max_text_chars=1000)
    assert (ProblemKind.LIMIT_EXCEEDED, "max_text_chars") in kinds(ins)
    assert sum(len(s.text) for s in ins.segments) <= 1000


def test_ocr_budget_exhausted_is_recorded_without_running_ocr() -> None:
    images = [("a.gif", docgen.make_gif(["GIF text"])), ("b.bmp", docgen.make_bmp(["BMP text"])),
              ("c.pdf", docgen.make_scanned_pdf(["scanned"]))]
    raw = docgen.make_message("s", "b", [(n, d, "application/octet-stream") for n, d in images])
    started = time.monotonic()
    ins = extract(raw, ExtractionLimits(max_ocr_pages=0))
    assert time.monotonic() - started < 2
    refused = {(p.location, p.limit) for p in ins.problems if p.kind == ProblemKind.LIMIT_EXCEEDED}
    assert refused == {("a.gif", "max_ocr_pages"), ("b.bmp", "max_ocr_pages"), ("c.pdf › page 1", "max_ocr_pages")}
    assert {p.true_type for p in ins.parts if p.filename in ("a.gif", "b.bmp")} == {"image/gif", "image/bmp"}


def test_scan_with_a_small_text_stamp_is_still_sent_to_ocr() -> None:
    import pymupdf

    doc = pymupdf.open(stream=docgen.make_scanned_pdf(["scanned body"], header="機密", footer="footer"))
    doc[0].insert_text((400, 830), "Page 1 of 1 / Scanned by MFP-3000", fontsize=8)
    stamped = doc.tobytes()
    ins, _ = inspect_attachment("stamped.pdf", stamped, max_ocr_pages=0)
    assert (ProblemKind.LIMIT_EXCEEDED, "max_ocr_pages") in kinds(ins)
    assert any("MFP-3000" in s.text for s in ins.segments if s.location == "stamped.pdf › page 1 › footer")


def test_smime_encrypted_attachment_is_recorded_encrypted() -> None:
    raw = docgen.make_message("s", "b", [("smime.p7m", b"\x30\x82\x01\x00" + b"\x01" * 200, "application/pkcs7-mime")])
    ins = extract(raw, ExtractionLimits())
    assert [(p.kind, p.location) for p in ins.problems] == [(ProblemKind.ENCRYPTED, "smime.p7m")]


def test_inline_pgp_message_is_recorded_encrypted() -> None:
    armored = b"-----BEGIN PGP MESSAGE-----\n\nhQEMA1234567890abcdef\n-----END PGP MESSAGE-----\n"
    ins = extract(docgen.make_message("s", "b", [("note.asc", armored, "text/plain")]), ExtractionLimits())
    assert [(p.kind, p.location) for p in ins.problems] == [(ProblemKind.ENCRYPTED, "note.asc")]


def test_message_partial_fragment_is_recorded_unsupported() -> None:
    raw = (b"From: a@b.example\r\nSubject: part 1 of 2\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: message/partial; id="abc@b.example"; number=1; total=2\r\n\r\nFrom: x\r\n\r\nhalf')
    ins = extract(raw, ExtractionLimits())
    assert [p.kind for p in ins.problems] == [ProblemKind.UNSUPPORTED]
    assert "message/partial" in ins.problems[0].detail


def test_deeply_nested_multiparts_are_bounded() -> None:
    depth = 200
    head = b"From: a@b.example\r\nSubject: nest\r\nMIME-Version: 1.0\r\n"
    body = b"leaf text"
    for level in range(depth):
        boundary = b"b%d" % level
        body = (b"Content-Type: multipart/mixed; boundary=" + boundary + b"\r\n\r\n--" + boundary
                + b"\r\n" + body + b"\r\n--" + boundary + b"--\r\n")
    started = time.monotonic()
    ins = extract(head + body, ExtractionLimits())
    assert time.monotonic() - started < 10
    assert any(p.kind == ProblemKind.LIMIT_EXCEEDED for p in ins.problems)


@pytest.mark.parametrize("name,make", [("zeros.gz", docgen.make_gzip), ("zeros.bz2", docgen.make_bz2),
                                       ("zeros.xz", docgen.make_xz)])
def test_single_stream_bombs_stop_while_decompressing(name: str, make) -> None:
    bomb = make(b"\0" * (20 * 1024 * 1024))
    ins, _ = inspect_attachment(name, bomb)
    assert (ProblemKind.LIMIT_EXCEEDED, "max_compression_ratio") in kinds(ins)
    assert [p.location for p in ins.parts] == ["body", name]


def test_7z_bomb_is_refused_from_its_declared_sizes() -> None:
    bomb = docgen.make_7z({"zeros.bin": b"\0" * (20 * 1024 * 1024)})
    ins, _ = inspect_attachment("zeros.7z", bomb)
    assert (ProblemKind.LIMIT_EXCEEDED, "max_compression_ratio") in kinds(ins)
    assert not [p for p in ins.parts if p.location.startswith("zeros.7z ›")]
