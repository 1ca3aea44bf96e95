"""Property: whatever bytes arrive, `extract()` never raises and always returns an
`Inspection` whose records are well formed."""

from __future__ import annotations

import docgen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.model import Inspection, ProblemKind

LIMITS = ExtractionLimits(max_seconds=5, max_ocr_pages=0)

# Real messages with real attachments, made once: the mutation strategy damages them.
SEEDS = [
    docgen.make_message("機密 subject", "正文 body", [
        ("a.pdf", docgen.make_pdf(["頁面"], header="機密"), "application/pdf"),
        ("b.zip", docgen.make_zip({"c.docx": docgen.make_docx(["內文"], header="頁首"),
                                   "d.di": docgen.make_edoc_xml("密", "主旨")}), "application/zip"),
    ]),
    docgen.make_message("big5", "大五碼本文", charset="big5", html="<p>&#27231;&#23494;</p>"),
    docgen.make_message("tar", "x", [("t.tar.gz", docgen.make_targz({"e.txt": b"text"}), "application/gzip"),
                                      ("x.xlsx", docgen.make_xlsx({"s": [["a"]]}), "application/octet-stream")]),
]


def check(inspection: Inspection) -> None:
    assert isinstance(inspection, Inspection)
    for segment in inspection.segments:
        assert isinstance(segment.text, str) and segment.text
        assert isinstance(segment.location, str) and isinstance(segment.kind, str)
    for problem in inspection.problems:
        assert isinstance(problem.kind, ProblemKind)
    for part in inspection.parts:
        assert part.size == len(part.data or b"")


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if action == "flip":
            data[position] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[position: position + draw(st.integers(1, 200))]
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=40))
        else:
            del data[position:]
        if not data:
            data = bytearray(b"x")
    return bytes(data)


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    check(extract(raw, LIMITS))


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_messages_never_raise(raw: bytes) -> None:
    check(extract(raw, LIMITS))


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300), st.text(max_size=300), st.sampled_from(["utf-8", "big5", "gb18030", "iso-8859-1"]))
def test_any_subject_and_body_text_never_raise(subject: str, body: str, charset: str) -> None:
    try:
        raw = docgen.make_message(subject.replace("\n", " ").replace("\r", " "), body, charset=charset)
    except Exception:  # the generator cannot encode every string; the property is about extract()
        raw = docgen.make_message("s", body.encode("utf-8", "replace").decode("utf-8", "replace"))
    check(extract(raw, LIMITS))


# Attachments of every format, damaged at the byte level (not through base64), so the
# damage reaches the format readers themselves.
ATTACHMENTS = [
    ("a.pdf", docgen.make_pdf(["頁面"], header="機密", annotation="n", embedded={"e.txt": b"e"})),
    ("b.docx", docgen.make_docx(["內文"], header="頁首", comment="c", label="L")),
    ("c.xlsx", docgen.make_xlsx({"s": [["a", 1]]})),
    ("d.pptx", docgen.make_pptx(["s"], ["n"])),
    ("e.odt", docgen.make_odt(["t"], header="h", comment="c")),
    ("f.zip", docgen.make_zip({"x.txt": b"x", "y.di": docgen.make_edoc_xml("密", "主旨")})),
    ("g.7z", docgen.make_7z({"x.txt": b"x"})),
    ("h.tar.gz", docgen.make_targz({"x.txt": b"x"})),
    ("i.doc", docgen.make_doc(["word"], header="h")),
    ("j.msg", docgen.make_outlook_msg("s", "b")),
    ("winmail.dat", docgen.make_tnef({"k.txt": b"k"}, subject="s")),
    ("l.rar", docgen.make_rar({"m.txt": b"m"})),
    ("n.rtf", docgen.make_rtf("機密 text")),
    ("o.png", docgen.make_png_header(64, 64)),
]


@st.composite
def damaged_attachment(draw: st.DrawFn) -> tuple[str, bytes]:
    name, original = draw(st.sampled_from(ATTACHMENTS))
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, max(0, len(data) - 1)))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[position: position + draw(st.integers(1, 64))]
        else:
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
    return name, bytes(data) or b"x"


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_attachment())
def test_damaged_attachments_of_every_format_never_raise(attachment: tuple[str, bytes]) -> None:
    name, data = attachment
    raw = docgen.make_message("s", "b", [(name, data, "application/octet-stream")])
    check(extract(raw, LIMITS))
