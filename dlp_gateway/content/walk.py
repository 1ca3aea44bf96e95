"""The reading context shared by all format readers, and the dispatch on true type.

`Reader.read_file` is the one door every file goes through: MIME leaves, archive members,
files embedded in PDFs and Office documents. It enforces depth, member and byte limits,
records the `Part` (with libmagic's true type and any mismatch), and hands the bytes to the
reader of that format family. A reader that fails records a `corrupt` problem for that
branch only; nothing propagates out of `read_file`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from dlp_gateway.content import encoded_blocks, filetype
from dlp_gateway.content.budget import Budget
from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.content.text import decode_text, plain_lines
from dlp_gateway.model import Fact, Inspection, Note, Part, Problem, ProblemKind, Segment

if TYPE_CHECKING:
    from dlp_gateway.content.ocr import OcrEngine

SEP = " › "


def join(*names: str) -> str:
    """Join location steps with the contract separator ` › `."""
    return SEP.join(n for n in names if n)


class Reader:
    """What every format reader writes into while reading one message."""

    def __init__(self, limits: ExtractionLimits, ocr: OcrEngine | None = None) -> None:
        self.limits = limits
        self.ocr = ocr  # the worker's OCR engine (content/ocr.py); made per message when None
        self.budget = Budget(limits)
        self.inspection = Inspection()
        self._recorded: set[tuple[str, str, str]] = set()
        self._locations: set[str] = set()
        # Keys of MIME payloads and texts already read (mime.py): its scan of the raw
        # message for parts the parsed tree did not yield skips these.
        self.seen: set[bytes] = set()
        self._timed_out = False

    # -- recording -------------------------------------------------------------------
    def segment(self, text: str, location: str, part: str, kind: str) -> None:
        text = text.strip()
        if not text:
            return
        allowed = self.budget.take_text(len(text))
        if allowed < len(text):
            self.limit(location, "max_text_chars",
                       f"text beyond {self.limits.max_text_chars} characters per message not kept")
            if allowed <= 0:
                return
            text = text[:allowed]
        self.inspection.segments.append(Segment(text, location, part, kind))

    def fact(self, name: str, value: str, location: str, part: str) -> None:
        self.inspection.facts.append(Fact(name, value, location, part))

    def problem(self, kind: ProblemKind, location: str, detail: str, limit: str | None = None) -> None:
        key = (str(kind), location, limit or detail)
        if key in self._recorded:
            return
        self._recorded.add(key)
        self.inspection.problems.append(Problem(kind, location, detail, limit))

    def note(self, location: str, detail: str) -> None:
        """Record a defect that was read through (see `model.Note`); once per location and detail."""
        key = ("note", location, detail)
        if key in self._recorded:
            return
        self._recorded.add(key)
        self.inspection.notes.append(Note(location, detail))

    def limit(self, location: str, limit: str, detail: str) -> None:
        self.problem(ProblemKind.LIMIT_EXCEEDED, location, detail, limit)

    def timed_out(self, location: str) -> bool:
        """True once the per-message deadline has passed; records one `timeout` problem."""
        if self._timed_out:
            return True
        if self.budget.out_of_time():
            self._timed_out = True
            self.problem(ProblemKind.TIMEOUT, location,
                         f"inspection stopped after {self.limits.max_seconds:g} s; the rest was not read",
                         "max_seconds")
            return True
        return False

    def members_exhausted(self, location: str) -> bool:
        """True (and recorded) once `max_members` parts have been read: loops stop early."""
        if self.budget.members >= self.limits.max_members:
            self.limit(location, "max_members", f"more than {self.limits.max_members} parts and members; the rest not read")
            return True
        return False

    def unique_location(self, location: str) -> str:
        """Two attachments with the same name get distinct locations: `a.pdf`, `a.pdf (2)`."""
        candidate, n = location, 1
        while candidate in self._locations:
            n += 1
            candidate = f"{location} ({n})"
        self._locations.add(candidate)
        return candidate

    # -- the one door ------------------------------------------------------------------
    def read_file(
        self,
        data: bytes,
        location: str,
        *,
        filename: str | None,
        declared_type: str | None,
        depth: int,
        charset: str | None = None,
        text_kind: str = "body",
    ) -> None:
        """Record `data` as a Part and read it with the reader for its true type."""
        if self.timed_out(location):
            return
        if depth > self.limits.max_depth:
            self.limit(location, "max_depth", f"nested deeper than {self.limits.max_depth} levels; not read")
            return
        refused = self.budget.take_member()
        if refused:
            self.limit(location, refused, f"more than {self.limits.max_members} parts and members; the rest not read")
            return
        refused = self.budget.take_bytes(len(data))
        if refused:
            self.limit(location, refused, f"{len(data)} bytes would exceed {refused}; not read")
            return
        true_type = filetype.true_type(data)
        if true_type == "text/plain" and filetype.normalise(declared_type) == "message/rfc822":
            true_type = "message/rfc822"
        mismatch = filetype.mismatch(declared_type, filename, true_type)
        self.inspection.parts.append(Part(
            location=location, filename=filename, declared_type=declared_type,
            true_type=true_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
            depth=depth, type_mismatch=mismatch is not None, data=data,
        ))
        if filename:
            self.segment(filename, location, location, "filename")
        if mismatch:
            self.fact("file.type_mismatch", mismatch, location, location)
        types = {true_type, filetype.normalise(declared_type)}
        if data[:1] == b"\x30" and _PKCS7_SIGNED_DATA in data[:64]:
            # CMS signedData, whatever it is declared as (smime.p7m, a .pdf, octet-stream):
            # the signed content is readable without any key, so it is unpacked and read.
            content = encoded_blocks.signed_content(data, self.budget.bytes_allowed())
            if content is None:
                return  # a detached signature (or unparsable DER): no content of its own
            self.note(location, "CMS/S-MIME signed data: the signed content unpacked and read (signature not verified)")
            self.read_file(content, join(location, "signed content"), filename=None, declared_type="message/rfc822",
                           depth=depth + 1)
            return
        if types & ENCRYPTED_TYPES or data.lstrip()[:27] == b"-----BEGIN PGP MESSAGE-----":
            self.problem(ProblemKind.ENCRYPTED, location, "encrypted content (S/MIME or OpenPGP); not readable")
            return
        tool = encrypted_by(data, textual=true_type.startswith("text/") or filetype.normalise(declared_type) == "text/plain")
        if tool:
            self.problem(ProblemKind.ENCRYPTED, location, f"encrypted content ({tool}); not readable")
            if not true_type.startswith("text/"):
                return  # a binary cipher text holds nothing else; a text around inline armour is still read
        if types & SIGNATURE_TYPES:
            if is_signature(data):
                return  # a detached signature holds no content of its own
            # A part may claim to be a signature to be skipped: read it by its content.
            self.note(location, f"declared as a signature ({declared_type}) but is {true_type}; read by its content")
        handler = dispatch(true_type)
        if handler is None and data[:4] == b"\x01\x00\x00\x00" and data[40:44] == b" EMF":
            handler = dispatch("image/emf")  # libmagic calls an EMF picture data
        if true_type == "text/plain" and (
            filetype.normalise(declared_type) == "text/html"
            or (filename or "").lower().endswith((".htm", ".html"))
        ):
            handler = dispatch("text/html")  # short HTML often looks like plain text to libmagic
        declared_html = filetype.normalise(declared_type) == "text/html"
        declared_text = _reader_module(handler) not in _TEXT_READERS and (
            _declared_as_text(declared_type) or declared_html
            # A file that only its content calls a message (an octet-stream "notes.txt"
            # starting with header lines) is shown by an editor as text: every line of it.
            or (true_type in ("message/rfc822", "application/mbox")
                and filetype.normalise(declared_type) in filetype.GENERIC_TYPES
                and not (filename or "").lower().endswith((".eml", ".mbox", ".mht", ".mhtml", ".msg"))))
        if handler is None:
            textual = declared_text and bool(data.strip()) and self._read_declared_text(
                data, location, depth, true_type, charset, len(self.inspection.problems), typed_reading=False,
                html=declared_html)
            if encoded_blocks.might_hold_blocks(data) and self._read_encoded_blocks(data, location, depth):
                return  # a BinHex or yEnc file as a whole part: what it encodes was read
            if textual:
                return  # a text, read as the text it is declared to be, as a client shows it
            if not data.strip():
                return  # blank lines only (a lone LF is "octet-stream" to libmagic): empty
            if true_type not in ("application/x-empty", "inode/x-empty") and data.startswith(_KNOWN_SIGNATURES):
                # It starts like a format we read, yet libmagic could not tell what it
                # is: a damaged file (a truncated PNG, a ZIP cut after its first header).
                self.problem(ProblemKind.CORRUPT, location,
                             f"starts like a {_signature_name(data)} file but is too damaged to be read")
            elif true_type not in ("application/x-empty", "inode/x-empty"):
                # A binary no reader knows (audio, video, an executable, random bytes) holds
                # no text to inspect: it is recorded by its true type, which the policy can
                # act on (`file_type:`, e.g. executables), and is not a hold on its own.
                self.fact("file.unread_type", true_type, location, location)
                self.note(location, f"{true_type}: no text reader for this type; kept by its type for the policy")
                from dlp_gateway.content.archives import read_appended_zip

                read_appended_zip(self, data, location, depth)  # a self-extractor, or a ZIP glued on
            return
        before = len(self.inspection.problems)
        try:
            handler(self, data, location, depth, charset=charset, text_kind=text_kind)
        except MemoryError:
            self.problem(ProblemKind.LIMIT_EXCEEDED, location, "ran out of memory reading this part", "memory")
        except Exception as exc:  # a broken file ends its own branch, never the message
            self.problem(ProblemKind.CORRUPT, location, f"could not read {true_type}: {type(exc).__name__}: {exc}"[:500])
        if self._declared_text_as_text(data, location, depth, true_type, declared_type, filename, before, charset):
            return
        if declared_text:
            self._read_declared_text(data, location, depth, true_type, charset, before, typed_reading=True,
                                     html=declared_html)
        self._weak_image_guess(data, location, true_type, before)
        if true_type.startswith("text/") and encoded_blocks.might_hold_blocks(data):
            self._read_encoded_blocks(data, location, depth)

    def _declared_text_as_text(self, data: bytes, location: str, depth: int, true_type: str,
                               declared_type: str | None, filename: str | None, before: int,
                               charset: str | None) -> bool:
        """A part declared text/plain whose content libmagic calls XML, and that the XML
        reader found broken (a pasted, cut-off XML snippet in a mail body): a client shows
        it as plain text, so it is read as plain text and the XML damage is a note."""
        if true_type != "text/xml" or filetype.normalise(declared_type) != "text/plain":
            return False
        if (filename or "").lower().endswith((".xml", ".di", ".sw", ".si", ".svg")):
            return False
        broken = [p for p in self.inspection.problems[before:]
                  if p.kind == ProblemKind.CORRUPT and p.location == location]
        if not broken:
            return False
        for problem in broken:
            self.inspection.problems.remove(problem)
            self.note(location, f"declared text/plain; {problem.detail}; read as plain text")
        handler = dispatch("text/plain")
        if handler is not None:
            handler(self, data, location, depth, charset=charset, text_kind="body")
        return True

    def _read_declared_text(self, data: bytes, location: str, depth: int, true_type: str, charset: str | None,
                            before: int, *, typed_reading: bool, html: bool) -> bool:
        """A part declared as plain text (text/plain, text/csv, any text/* the plain-text
        reader reads) that libmagic calls something else (a body opening
        with `%PDF-`, `GIF89a`, `{\\rtf1`, `%!PS`, a BinHex block, NULs in a text file): a
        client shows it as text, so it is read as text as well. When that text is mostly
        printable, a failure of the typed reader (`%PDF-` in prose is no PDF) is only a
        note; a real binary file mislabelled text/plain keeps its problem, and only its
        printable runs are read (what a client would show among the garbage) unless its
        typed reader read it without trouble. A part declared text/html that is text is
        read by the HTML reader, as a client renders it. True when the data is text."""
        text, _ = decode_text(data, charset)
        text = text.replace("\x00", "")
        sample = text[:65536]
        printable = sum((ch.isprintable() and ch != "\ufffd") or ch in "\t\n\r\f\v" for ch in sample)
        textual = bool(sample) and printable >= 0.9 * len(sample)
        failed = [p for p in self.inspection.problems[before:]
                  if p.kind in (ProblemKind.CORRUPT, ProblemKind.UNSUPPORTED) and p.location == location]
        if not textual and typed_reading and not failed:
            return False  # a real file, mislabelled, that its own reader read
        if textual:
            for problem in failed:
                self.inspection.problems.remove(problem)
                self.note(location, f"declared as text; as {true_type}: {problem.detail}")
        else:
            text = "\n".join(_PRINTABLE_RUN.findall(text))
        if textual and html:
            self.note(location, f"declared text/html but libmagic says {true_type}; also read as HTML")
            handler = dispatch("text/html")
            try:
                if handler is not None:
                    handler(self, data, location, depth, charset=charset, text_kind="body")
            except Exception as exc:  # as for the first reading: this branch only
                self.problem(ProblemKind.CORRUPT, location, f"could not read as HTML: {type(exc).__name__}: {exc}"[:500])
            return textual
        self.note(location, f"declared as text but libmagic says {true_type}; also read as plain text")
        self.segment(plain_lines(text), location, location, "body")
        return textual

    def _weak_image_guess(self, data: bytes, location: str, true_type: str, before: int) -> None:
        """libmagic names some image formats (TGA, PCX...) from a few weak bytes, so random
        data is often called an image. When the image reader cannot open a file that has
        none of the strong image signatures, it was never an image: an unknown binary,
        noted and typed for the policy like any other, not a hold on its own."""
        if not true_type.startswith("image/") or data.startswith(_IMAGE_SIGNATURES) or data[8:12] == b"WEBP":
            return
        failed = [p for p in self.inspection.problems[before:]
                  if p.kind in (ProblemKind.UNSUPPORTED, ProblemKind.CORRUPT) and p.location == location]
        for problem in failed:
            self.inspection.problems.remove(problem)
        if failed:
            self.fact("file.unread_type", "application/octet-stream", location, location)
            self.note(location, f"libmagic guessed {true_type} but it is no image ({failed[0].detail}); "
                                "an unknown binary, kept by its type for the policy")

    def _read_encoded_blocks(self, data: bytes, location: str, depth: int) -> bool:
        """uuencode, yEnc and BinHex files pasted into a text: clients show them as
        attachments, so they are decoded and read as files. True if there were any."""
        blocks = encoded_blocks.find_blocks(data, self.budget.bytes_allowed())
        for n, block in enumerate(blocks, start=1):
            where = self.unique_location(join(location, block.name or f"{block.kind} {n}"))
            self.note(where, f"{block.kind} file inside the text; decoded and read"
                      + (f" ({block.damage})" if block.damage else ""))
            if block.truncated:
                self.limit(where, self.budget.byte_limit_name(), "decoded file larger than the byte limits; the rest not read")
            self.read_file(block.data, where, filename=block.name, declared_type=None, depth=depth + 1)
        return bool(blocks)


Handler = Callable[..., None]


_PKCS7_SIGNED_DATA = bytes.fromhex("06092a864886f70d010702")  # OID 1.2.840.113549.1.7.2
ENCRYPTED_TYPES = {"application/pkcs7-mime", "application/x-pkcs7-mime", "application/pgp-encrypted"}
SIGNATURE_TYPES = {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
_ARMOURED_SIGNATURE = (b"-----BEGIN PGP SIGNATURE-----", b"-----BEGIN PKCS7-----", b"-----BEGIN CMS-----")


# Leading bytes of formats that have a reader, with their names for the problem text.
_SIGNATURES = {
    b"\x89PNG": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF8": "GIF", b"%PDF": "PDF", b"PK\x03\x04": "ZIP",
    b"Rar!": "RAR", b"7z\xbc\xaf": "7z", b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ": "xz",
    b"\xd0\xcf\x11\xe0": "OLE (Office 97)", b"{\\rtf": "RTF", b"II*\x00": "TIFF", b"MM\x00*": "TIFF",
}
_KNOWN_SIGNATURES = tuple(_SIGNATURES)
_IMAGE_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"BM", b"RIFF", b"8BPS",
                     b"\x00\x00\x01\x00", b"\x00\x00\x00\x0cjP", b"\xffO\xffQ", b"P1", b"P2", b"P3", b"P4", b"P5",
                     b"P6", b"\x00\x00\x00\x18ftyp", b"\x00\x00\x00\x1cftyp", b"\x00\x00\x00 ftyp", b"<svg", b"<?xml")


def _signature_name(data: bytes) -> str:
    return next((name for sig, name in _SIGNATURES.items() if data.startswith(sig)), "known")


def is_signature(data: bytes) -> bool:
    """True when `data` really is a detached signature: DER CMS signedData (a SEQUENCE
    whose content type is signedData) or an armoured PGP/PKCS #7 signature."""
    if data[:1] == b"\x30" and _PKCS7_SIGNED_DATA in data[:32]:
        return encoded_blocks.signed_content(data, 1) is None  # signedData with content is a document
    return data.lstrip()[:40].startswith(_ARMOURED_SIGNATURE)

# true type -> (module, function); modules are imported on first use, so a worker that
# only ever sees plain-text mail never pays for PyMuPDF or lxml.
_READERS: list[tuple[Callable[[str], bool], str, str]] = [
    (lambda t: t == "application/pdf", "pdf", "read_pdf"),
    (lambda t: t in filetype.OOXML_TYPES, "office", "read_ooxml"),
    (lambda t: t.startswith("application/vnd.oasis.opendocument"), "odf", "read_odf"),
    (lambda t: t == "message/rfc822", "mime", "read_attached_message"),
    (lambda t: t == "application/mbox", "mime", "read_mailbox"),
    (lambda t: t == "text/rtf", "rtf", "read_rtf"),
    (lambda t: t in ("text/xml", "image/svg+xml") or t.endswith("+xml"), "xmldoc", "read_xml"),
    (lambda t: t == "text/html", "text_files", "read_html"),
    (lambda t: t == "application/postscript", "text_files", "read_postscript"),
    (lambda t: t.startswith("text/") or t in ("application/json", "application/csv"), "text_files", "read_text"),
    (lambda t: t in ("image/wmf", "image/x-wmf", "image/emf", "image/x-emf"), "metafile", "read_metafile"),
    (lambda t: t.startswith("image/"), "images", "read_image"),
    (lambda t: t.startswith(("audio/", "video/")), "media_tags", "read_media"),
    (lambda t: t in ARCHIVE_TYPES, "archives", "read_archive"),
    (lambda t: t in ("application/vnd.ms-tnef", "application/ms-tnef"), "tnef", "read_tnef"),
    # libmagic calls a password-protected OOXML file (an OLE container) "application/encrypted".
    (lambda t: t in ("application/x-ole-storage", "application/encrypted"), "legacy", "read_ole"),
]
ARCHIVE_TYPES = {
    "application/zip", "application/java-archive", "application/x-tar", "application/gzip",
    "application/x-bzip2", "application/x-xz", "application/x-7z-compressed", "application/vnd.rar",
    "application/x-lzma", "application/x-iso9660-image", "application/vnd.ms-cab-compressed",
    # read through libarchive (archives.read_with_libarchive)
    "application/x-cpio", "application/x-archive", "application/zstd", "application/x-compress",
    "application/x-lz4", "application/x-lzip", "application/x-xar", "application/warc",
}


# Text readers: a part declared text/plain that one of these reads needs no second reading
# (a text/plain body that looks like a message is read as one AND as the text a client shows).
_TEXT_READERS = {"text_files", "xmldoc"}


def _reader_module(handler: Handler | None) -> str | None:
    """The content/ module a reader lives in (`text_files`), or None without a reader."""
    return None if handler is None else handler.__module__.rsplit(".", 1)[-1]

# Runs of printable characters (what `strings` prints) in binary data declared as text.
_PRINTABLE_RUN = re.compile(r"[^\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd]{4,}")
_ARMOUR = re.compile(rb"^[ \t>]*-----BEGIN PGP MESSAGE-----", re.M)
# PKESK (tag 1) and SKESK (tag 3) packets in old and new OpenPGP packet format: the first
# packet of every `gpg -e` / `gpg -c` output, with the versions RFC 4880/9580 define.
_OPENPGP_VERSIONS = {1: {3, 6}, 3: {4, 5, 6}}


def _packet(data: bytes, at: int) -> tuple[int, int, int] | None:
    """(tag, body offset, body length) of the OpenPGP packet header at `at`, or None."""
    if at + 2 > len(data) or not data[at] & 0x80:
        return None
    if data[at] & 0x40:  # new format: tag in the low six bits, then a 1, 2 or 5-byte length
        tag, first = data[at] & 0x3F, data[at + 1]
        if first < 192:
            return tag, at + 2, first
        if first < 224 and at + 3 <= len(data):
            return tag, at + 3, ((first - 192) << 8) + data[at + 2] + 192
        if first == 255 and at + 6 <= len(data):
            return tag, at + 6, int.from_bytes(data[at + 2:at + 6], "big")
        return None
    kind = data[at] & 0x03  # old format: tag in bits 5-2, then a 1, 2 or 4-byte length
    size = {0: 1, 1: 2, 2: 4}.get(kind)
    if size is None or at + 1 + size > len(data):
        return None
    return (data[at] >> 2) & 0x0F, at + 1 + size, int.from_bytes(data[at + 1:at + 1 + size], "big")


def _openpgp_message(data: bytes) -> bool:
    """True when `data` starts with an OpenPGP session-key packet (binary `.gpg`/`.pgp`)
    of a known version and algorithm, followed by another session-key packet or by the
    encrypted data packet (tags 9, 18, 20): a random blob passes all of that about once
    in 10^7, where the first packet alone matched one in 5,000."""
    first = _packet(data, 0)
    if first is None:
        return False
    tag, offset, length = first
    if tag not in _OPENPGP_VERSIONS or len(data) < offset + 10 or data[offset] not in _OPENPGP_VERSIONS[tag]:
        return False
    # A PKESK v3 names a public-key algorithm after the 8-byte key id; an SKESK v4 a cipher.
    if tag == 1 and data[offset] == 3 and data[offset + 9] not in {1, 2, 16, 18, 20, 22, 25, 26}:
        return False
    if tag == 3 and data[offset] == 4 and not 1 <= data[offset + 1] <= 13:
        return False
    following = _packet(data, offset + length)
    return following is not None and following[0] in {1, 3, 9, 18, 20}


def encrypted_by(data: bytes, *, textual: bool) -> str | None:
    """The tool that encrypted `data`, by its fixed magic: a binary OpenPGP message, an
    `openssl enc` file (`Salted__`), an age file, or, in a text, an inline PGP armour block
    anywhere (Thunderbird and Mailvelope decrypt those wherever they are). None otherwise."""
    if data.startswith(b"Salted__") and len(data) >= 32:
        return "openssl enc"
    if data.startswith((b"age-encryption.org/v1\n", b"-----BEGIN AGE ENCRYPTED FILE-----")):
        return "age"
    if _openpgp_message(data):
        return "OpenPGP"
    if textual and b"-----BEGIN PGP MESSAGE-----" in data and _ARMOUR.search(data):  # `in` first: 20x faster
        return "inline OpenPGP block"
    return None


def _declared_as_text(declared_type: str | None) -> bool:
    """True for text/plain and the other text/* types a client shows as plain text
    (text/csv, text/markdown...), not for HTML, RTF, XML or calendars, which have readers of their own."""
    declared = filetype.normalise(declared_type)
    if declared == "text/plain":
        return True
    if not declared.startswith("text/") or declared in ("text/calendar", "text/vcard", "text/x-vcard"):
        return False
    handler = dispatch(declared)
    return handler is not None and getattr(handler, "__name__", "") == "read_text"


def dispatch(true_type: str) -> Handler | None:
    """The reader for a true type, or None when no reader exists."""
    import importlib

    for matches, module, function in _READERS:
        if matches(true_type):
            handler: Handler = getattr(importlib.import_module(f"dlp_gateway.content.{module}"), function)
            return handler
    return None


def warm_up() -> None:
    """Import every reader and load libmagic now (call once when a worker starts), so the
    first message a worker inspects does not pay for it."""
    for _, module, _ in _READERS:
        __import__(f"dlp_gateway.content.{module}")
    filetype.true_type(b"warm-up")  # plain text: libmagic's binary tests only
    filetype.true_type(b"\x00warm-up")  # anything else: the full libmagic call
