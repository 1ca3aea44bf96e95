"""Red team: a registered document still matches when its text is disguised in transit.

The register holds the ministry cable (Chinese, character k-grams) and the delegation memo
(English, word k-grams), added through the real `fingerprint add` command. Each test sends
one disguise of the text an ordinary reader still reads as the document: zero-width or soft
hyphen characters between every character, a legacy charset, one character per HTML span
or CSV cell, upper case, no-break spaces, reordered paragraphs.
"""

from __future__ import annotations

import contextlib
import io

import docgen
import fingerprint_corpus as corpus
import pytest
from mimegen import message

from dlp_gateway.cli import main
from dlp_gateway.config import load_settings
from dlp_gateway.pipeline import WorkerContext, inspect_message


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> WorkerContext:
    """A worker context whose register holds the cable PDF and the memo text."""
    root = tmp_path_factory.mktemp("register")
    cable, memo = root / "cable.pdf", root / "memo.txt"
    cable.write_bytes(corpus.cable_pdf())
    memo.write_text(corpus.MEMO, encoding="utf-8")
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["fingerprint", "add", "--data-dir", str(root / "data"), "--label", "cable", "--level", "secret", str(cable)]) == 0
        assert main(["fingerprint", "add", "--data-dir", str(root / "data"), "--label", "memo", str(memo)]) == 0
    return WorkerContext.from_settings(load_settings(None, {"data_dir": str(root / "data")}))


def text(body: str, charset: str = "utf-8") -> bytes:
    return message(f"text/plain; charset={charset}", body.encode(charset))


def attached(data: bytes, content_type: str, name: str) -> bytes:
    import base64

    return message("multipart/mixed; boundary=B",
                   b"--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--B\r\n"
                   + f"Content-Type: {content_type}\r\nContent-Disposition: attachment; filename={name}\r\n"
                     "Content-Transfer-Encoding: base64\r\n\r\n".encode()
                   + base64.encodebytes(data) + b"\r\n--B--\r\n")


CABLE, MEMO = corpus.CABLE, corpus.MEMO


def shuffled_lines_pdf(text: str) -> bytes:
    """The text as 35-character lines, each drawn at its place on the page but in a shuffled
    order (the page looks the same; the content stream order is not the reading order)."""
    import random

    import pymupdf

    flat = text.replace("\n", "")
    lines = list(enumerate(flat[i:i + 35] for i in range(0, min(len(flat), 35 * 40), 35)))
    random.Random(3).shuffle(lines)
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    for number, line in lines:
        page.insert_text((40, 60 + 18 * number), line, fontname="china-t", fontsize=12)
    return doc.tobytes()


def vertical_pdf(text: str) -> bytes:
    """The text set vertically (直書): 45-character columns from right to left, one
    character per text object, as vertical official documents are laid out."""
    import pymupdf

    flat = text.replace("\n", "")
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    for column, start in enumerate(range(0, min(len(flat), 45 * 12), 45)):
        for row, char in enumerate(flat[start:start + 45]):
            page.insert_text((540 - 18 * column, 140 + 14 * row), char, fontname="china-t", fontsize=12)
    return doc.tobytes()
DISGUISES = {
    "cable with a zero-width space between every character": (lambda: text("\u200b".join(CABLE)), "cable"),
    "cable with a soft hyphen between every character": (lambda: text("\u00ad".join(CABLE)), "cable"),
    "cable with a space between every character": (lambda: text(" ".join(CABLE)), "cable"),
    "cable in Big5": (lambda: text(CABLE, "big5"), "cable"),
    "cable as a UTF-16LE text attachment without BOM": (
        lambda: attached(CABLE.encode("utf-16-le"), "text/plain", "c.txt"), "cable"),
    "cable with one character per HTML span": (
        lambda: message("text/html; charset=utf-8",
                        ("<html><body>" + "".join(f"<span>{c}</span>" for c in CABLE) + "</body></html>").encode()),
        "cable"),
    "cable with one character per CSV cell": (
        lambda: attached("\n".join(",".join(p) for p in CABLE.split("\n")).encode(), "text/csv", "c.csv"), "cable"),
    "cable paragraphs as XLSX cells": (
        lambda: attached(docgen.make_xlsx({"S": [[p] for p in CABLE.split("\n")]}),
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "c.xlsx"), "cable"),
    "cable in a docx in a zip": (
        lambda: attached(docgen.make_zip({"c.docx": docgen.make_docx(CABLE.split("\n"))}), "application/zip", "c.zip"),
        "cable"),
    "cable typeset vertically in a PDF, one character per line": (lambda: attached(vertical_pdf(CABLE), "application/pdf", "v.pdf"),
                                                                   "cable"),
    "cable in a PDF whose lines are drawn in shuffled order": (
        lambda: attached(shuffled_lines_pdf(CABLE), "application/pdf", "c.pdf"), "cable"),
    "memo with zero-width spaces after every space": (lambda: text(MEMO.replace(" ", " \u200b")), "memo"),
    "memo in upper case": (lambda: text(MEMO.upper()), "memo"),
    "memo with no-break spaces in HTML": (
        lambda: message("text/html; charset=utf-8", ("<p>" + MEMO.replace(" ", "&nbsp;") + "</p>").encode()), "memo"),
    "memo with its paragraphs reversed": (lambda: text("\n".join(reversed(MEMO.split("\n")))), "memo"),
}


@pytest.mark.parametrize("disguise", list(DISGUISES))
def test_disguised_registered_text_still_matches(context: WorkerContext, disguise: str) -> None:
    build, label = DISGUISES[disguise]
    report = inspect_message(build(), context)
    assert report.problems == []
    assert label in {f.label for f in report.findings if f.detector == "fingerprint"}
