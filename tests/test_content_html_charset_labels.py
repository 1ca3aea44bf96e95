"""An HTML body with a wrong or unknown charset label is read as mail clients read it."""

from __future__ import annotations

from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits


def html_message(charset: str, body: bytes) -> bytes:
    return (
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=" + charset.encode() + b"\r\n\r\n" + body + b"\r\n"
    )


def test_unknown_charset_label_on_ascii_html_is_a_note_not_a_problem() -> None:
    ins = extract(html_message("fakescii-7", b"<html><body><p>SECRET//NOFORN</p></body></html>"), ExtractionLimits())
    assert not ins.problems
    assert any("unknown charset" in n.detail for n in ins.notes)
    assert any("SECRET//NOFORN" in s.text for s in ins.segments)


def test_mangled_charset_label_on_html_is_a_note_not_a_problem() -> None:
    ins = extract(html_message('"charset=us-ascii"', b"<p>hello</p>"), ExtractionLimits())
    assert not ins.problems


def test_html_under_an_unknown_label_that_decodes_to_mostly_replacement_characters_is_a_problem() -> None:
    ins = extract(html_message("x-unknown", b"<p>" + bytes(range(0x80, 0xC0)) * 8 + b"</p>"), ExtractionLimits())
    assert [p.kind.value for p in ins.problems] == ["unsupported"]
