"""Legacy OLE2 files: .doc, .xls, .ppt (best effort), Outlook .msg, encrypted Office.

The binary Office formats keep text in streams laid out by piece tables and records; this
reader does not rebuild them. It reads the document properties and the UTF-16 and 8-bit
text runs of the main streams, which finds most prose, and records an `unsupported`
problem saying the text may be incomplete, so the policy can decide. A password-protected
OOXML file is an OLE container with an `EncryptedPackage` stream: recorded `encrypted`.
Outlook .msg files give their subject, body and attachments properly.
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


def _property(ole: olefile.OleFileIO, prefix: str, tag: str) -> str | None:
    for suffix, encoding in (("001F", "utf-16-le"), ("001E", "cp1252")):
        name = f"{prefix}__substg1.0_{tag}{suffix}"
        if ole.exists(name):
            return ole.openstream(name).read().decode(encoding, "replace").rstrip("\x00")
    return None


def _read_msg(reader: Reader, ole: olefile.OleFileIO, streams: list[str], location: str, depth: int) -> None:
    subject = _property(ole, "", "0037")
    if subject:
        reader.segment(subject, join(location, "subject"), location, "subject")
    body = _property(ole, "", "1000")
    if body:
        reader.segment(body, join(location, "body"), location, "body")
    storages = sorted({s.split("/")[0] for s in streams if s.startswith("__attach_version1.0_")})
    for storage in storages:
        name = _property(ole, storage + "/", "3707") or _property(ole, storage + "/", "3704") or storage
        stream = f"{storage}/__substg1.0_37010102"
        if not ole.exists(stream):
            continue
        where = reader.unique_location(join(location, name))
        if ole.get_size(stream) > reader.budget.bytes_allowed():
            reader.limit(where, reader.budget.byte_limit_name(), "attachment too large; not read")
            continue
        reader.read_file(ole.openstream(stream).read(), where, filename=name, declared_type=None, depth=depth + 1)
