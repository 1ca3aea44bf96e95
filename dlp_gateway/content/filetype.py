"""True file type by libmagic, never by name or declared type, and the mismatch check.

libmagic's answer is refined in the few places where it is too coarse for dispatch:
a ZIP that is really OOXML or ODF, XML that libmagic calls text/plain, a message that
it calls text/plain. A declared type (MIME Content-Type or the file-name extension) that
names a different kind of file than the content is a *type mismatch*, recorded as a fact:
renaming a PDF to .jpg is a classic way to slip it past a filter.
"""

from __future__ import annotations

import io
import mimetypes
import re
import zipfile
from functools import lru_cache

import magic

OOXML_WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
OOXML_EXCEL = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OOXML_POWERPOINT = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
OOXML_TYPES = {OOXML_WORD, OOXML_EXCEL, OOXML_POWERPOINT}

_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "image/x-ms-bmp": "image/bmp",
    "image/x-bmp": "image/bmp",
    "application/x-zip-compressed": "application/zip",
    "application/x-zip": "application/zip",
    "application/x-pdf": "application/pdf",
    "application/rtf": "text/rtf",
    "application/xml": "text/xml",
    "application/x-gzip": "application/gzip",
    "application/x-bzip": "application/x-bzip2",
    "application/x-rar-compressed": "application/vnd.rar",
    "application/x-rar": "application/vnd.rar",
    "application/x-tar": "application/x-tar",
    "application/x-ustar": "application/x-tar",  # libmagic's name for a POSIX tar it finds damaged
    "application/x-gtar": "application/x-tar",
    "application/x-ole-storage": "application/x-ole-storage",
    "application/cdfv2": "application/x-ole-storage",
    "application/vnd.ms-office": "application/x-ole-storage",
    "application/msword": "application/x-ole-storage",
    "application/vnd.ms-excel": "application/x-ole-storage",
    "application/vnd.ms-powerpoint": "application/x-ole-storage",
    "application/vnd.ms-outlook": "application/x-ole-storage",
    "application/ms-tnef": "application/vnd.ms-tnef",
    "application/x-msdownload": "application/x-dosexec",
    "application/x-msdos-program": "application/x-dosexec",
    "application/vnd.microsoft.portable-executable": "application/x-dosexec",
}
# Declared types that say nothing about the content.
_GENERIC = {"application/octet-stream", "application/unknown", "binary/octet-stream", ""}
GENERIC_TYPES = frozenset(_GENERIC)
# Extensions mimetypes does not know (or knows wrongly) on every system.
_EXTENSIONS = {
    ".di": "text/xml", ".sw": "text/xml", ".si": "text/xml", ".eml": "message/rfc822",
    ".7z": "application/x-7z-compressed", ".rar": "application/vnd.rar",
    ".xz": "application/x-xz", ".bz2": "application/x-bzip2", ".gz": "application/gzip",
    ".tgz": "application/gzip", ".rtf": "text/rtf", ".msg": "application/x-ole-storage",
    ".mbox": "application/mbox", ".mht": "message/rfc822", ".mhtml": "message/rfc822",
}


@lru_cache(maxsize=1)
def _magic() -> magic.Magic:
    return magic.Magic(mime=True)


# -- plain text without libmagic's text tests ------------------------------------------
# libmagic runs its binary tests (signatures: PDF, ZIP, images...) on everything, then,
# on data that looks like text, its text tests: programming languages, markup, mail and
# news headers, troff, diff... With file 5.44 the text tests cost ~0.85 ms on a 3 KB mail
# body, five times the binary tests (measured with MAGIC_NO_CHECK_TEXT), and nearly every
# mail has such a body. So for data that is UTF-8 prose, the text tests
# are replaced by the check below: none of the characters or line starts that those tests
# look for, hence "text/plain", libmagic's answer for text no text test recognised.
# The binary tests still run (libmagic with MAGIC_NO_CHECK_TEXT answers "data" when none
# matched), so a signature at the start of the data is still seen. Anything else goes to
# the full libmagic call. tests/test_filetype_fast_text.py compares both answers.
_MAGIC_NO_CHECK_TEXT = 0x0020000  # magic.h; python-magic's constants predate it
# Characters of markup, code, PostScript/PDF/RTF, PGP armour, and C0 controls but TAB/LF/CR.
_NOT_PROSE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f<>\\{}\[\]#%$@^`|~=*_;]")
# Lisp, Algol and JavaScript forms, BCPL headers, "use strict", perl's `eval "exec`
# (searched in the lower-cased data: one case-insensitive pattern would cost 10x more).
_CODE_PHRASE = re.compile(rb"libhdr|use\s+strict|eval\s")
_LISP_FORM = re.compile(rb"\([a-z]")
# Line starts that text tests anchor on: a header or label ("Date:", "Index:", "all:"),
# troff/assembler directives (".TH", ".text"), diff output, FORTRAN's "C", PBM's "P1",
# a quote or symbol, a keyword of a programming language (lower case, as the languages
# write them), or a phrase that starts some text format ("Article", "This is Info file").
_CODE_LINE = re.compile(
    rb"^[ \t]*(?:[^A-Za-z0-9\x80-\xff \t\r\n]|(?:[Cc]|[Pp][0-9])(?![A-Za-z0-9])|[A-Za-z0-9-]+[ \t]*:"
    rb"|(?:from|import|def|class|module|require|package|struct|union|typedef|extern|static|const"
    rb"|include|dnl|eval|diff|rdiff|index|only|common|begin|end|export|function|var|let|use|sub"
    rb"|my|program|procedure|interface|implementation|namespace|using|template|local|echo|set"
    rb"|rem|goto|call|subroutine|integer|implicit|select|create|insert|alter|drop|cflags|vpath"
    rb"|ldflags|return|if|for|while|fn|func|pub|mod|library|proc|data|section|C|P"
    rb"|(?i:r?diff|index|only\s+in|common\s+subdirectories|from|article|path|xref|received|relay"
    rb"|return|delivered|forward|pipe|gimp|start|this\s+is\s+info|internetshortcut|begin|end"
    rb"|program|subroutine|function|module))(?![A-Za-z0-9]))",
    re.M,
)


@lru_cache(maxsize=1)
def _magic_binary_tests() -> magic.Magic:
    checker = magic.Magic()
    magic.magic_setflags(checker.cookie, _MAGIC_NO_CHECK_TEXT)
    return checker


def _is_plain_prose(data: bytes) -> bool:
    """True when libmagic would call `data` text/plain (see above); False means "ask it"."""
    if _NOT_PROSE.search(data) or _CODE_LINE.search(data) or _LISP_FORM.search(data):
        return False
    if _CODE_PHRASE.search(data.lower()):
        return False
    if not data.isascii():
        if data.startswith(b"\xef\xbb\xbf"):
            return False
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
    return _magic_binary_tests().from_buffer(data) == "data"


# -- markup without libmagic's text tests ------------------------------------------------
# HTML bodies (and markup fragments such as Gmail's '<div dir="ltr">') are the other half
# of nearly every multipart/alternative mail, and the text tests cost up to 0.8 ms on them
# too: libmagic tries its ~400 text tests in strength order and the first one that matches
# and carries a MIME type decides. The HTML tests rank late (below C++, Python, Ruby...),
# so it tries almost all of them. Listed with `file -l` and decoded from magic.mgc (file
# 5.44), they are, for text whose first non-blank character is "<" but not "<?":
# - tests anchored at offset 0 (shebangs, "Received:", "<?xml"...): cannot match, except
#   the HTML ones, the "<" formats of _MARKUP_OTHER_START and, one byte later, the
#   strings of _SEARCH_AT_1;
# - searches and regexes anywhere in the text: each one that carries a MIME type (itself,
#   in a continuation, or through a named test it uses) has a superset in
#   _SUSPECT_STRINGS, _SUSPECT_FORMS or _SUSPECT_LINE: when none of those match, none of
#   the tests can. A test without a MIME type that matches stops libmagic too, which then
#   answers text/plain: that matters only for those ranked above the HTML tests, which
#   are in those lists as well;
# - the HTML tests: "<html", "<head", "<title", "<style", "<table", "<script" followed by
#   ">" or a blank, "<a href=" and "<!doctype html", case-insensitive, starting within the
#   first 4096 bytes (4100 after a leading "<!--"), all answering text/html: _html_tag.
# So such text is text/html if an HTML test matches, else text/plain (no test matched).
# libmagic's binary tests still run, as for prose. The text tests read the first 64 KB,
# converted to UTF-8 (_text_tests_bytes), and the checks read the same bytes; a control
# character, or a charset this cannot convert as libmagic does, goes to the full call.
# tests/test_filetype_fast_markup.py compares both answers, and bench/magic_sweep.py
# plants every string of magic.mgc in markup and compares them again.
_MARKUP_OTHER_START = (b"<?", b"<MakerDictionary", b"<TeXmacs|")
# libmagic's "search/1" tests also match at offset 1 (after the "<"): their strings, but
# "p" and "FONT", which rank after the HTML tests and carry no MIME type.
_SEARCH_AT_1 = (
    b"!_TAG", b"# HTTP Cookie File", b"# KDE Cookie File", b"# Netscape HTTP Cookie File", b"#!", b"##Sketch",
    b"#EXTM3U", b"$\nship", b"% BibTeX", b"%%!!", b"%{", b"'.\\\"", b"'From Squeak", b"'\\\"", b"*** ", b"-----BEGIN",
    b"-h-", b'.\\"', b"//!Mup", b"<?", b"<MakerDictionary", b"<TeXmacs|", b"@c @mapfile{", b"Begin3", b"Begin4",
    b"Common subdirectories: ", b"Decode the following", b"Index:", b"Only in ", b"P1", b"P2", b"P3",
    b"SQ BITMAP1", b"STARTFONT ", b"This is ", b"[playlist]", b'\\"', b"\\ifx", b"\\input texinfo", b"diff ",
    b"package req", b"x T", b"xbtoa Begin",
)
# C0 controls libmagic may call text (BS, VT, FF, ESC...) or not: all go to the full call.
_NOT_TEXT = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Strings searched anywhere: gettext, diff, PDF, JavaScript, Python, Perl, C, m4, ebuild,
# SOSI, BCPL, Objective-C, Pascal/Algol, binhex, Windows .adm and .url, LaTeX, Lisp.
# (Plain `in` tests: one regex alternation of words costs ten times more.)
_SUSPECT_STRINGS = (
    b"msgid", b"+++ ", b"%PDF-", b"require(", b"__BUNDLE_START_TIME__=", b"exports",
    b"typeof", b"def __init__", b"if __name__", b"AC_DEFUN", b"#include", b"#import",
    b"InternetShortcut", b"main(", b"EAPI=", b"@ECLASS: ", b'"libhdr"', b'"LIBHDR"',
    b"CLASS ", b"finally:", b"-*-latex-*-", b"eval '", b'eval "', b"::",
    # tests without a MIME type that still stop libmagic before its HTML tests
    b"===BEGIN ICANN DOMAINS===", b"libtool", b"The Resource Compiler for Qt", b"/dts-v1/",
    b"Kernel Configuration", b"@BibTeX", b"%%%  ",
)
# libmagic decides whether data is text, and runs its text tests, on the first 64 KB only.
_TEXT_TESTS_BYTES = 65536
# libmagic reads at most 8 KB for a regex (regex_max) and for a search (but "search/0"),
# and a continuation as much again from where its parent matched: beyond 32 KB no test
# but these unbounded searches looks.
_SUSPECT_WINDOW = 32 * 1024
_SUSPECT_ANYWHERE = (b'"use strict"', b"'use strict'", b"..SOSI-VERSJON")
_SUSPECT_FORMS = re.compile(
    rb"\((?:async function|function[( ]|defparam |autoload |defvar |defun |setq |custom-set-variables "
    rb"|This file |input,)"
    rb"|\\(?:setup|define|document|section|chapter|setlength|contentsline|useURL|input|begin|relax"
    rb"|glossaryentry|indexentry)"
    rb"|<![Dd][Oo][Cc][Tt][Yy][Pp][Ee]\s+[Ss][Vv][Gg]|(?:li|ha):[A-Za-z_-]+-v[0-9]"
)
# Line starts that regexes anchor on with ^ ([[:space:]] is \s in the C locale); searched
# after each newline, and matched at the start of the data. ^[[:space:]]*X is found as
# "\n[ \t\r]*X" (the last newline before X): "\n\s*X" would take quadratic time on a
# long run of blank lines.
_SUSPECT_LINE = (
    rb"(?:import|export|from[ \t]|using\s|namespace\s|union\s|struct\s|dnl |PROC\s|SUBDIRS\s*="
    rb"|CFLAGS|VPATH|LDFLAGS|all:|\.PRECIOUS|\.(?:BEGIN|endif|include)|[Cc][ \t]|[:;]"
    rb"|\.[A-Za-z][A-Za-z0-9](?:$|[ \t])|\((?:ns\s|defn)|#\s*(?:ifn?def|pragma)"
    rb"|1[\r\n]+0[01]:[0-9]{2}:[0-9]{2},[0-9]{3} -->|=+$|package[ \t]"
    rb"|[ \t\r]*(?:class\s|module\s|protected:|private:|public:|template\s*<|virtual\s|require\s"
    rb"|except|def |include [A-Z]|extern\s|(?:float|char|double) ?\*)"
    rb"|[ \t]*\.(?:asciiz|globl|byte|even|text|file|type))"
)
_SUSPECT_FIRST_LINE = re.compile(_SUSPECT_LINE, re.M)
_SUSPECT_NEXT_LINE = re.compile(rb"\n" + _SUSPECT_LINE, re.M)
_HTML_TAG = re.compile(rb"<(?:(html|head|title|style|table|script)[\s>]|(a)\s*href=|(!doctype)\s+html)", re.I)
_HTML_AFTER_COMMENT = re.compile(rb"<(?:(html)>|(!doctype)\s+html)", re.I)


def _html_tag(data: bytes) -> bool:
    """True when one of libmagic's HTML text tests matches `data` (see above)."""
    for pattern, first, last in ((_HTML_TAG, 0, 4096), (_HTML_AFTER_COMMENT, 4, 4100)):
        if first and not data.startswith(b"<!--"):
            continue
        for match in pattern.finditer(data, first):
            if match.start() >= last:
                break
            # libmagic's pattern ("<html>", "<a href=", "<!doctype html") must fit in the
            # data, even where a blank in it matched none
            length = len(match.group(1)) + 2 if match.group(1) else 8 if match.group(2) else 14
            if match.start() + length <= len(data):
                return True
    return False


# libmagic's strongest HTML tests: "<!doctype html" and "<html>" at offset 0. Only tests
# anchored at offset 0 rank above the first; above the second, also these searches.
_HTML_START = re.compile(rb"<(?:!doctype\s+html|(html>))", re.I)
_SUSPECT_BEFORE_HTML_START = (b"msgid", b"+++ ", b"export", b"%PDF-")


def _text_tests_bytes(data: bytes) -> bytes | None:
    """What libmagic's text tests read of `data`: its first 64 KB as UTF-8 (without a
    BOM; 8-bit text such as Big5 or GB18030 read as ISO-8859-1, each byte above 0x7f two
    bytes), or None when it would not call them text or this cannot tell how it reads them."""
    raw = data[:_TEXT_TESTS_BYTES]
    if _NOT_TEXT.search(raw):
        return None
    if raw.isascii():
        return raw
    text = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    try:
        text.decode("utf-8")
        return text
    except UnicodeDecodeError as exc:
        # a character cut at the end, a BOM then invalid UTF-8 (8-bit text to libmagic,
        # BOM included): the full call
        if text is not raw or exc.reason == "unexpected end of data":
            return None
    return raw.decode("latin-1").encode("utf-8")


def _markup_type(data: bytes) -> str | None:
    """libmagic's answer for text that starts with markup, text/html or text/plain, or None
    when only the full libmagic call can tell (see above)."""
    if b"<" not in data[:64]:
        return None
    text = _text_tests_bytes(data)
    if text is None:
        return None
    start = text[:64].lstrip(b" \t\r\n")
    if not start.startswith(b"<") or start.startswith(_MARKUP_OTHER_START) or text[1:].startswith(_SEARCH_AT_1):
        return None
    early = _HTML_START.match(text)
    if early is None or (early.group(1) and any(s in text for s in _SUSPECT_BEFORE_HTML_START)):
        window = text[:_SUSPECT_WINDOW]
        if any(s in window for s in _SUSPECT_STRINGS) or any(s in text for s in _SUSPECT_ANYWHERE):
            return None
        if _SUSPECT_FORMS.search(window) or _SUSPECT_FIRST_LINE.match(window):
            return None
        if _SUSPECT_NEXT_LINE.search(window) or b"#!" in text[:32] or b"tart" in text[:64]:
            return None  # "tart": "Start Component" (any case) within 27 bytes
        early = None
    if _magic_binary_tests().from_buffer(data) != "data":
        return None
    return "text/html" if early or _html_tag(text) else "text/plain"


# The shortcuts copy what file 5.44's magic database does (bench/magic_sweep.py checks
# them against it); with any other libmagic they are off and libmagic answers alone.
SHORTCUTS_VERIFIED_WITH = {544}


@lru_cache(maxsize=1)
def shortcuts_enabled() -> bool:
    try:
        return magic.version() in SHORTCUTS_VERIFIED_WITH
    except Exception:
        return False


def _fast_text_type(data: bytes) -> str | None:
    """libmagic's MIME type for prose and markup without its text tests, or None."""
    if not shortcuts_enabled():
        return None
    if _is_plain_prose(data):
        return "text/plain"
    return _markup_type(data)


def normalise(mime: str | None) -> str:
    mime = (mime or "").split(";")[0].strip().lower()
    return _ALIASES.get(mime, mime)


def _zip_names(data: bytes, limit: int = 200) -> list[str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return [i.filename for i in zf.infolist()[:limit]]
    except Exception:
        return []


def _refine_zip(data: bytes, mime: str) -> str:
    names = _zip_names(data)
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return OOXML_WORD
        if any(n.startswith("xl/") for n in names):
            return OOXML_EXCEL
        if any(n.startswith("ppt/") for n in names):
            return OOXML_POWERPOINT
    if "mimetype" in names:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                declared = zf.read("mimetype")[:100].decode("ascii", "replace").strip()
            if declared.startswith("application/vnd.oasis.opendocument"):
                return declared
        except Exception:
            pass
    return mime


_HEADER_LINE = re.compile(rb"^[A-Za-z0-9-]{1,76}:[ \t]", re.M)
# Content-type counts too: a Word or IE .mht page starts "MIME-Version:" + "Content-Type:".
_MESSAGE_HEADERS = re.compile(rb"^(from|to|subject|date|message-id|received|mime-version|return-path|content-type):",
                              re.I | re.M)
OUTLOOK_HEADERS_LINE = b"Microsoft Mail Internet Headers Version 2.0"
# The separator line that starts every message of an mbox file (and a message saved by
# Thunderbird or mutt): "From sender date", then the message's header lines.
_MBOX_FROM = re.compile(rb"From [^\r\n]{1,300}?(?:19|20)\d\d[^\r\n]{0,80}\r?\n")


def true_type(data: bytes) -> str:
    """The content's MIME type by libmagic, refined for OOXML/ODF, XML and messages."""
    if not data:
        return "application/x-empty"
    head = data[: 1024 * 1024]
    try:
        mime = _fast_text_type(head) or normalise(_magic().from_buffer(head))
    except Exception:
        mime = "application/octet-stream"
    if mime in ("application/zip", "application/octet-stream") and data[:2] == b"PK":
        return _refine_zip(data, mime)
    if mime == "text/plain" or mime.startswith("text/x-"):
        head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(b"<?xml") or head.startswith(b"\xff\xfe<\x00") or head.startswith(b"<!DOCTYPE"):
            return "text/xml"
        first = data[:2048]
        if _HEADER_LINE.match(first) and len(_MESSAGE_HEADERS.findall(first)) >= 2:
            return "message/rfc822"
        if first.startswith(OUTLOOK_HEADERS_LINE) and len(_MESSAGE_HEADERS.findall(first)) >= 2:
            return "message/rfc822"  # Outlook's "save as" of a message's internet headers
        mbox = _MBOX_FROM.match(first)
        if mbox and _HEADER_LINE.match(first, mbox.end()) and _MESSAGE_HEADERS.search(first, mbox.end()):
            return "application/mbox"
    if mime == "application/octet-stream":
        from dlp_gateway.content.text import wide_unicode

        if wide_unicode(data):  # UTF-16/32 without a byte-order mark: libmagic calls it data
            return "text/plain"
    return mime


def declared_from_name(filename: str | None) -> str | None:
    if not filename:
        return None
    lower = filename.lower()
    for ext, mime in _EXTENSIONS.items():
        if lower.endswith(ext):
            return mime
    guessed, _ = mimetypes.guess_type(lower, strict=False)
    return normalise(guessed) if guessed else None


def _family(mime: str) -> str:
    mime = normalise(mime)
    if mime in OOXML_TYPES or "openxmlformats" in mime or "macroenabled" in mime:
        return "office"
    if mime == "application/x-ole-storage":
        return "office"  # a .doc renamed .docx (or the reverse) is an Office file either way
    if mime.startswith("application/vnd.oasis.opendocument") or mime in ("application/zip", "application/java-archive"):
        return "zip"
    if mime in ("text/xml", "image/svg+xml") or mime.endswith("+xml"):
        return "xml"
    if mime in ("message/rfc822", "application/mbox"):
        return "text"
    if mime.startswith("text/") and mime not in ("text/html", "text/rtf"):
        return "text"
    return mime


def _compatible(declared: str, actual: str) -> bool:
    declared, actual = normalise(declared), normalise(actual)
    if declared in _GENERIC or declared == actual:
        return True
    if actual in ("application/x-empty", "inode/x-empty"):
        return True
    fd, fa = _family(declared), _family(actual)
    if fd == fa:
        return True
    # OOXML is a ZIP: libmagic may see only the ZIP, a sender may declare only the ZIP.
    if {fd, fa} == {"office", "zip"} and "application/x-ole-storage" not in (declared, actual):
        return True
    # XML and HTML are text to libmagic as often as not, and the reverse.
    return {fd, fa} <= {"text", "xml", "text/html"}


def mismatch(declared_type: str | None, filename: str | None, actual: str) -> str | None:
    """A sentence describing the mismatch between what the part claims to be and is, or None."""
    claims: list[str] = []
    if declared_type and not _compatible(declared_type, actual):
        claims.append(f"declared {normalise(declared_type)}")
    by_name = declared_from_name(filename)
    if by_name and not _compatible(by_name, actual):
        claims.append(f"named {filename!r} ({by_name})")
    if not claims:
        return None
    return f"{' and '.join(claims)}, but the content is {actual}"
