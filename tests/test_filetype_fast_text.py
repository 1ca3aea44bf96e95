"""The plain-text shortcut of filetype.true_type gives libmagic's own answer.

`true_type` skips libmagic's (costly) text tests for data that is UTF-8 prose. Every
sample here is typed twice, with the shortcut and with the full libmagic call, and the
answers must be equal: ordinary mail text in several scripts and charsets, text that
libmagic recognises as something else (markup, code, headers, PostScript, CSV), and
binary formats, some disguised as text.
"""

from __future__ import annotations

import docgen
import pytest

from dlp_gateway.content import filetype

PROSE_EN = ("The delegation met with the deputy director to review the agenda for the next round of talks.\n"
            "Please find attached the draft programme for the cultural week and the list of venues.\n")
PROSE_ZH = "本處已洽請對方於會後提供相關資料，俾利研析。\n經洽相關智庫學者，渠等研判短期內情勢將維持穩定。\n"
PROSE_MIXED = "Dear colleagues,\n\n" + PROSE_EN + PROSE_ZH + "Kind regards,\nJane Doe\nDeputy Director (Trade)\n"

SAMPLES: dict[str, bytes] = {
    # mail text that takes the shortcut
    "english": PROSE_EN.encode(),
    "english-crlf": PROSE_EN.replace("\n", "\r\n").encode(),
    "chinese-utf8": PROSE_ZH.encode(),
    "mixed-utf8": PROSE_MIXED.encode(),
    "french-utf8": "Réunion à Genève: l'ordre du jour est joint, merci.\n".encode(),
    "japanese-utf8": "会議の議題を添付いたします。よろしくお願いします。\n".encode(),
    "classified-marking": "機密\n本件列為機密，請勿外流。\nSECRET//NOFORN\n".encode(),
    # text in other charsets and encodings: the full libmagic call
    "chinese-big5": PROSE_ZH.encode("big5"),
    "chinese-gb18030": PROSE_ZH.encode("gb18030"),
    "latin-1": "Réunion à Genève, ordre du jour.\n".encode("latin-1"),
    "utf-16": PROSE_MIXED.encode("utf-16"),
    "utf-8-bom": b"\xef\xbb\xbf" + PROSE_EN.encode(),
    "shift-jis": "会議の議題を添付いたします。\n".encode("shift_jis"),
    # text libmagic calls something else
    "html": b"<html><head><title>Agenda</title></head><body><p>Talks</p></body></html>\n",
    "html-fragment": PROSE_EN.encode() + b"<table><tr><td>1</td></tr></table>\n",
    "xml": docgen.make_edoc_xml("A", "body text"),
    "svg": b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><text>x</text></svg>\n',
    "rtf": docgen.make_rtf("Confidential agenda"),
    "postscript": b"%!PS-Adobe-3.0\n%%Title: agenda\n/Times-Roman findfont 12 scalefont setfont\n",
    "pdf-header-in-text": PROSE_EN.encode() + b"%PDF-1.4\n",
    "eml": docgen.make_message("Agenda", PROSE_EN),
    "mail-headers": b"From: a@example.org\nTo: b@example.org\nSubject: agenda\n\n" + PROSE_EN.encode(),
    "news-headers": b"Path: news.example\nXref: news.example misc:1\n\nbody\n",
    "date-header": b"Date: Mon, 1 Jan 2026 10:00:00 +0000\n\n" + PROSE_EN.encode(),
    "csv": b"name, rank, unit\nchen, major, 3rd\nlin, captain, 5th\nwang, colonel, 1st\n",
    "json": b'{"agenda": ["talks", "visit"], "secret": true}\n',
    "c-source": b"#include <stdio.h>\nint main(void) { return 0; }\n",
    "python-source": PROSE_EN.encode() + b"from os import path\ndef main(a, b):\n",
    "java-import": PROSE_EN.encode() + b"import java.util.List;\n",
    "shell-script": b"#!/bin/sh\necho agenda\n",
    "troff": b".TH AGENDA 1\n.SH NAME\nagenda\n",
    "tex": PROSE_EN.encode() + b"\\section{Agenda}\n",
    "diff": b"diff -u a b\n--- a\n+++ b\n@@ -1 +1 @@\n-old\n+new\n",
    "makefile": b"all: agenda\nCFLAGS = -O2\n",
    "m4": b"dnl agenda\n" + PROSE_EN.encode(),
    "lisp": PROSE_EN.encode() + b"(defun agenda (x) x)\n",
    "pgp-armour": b"-----BEGIN PGP MESSAGE-----\n\nhQEMA0\n-----END PGP MESSAGE-----\n",
    "vcard": b"BEGIN:VCARD\nVERSION:3.0\nFN:Jane Doe\nEND:VCARD\n",
    "fortran": b"C     agenda program\n      PROGRAM AGENDA\n      END\n",
    "pbm": b"P1\n2 2\n0 1\n1 0\n",
    "article": b"Article 12 of the agreement\n" + PROSE_EN.encode(),
    "one-char": b"!",
    "empty-lines": b"\n\n\n",
    # binary formats, and binary formats disguised as text
    "pdf": docgen.make_pdf(["Agenda of the talks"]),
    "docx": docgen.make_docx(["Agenda"]),
    "zip": docgen.make_zip({"a.txt": b"agenda"}),
    "ole": docgen.make_ole({"WordDocument": b"agenda" * 100}),
    "png": docgen.make_png_header(10, 10),
    "jpeg": docgen.make_jpeg(["Agenda"], dpi=50),
    "gif": docgen.make_gif(["Agenda"], dpi=50),
    "tiff": docgen.make_tiff(["Agenda"], dpi=50),
    "7z": docgen.make_7z({"a.txt": b"agenda"}),
    "gzip": docgen.make_gzip(b"agenda"),
    "bzip2": docgen.make_bz2(b"agenda"),
    "xz": docgen.make_xz(b"agenda"),
    "tar": docgen.make_tar({"a.txt": PROSE_EN.encode()}),
    "gif-signature-then-prose": b"GIF89a " + PROSE_EN.encode(),
    "midi-signature-then-prose": b"MThd " + PROSE_EN.encode(),
    "bzip2-signature-then-prose": b"BZh9 " + PROSE_EN.encode(),
    "cpio-ascii-then-prose": b"070701 " + PROSE_EN.encode(),
    "prose-then-nul": PROSE_EN.encode() + b"\x00\x01\x02" + PROSE_EN.encode(),
    "prose-then-invalid-utf8": PROSE_EN.encode() + b"\xff\xfe\xfd",
}


def _full_libmagic(data: bytes, monkeypatch: pytest.MonkeyPatch) -> str:
    with monkeypatch.context() as patched:
        patched.setattr(filetype, "_fast_text_type", lambda _data: None)  # prose and markup shortcuts
        return filetype.true_type(data)


@pytest.mark.parametrize("name", list(SAMPLES))
def test_shortcut_gives_libmagics_answer(name: str, monkeypatch: pytest.MonkeyPatch):
    data = SAMPLES[name]
    assert filetype.true_type(data) == _full_libmagic(data, monkeypatch)


@pytest.mark.parametrize("name", ["english", "english-crlf", "chinese-utf8", "mixed-utf8", "french-utf8",
                                  "japanese-utf8", "classified-marking"])
def test_ordinary_mail_text_takes_the_shortcut(name: str):
    assert filetype._is_plain_prose(SAMPLES[name])


@pytest.mark.parametrize("name", ["html", "xml", "rtf", "postscript", "pdf-header-in-text", "eml", "csv",
                                  "c-source", "python-source", "troff", "fortran", "pbm", "chinese-big5",
                                  "utf-16", "pdf", "gif-signature-then-prose", "prose-then-nul"])
def test_text_libmagic_may_recognise_and_binary_data_do_not(name: str):
    assert not filetype._is_plain_prose(SAMPLES[name])


def test_the_shortcuts_are_off_with_a_libmagic_they_were_not_checked_against(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(filetype, "SHORTCUTS_VERIFIED_WITH", set())
    filetype.shortcuts_enabled.cache_clear()
    try:
        assert filetype._fast_text_type(b"Dear colleagues, the meeting is moved to Monday.\n") is None
    finally:
        monkeypatch.undo()
        filetype.shortcuts_enabled.cache_clear()
