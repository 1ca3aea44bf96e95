"""Legacy OLE2 files: .doc, .xls, .ppt, Outlook .msg, encrypted Office.

Word 97-2003 (.doc) text is rebuilt from the piece table (FIB → Clx → PlcPcd), split into
its stories: body, footnotes, headers/footers, comments, endnotes, text boxes. Excel and
PowerPoint binaries (and a .doc whose piece table cannot be read) are read best effort:
the document properties and the UTF-16 and 8-bit text runs of the main streams, which
finds most prose, with an `unsupported` problem saying the text may be incomplete, so the
policy can decide. A password-protected
OOXML file is an OLE container with an `EncryptedPackage` stream: recorded `encrypted`.
Outlook .msg files give their subject, every body (plain, HTML, compressed RTF),
attachments and attached messages (recursively).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import olefile

from dlp_gateway.content.walk import join
from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader

_UTF16_RUN = re.compile(rb"(?:[\x20-\x7e\t\r\n]\x00|[\x00-\xff][\x2e-\x9f\xac-\xd7\xf9-\xff]){4,}")
_ASCII_RUN = re.compile(rb"[\x20-\x7e\t\r\n]{6,}")
_MAIN_STREAMS = {"WordDocument": "Word", "Workbook": "Excel", "Book": "Excel", "PowerPoint Document": "PowerPoint"}
_META_FIELDS = ("title", "subject", "author", "keywords", "comments", "last_saved_by", "company", "category", "manager")


def _runs(data: bytes) -> str:
    texts = [m.group(0).decode("utf-16-le", "ignore") for m in _UTF16_RUN.finditer(data)]
    texts += [m.group(0).decode("latin-1") for m in _ASCII_RUN.finditer(data)]
    lines = (" ".join(t.split()) for t in texts)
    return "\n".join(line for line in lines if len(line) >= 2)


def read_ole(reader: Reader, data: bytes, location: str, depth: int, **_: object) -> None:
    try:
        ole = olefile.OleFileIO(data)
    except Exception as exc:
        reader.problem(ProblemKind.CORRUPT, location, f"unreadable OLE file: {exc}")
        return
    with ole:
        streams = ["/".join(s) for s in ole.listdir(streams=True, storages=False)]
        if "EncryptedPackage" in streams or "EncryptionInfo" in streams:
            reader.problem(ProblemKind.ENCRYPTED, location, "password-protected Office document; not readable")
            return
        _read_metadata(reader, ole, location)
        if any(s.startswith("__substg1.0_") for s in streams):
            _read_msg(reader, ole, streams, location, depth)
            return
        if _read_ole_object(reader, ole, location, depth):
            return
        _read_pooled_objects(reader, ole, streams, location, depth)
        if ole.exists("WordDocument") and _read_word97(reader, ole, location):
            return
        found = [name for name in _MAIN_STREAMS if ole.exists(name)]
        if not found:
            reader.problem(ProblemKind.UNSUPPORTED, location, "OLE file of unknown kind; content not inspected")
            return
        for name in found:
            size = ole.get_size(name)
            if size > reader.budget.bytes_allowed():
                reader.limit(location, reader.budget.byte_limit_name(), f"{name} stream of {size} bytes not read")
                continue
            reader.segment(_runs(ole.openstream(name).read()), join(location, "body"), location, "body")
            reader.problem(ProblemKind.UNSUPPORTED, location,
                           f"legacy binary {_MAIN_STREAMS[name]} format: text read best effort, may be incomplete")


def ole10native(raw: bytes) -> tuple[str | None, bytes]:
    """Unwrap an `\\x01Ole10Native` stream: (file name, file bytes).

    The Packager layout (MS-OLEDS 2.3.6 plus the Packager's own fields): total size, a
    flag word, the label and the source path as NUL-terminated ANSI strings, two words,
    the temp path (length-prefixed), then the file (length-prefixed), optionally followed
    by Unicode copies of the names. Other native data (no Packager header) is returned
    whole, without a name.
    """
    import struct

    (size,) = struct.unpack_from("<I", raw, 0)
    body = raw[4: 4 + size]
    try:
        label_end = body.index(b"\0", 2)
        label = body[2:label_end]
        path_end = body.index(b"\0", label_end + 1)
        pos = path_end + 1 + 4
        (temp_len,) = struct.unpack_from("<I", body, pos)
        pos += 4 + temp_len
        (data_len,) = struct.unpack_from("<I", body, pos)
        pos += 4
        if pos + data_len > len(body):
            raise ValueError("not a Packager object")
        data = body[pos: pos + data_len]
        pos += data_len
        name = None
        try:  # Unicode temp path, then Unicode label
            (n,) = struct.unpack_from("<I", body, pos)
            pos += 4 + 2 * n
            (n,) = struct.unpack_from("<I", body, pos)
            name = body[pos + 4: pos + 4 + 2 * n].decode("utf-16-le") or None
        except (struct.error, UnicodeDecodeError):
            pass
        if not name:
            for encoding in ("utf-8", "cp950", "cp1252"):
                try:
                    name = label.decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
        return name or None, data
    except (ValueError, struct.error):
        return None, body


def _read_ole_object(reader: Reader, ole: olefile.OleFileIO, location: str, depth: int) -> bool:
    """An embedded OLE object (Office's `oleObject1.bin`): the file it wraps is read.

    A Packager object (`\\x01Ole10Native`) wraps any file (a .txt, .pdf, .zip dragged into
    a document); an embedded Office 2007+ document is its ZIP in a `Package` stream; an
    embedded PDF or similar server's data is in `CONTENTS`. False when none of these."""
    if ole.exists("\x01Ole10Native"):
        name, payload = ole10native(ole.openstream("\x01Ole10Native").read())
        where = reader.unique_location(join(location, name or "native data"))
        reader.read_file(payload, where, filename=name, declared_type=None, depth=depth + 1)
        return True
    if any(ole.exists(main) for main in _MAIN_STREAMS):
        return False  # an embedded .doc/.xls/.ppt is read as what it is
    for stream in ("Package", "CONTENTS"):
        if ole.exists(stream):
            if ole.get_size(stream) > reader.budget.bytes_allowed():
                reader.limit(location, reader.budget.byte_limit_name(), f"{stream} stream too large; not read")
                return True
            where = reader.unique_location(join(location, stream.lower()))
            reader.read_file(ole.openstream(stream).read(), where, filename=None, declared_type=None, depth=depth + 1)
            return True
    return False


def _read_metadata(reader: Reader, ole: olefile.OleFileIO, location: str) -> None:
    try:
        meta = ole.get_metadata()
    except Exception:
        return
    lines = []
    for field in _META_FIELDS:
        value = getattr(meta, field, None)
        if isinstance(value, bytes):
            value = value.decode("cp1252", "replace")
        if value:
            lines.append(f"{field}: {value}")
    reader.segment("\n".join(lines), join(location, "properties"), location, "metadata")


def _read_pooled_objects(reader: Reader, ole: olefile.OleFileIO, streams: list[str], location: str,
                         depth: int) -> None:
    """Objects embedded in a .doc (`ObjectPool/_NNN/`) or .xls (`MBD…/`): a Packager
    object's file, an embedded Office 2007+ package, or a server's `CONTENTS`, each read
    as a file (`c.doc › plan.txt`)."""
    wanted = ("\x01Ole10Native", "Package", "CONTENTS")
    for stream in streams:
        storage, _, leaf = stream.rpartition("/")
        if not storage or leaf not in wanted or reader.timed_out(location):
            continue
        if leaf != "\x01Ole10Native" and f"{storage}/\x01Ole10Native" in streams:
            continue  # one object, read once through its native data
        if ole.get_size(stream) > reader.budget.bytes_allowed():
            reader.limit(join(location, storage), reader.budget.byte_limit_name(), "embedded object too large; not read")
            continue
        data = ole.openstream(stream).read()
        name: str | None = None
        if leaf == "\x01Ole10Native":
            name, data = ole10native(data)
        where = reader.unique_location(join(location, name or storage.rsplit("/", 1)[-1]))
        reader.read_file(data, where, filename=name, declared_type=None, depth=depth + 1)


def _property(ole: olefile.OleFileIO, prefix: str, tag: str, codepage: str = "cp1252") -> str | None:
    for suffix, encoding in (("001F", "utf-16-le"), ("001E", codepage)):
        name = f"{prefix}__substg1.0_{tag}{suffix}"
        if ole.exists(name):
            return ole.openstream(name).read().decode(encoding, "replace").rstrip("\x00")
    return None


# PR_INTERNET_CPID and PR_MESSAGE_CODEPAGE, as fixed-size entries of __properties_version1.0
_CODEPAGE_TAGS = (0x3FDE0003, 0x3FFD0003)


def msg_codepage(ole: olefile.OleFileIO, prefix: str) -> str | None:
    """The code page of a message's 8-bit strings (an "ANSI" .msg from a Chinese Outlook
    stores its body in cp950 or cp936), from its property stream; None when not stated.

    The stream (MS-OXMSG 2.4) is a header (32 bytes for a top-level message, 24 for an
    attached one) followed by 16-byte entries: tag, flags, 8-byte value.
    """
    import struct

    name = f"{prefix}__properties_version1.0"
    if not ole.exists(name):
        return None
    data = ole.openstream(name).read()
    header = 32 if not prefix else 24
    found: dict[int, int] = {}
    for pos in range(header, len(data) - 15, 16):
        tag, _flags, value = struct.unpack_from("<III", data, pos)
        if tag in _CODEPAGE_TAGS:
            found[tag] = value
    from dlp_gateway.content.text import codec_for_codepage

    for tag in _CODEPAGE_TAGS:
        codec = codec_for_codepage(found.get(tag) or 0) if found.get(tag) else None
        if codec:
            return codec
    return None


def _binary(ole: olefile.OleFileIO, prefix: str, tag: str) -> bytes | None:
    name = f"{prefix}__substg1.0_{tag}0102"
    return ole.openstream(name).read() if ole.exists(name) else None


def _read_msg(reader: Reader, ole: olefile.OleFileIO, streams: list[str], location: str, depth: int,
              prefix: str = "") -> None:
    """One Outlook message (MS-OXMSG) whose property streams are under `prefix`.

    Every body a client may show is read: plain (PR_BODY), HTML (PR_HTML, often the only
    body), compressed RTF (PR_RTF_COMPRESSED, the only body of many rich-text messages).
    Attachments by value go back through `Reader.read_file`; an attached message (attach
    method 5) is a storage, read here recursively; an attached OLE object (method 6) is
    a storage too: a Packager object or an embedded package is unwrapped and read, any
    other kind read best effort and recorded `unsupported`.
    """
    codepage = msg_codepage(ole, prefix)
    subject = _property(ole, prefix, "0037", codepage or "cp1252")
    if subject:
        reader.segment(subject, join(location, "subject"), location, "subject")
    body = _property(ole, prefix, "1000", codepage or "cp1252")
    if body:
        reader.segment(body, join(location, "body"), location, "body")
    html = _binary(ole, prefix, "1013")
    if html is None:
        text = _property(ole, prefix, "1013", codepage or "cp1252")
        html = text.encode("utf-8") if text else None
        codepage = "utf-8" if text else codepage
    if html and html.strip(b"\0"):
        reader.read_file(html.rstrip(b"\0"), reader.unique_location(join(location, "body (html)")),
                         filename=None, declared_type="text/html", depth=depth + 1, charset=codepage)
    rtf = _binary(ole, prefix, "1009")
    if rtf and len(rtf) >= 16:
        from dlp_gateway.content.tnef import decompress_rtf

        size = int.from_bytes(rtf[:4], "little") + 4  # the stream may be padded beyond it
        text_rtf = decompress_rtf(reader, rtf[:size], location)
        if text_rtf:
            reader.read_file(text_rtf, reader.unique_location(join(location, "body (rtf)")),
                             filename=None, declared_type="text/rtf", depth=depth + 1)
    storages = sorted({s[len(prefix):].split("/")[0] for s in streams
                       if s.startswith(prefix + "__attach_version1.0_")})
    for storage in storages:
        if reader.timed_out(location):
            return
        here = f"{prefix}{storage}/"
        cp = codepage or "cp1252"
        name = (_property(ole, here, "3707", cp) or _property(ole, here, "3704", cp)
                or _property(ole, here, "3001", cp) or storage)
        where = reader.unique_location(join(location, name))
        embedded = f"{here}__substg1.0_3701000D/"
        if any(s.startswith(embedded) for s in streams):
            _read_embedded(reader, ole, streams, where, depth + 1, embedded)
            continue
        stream = f"{here}__substg1.0_37010102"
        if not ole.exists(stream):
            continue
        if ole.get_size(stream) > reader.budget.bytes_allowed():
            reader.limit(where, reader.budget.byte_limit_name(), "attachment too large; not read")
            continue
        reader.read_file(ole.openstream(stream).read(), where, filename=name, declared_type=None, depth=depth + 1)


def _read_embedded(reader: Reader, ole: olefile.OleFileIO, streams: list[str], location: str,
                   depth: int, prefix: str) -> None:
    """An attachment stored as a storage: an attached message, or else an OLE object."""
    if depth > reader.limits.max_depth:
        reader.limit(location, "max_depth", f"nested deeper than {reader.limits.max_depth} levels; not read")
        return
    if reader.budget.take_member():
        reader.limit(location, "max_members", f"more than {reader.limits.max_members} parts and members; the rest not read")
        return
    inner = [s for s in streams if s.startswith(prefix)]
    if any(s[len(prefix):].startswith("__substg1.0_") for s in inner):
        _read_msg(reader, ole, streams, location, depth, prefix)
        return
    if prefix + "\x01Ole10Native" in inner:  # a Packager object: the file dragged into the mail
        name, payload = ole10native(ole.openstream(prefix + "\x01Ole10Native").read())
        where = reader.unique_location(join(location, name or "native data"))
        reader.read_file(payload, where, filename=name, declared_type=None, depth=depth + 1)
        return
    for stream in ("Package", "CONTENTS"):
        if prefix + stream in inner and ole.get_size(prefix + stream) <= reader.budget.bytes_allowed():
            reader.read_file(ole.openstream(prefix + stream).read(), reader.unique_location(join(location, stream.lower())),
                             filename=None, declared_type=None, depth=depth + 1)
            return
    texts = []
    for stream in inner:
        if ole.get_size(stream) <= reader.budget.bytes_allowed():
            texts.append(_runs(ole.openstream(stream).read()))
    reader.segment("\n".join(texts), location, location, "body")
    reader.problem(ProblemKind.UNSUPPORTED, location,
                   "OLE object attached to an Outlook message: text read best effort, may be incomplete")


# Word 97 stories in CP order, with the FibRgLw97 offset of each one's length (ccp*).
_STORIES = (
    ("body", "body", 0x4C), ("notes", "note", 0x50), ("header", "header_band", 0x54),
    ("macros", "body", 0x58), ("comments", "comment", 0x5C), ("endnotes", "note", 0x60),
    ("text boxes", "body", 0x64), ("header text boxes", "header_band", 0x68),
)
_FIELD_CODE = re.compile(r"\x13[^\x13\x14\x15]*\x14|\x13[^\x13\x14\x15]*\x15")
_WORD_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")


def _word_text(raw: str) -> str:
    text = _FIELD_CODE.sub("", raw)
    text = text.replace("\r", "\n").replace("\x07", "\t").replace("\x0b", "\n").replace("\x0c", "\n")
    return _WORD_CONTROL.sub("", text)


def word97_text(word: bytes, table: bytes) -> str:
    """All text of a Word 97 document in CP order, from the piece table."""
    import struct

    fc_clx, lcb_clx = struct.unpack_from("<II", word, 0x1A2)
    clx = table[fc_clx: fc_clx + lcb_clx]
    pos = 0
    while pos < len(clx) and clx[pos] == 0x01:  # Prc: property modifiers, skipped
        pos += 3 + struct.unpack_from("<H", clx, pos + 1)[0]
    if pos >= len(clx) or clx[pos] != 0x02:
        raise ValueError("no piece table in the Clx")
    (size,) = struct.unpack_from("<I", clx, pos + 1)
    plc = clx[pos + 5: pos + 5 + size]
    pieces = (len(plc) - 4) // 12
    cps = struct.unpack_from(f"<{pieces + 1}I", plc, 0)
    out: list[str] = []
    for index in range(pieces):
        count = cps[index + 1] - cps[index]
        (fc,) = struct.unpack_from("<I", plc, 4 * (pieces + 1) + 8 * index + 2)
        if fc & 0x40000000:  # compressed: 8-bit cp1252 at fc/2
            start = (fc & 0x3FFFFFFF) // 2
            out.append(word[start: start + count].decode("cp1252", "replace"))
        else:
            out.append(word[fc: fc + 2 * count].decode("utf-16-le", "replace"))
    return "".join(out)


def _read_word97(reader: Reader, ole: olefile.OleFileIO, location: str) -> bool:
    """Read a .doc by its piece table; False (nothing recorded) when it cannot be."""
    import struct

    try:
        word = ole.openstream("WordDocument").read()
        if struct.unpack_from("<H", word, 0)[0] != 0xA5EC:
            return False
        flags = struct.unpack_from("<H", word, 0x0A)[0]
        if flags & 0x0100:  # fEncrypted
            reader.problem(ProblemKind.ENCRYPTED, location, "password-protected Word document; not readable")
            return True
        table_name = "1Table" if flags & 0x0200 else "0Table"
        if not ole.exists(table_name):
            return False
        text = word97_text(word, ole.openstream(table_name).read())
        lengths = [struct.unpack_from("<I", word, offset)[0] for _, _, offset in _STORIES]
    except Exception:
        return False
    start = 0
    for (name, kind, _), length in zip(_STORIES, lengths, strict=True):
        if length:
            reader.segment(_word_text(text[start: start + length]), join(location, name), location, kind)
        start += length
    if start < len(text) and not any(lengths):
        reader.segment(_word_text(text), join(location, "body"), location, "body")
    return True
