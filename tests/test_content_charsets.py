"""Text exports in every legacy and Unicode encoding are read and a marking inside is
found; a wrong or unknown charset label is a note, not a hold."""

from __future__ import annotations

import codecs

import docgen
import pytest

from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.detect.markings import MarkingDetector
from dlp_gateway.model import Inspection, Level

# Exports that carry their classification as the first line, as ministry exports do.
TRADITIONAL = "機密\r\n編號,類別,說明\r\n1,公務,外交部北美司報告\r\n2,普通,會議紀錄\r\n"
SIMPLIFIED = "秘密★1年\r\n编号,类别,说明\r\n1,公务,外交部北美司报告\r\n2,普通,会议纪要\r\n"


def with_attachment(name: str, data: bytes, mimetype: str = "text/csv", charset: str | None = None) -> Inspection:
    raw = docgen.make_message("export", "see attachment", [(name, data, mimetype)])
    if charset:
        raw = raw.replace(f"Content-Type: {mimetype}".encode(), f"Content-Type: {mimetype}; charset={charset}".encode())
    return extract(raw, ExtractionLimits())


def where(inspection: Inspection, phrase: str) -> set[str]:
    return {s.location for s in inspection.segments if phrase in s.text}


def markings(inspection: Inspection) -> set[tuple[str, Level, str]]:
    """(location, level, system) of every marking the real detector finds."""
    return {(f.location, f.level, f.system) for f in MarkingDetector().detect(inspection)}


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_csv_in_utf16_or_utf32_without_a_bom_is_read(codec: str) -> None:
    ins = with_attachment("export.csv", TRADITIONAL.encode(codec))
    assert markings(ins) == {("export.csv", Level.CONFIDENTIAL, "ROC")}
    assert not ins.problems


@pytest.mark.parametrize("bom,codec", [(codecs.BOM_UTF32_LE, "utf-32-le")])
def test_csv_in_utf32_with_a_bom_is_not_mistaken_for_utf16(bom: bytes, codec: str) -> None:
    ins = with_attachment("export.csv", bom + SIMPLIFIED.encode(codec))
    assert markings(ins) == {("export.csv", Level.CONFIDENTIAL, "PRC")}


@pytest.mark.parametrize("text,codec,label", [
    (TRADITIONAL, "cp950", "us-ascii"), (SIMPLIFIED, "gbk", "iso-8859-1"), (SIMPLIFIED, "gb2312", "windows-1252"),
])
def test_chinese_csv_mislabelled_with_a_single_byte_charset_is_read_as_what_it_is(text: str, codec: str,
                                                                                   label: str) -> None:
    ins = with_attachment("export.csv", text.encode(codec), charset=label)
    system = "ROC" if text is TRADITIONAL else "PRC"
    assert markings(ins) == {("export.csv", Level.CONFIDENTIAL, system)}
    assert any(label in n.detail for n in ins.notes)


def test_latin1_letter_declared_latin1_stays_latin1() -> None:
    text = "Sehr geehrte Frau Müller, die Überprüfung ergab: Äpfel, Öl, Straße. Grüße aus Zürich."
    ins = with_attachment("brief.txt", text.encode("latin-1"), "text/plain", charset="iso-8859-1")
    assert where(ins, "Frau Müller") == {"brief.txt"}
    assert not ins.notes


def test_unknown_charset_label_on_ascii_text_is_a_note_not_a_problem() -> None:
    ins = with_attachment("notes.txt", b"SECRET//NOFORN\r\nMeeting notes follow.\r\n", "text/plain",
                          charset="x-unknown-legacy")
    assert where(ins, "SECRET//NOFORN") == {"notes.txt"}
    assert not ins.problems
    assert any("x-unknown-legacy" in n.detail and "ASCII" in n.detail for n in ins.notes)


def test_unknown_charset_label_on_utf8_text_is_a_note_not_a_problem() -> None:
    ins = with_attachment("notes.txt", TRADITIONAL.encode("utf-8"), "text/plain", charset="x-mac-chinesetrad-bogus")
    assert markings(ins) == {("notes.txt", Level.CONFIDENTIAL, "ROC")}
    assert not ins.problems
    assert any("UTF-8" in n.detail for n in ins.notes)
