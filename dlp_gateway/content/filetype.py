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
# Extensions mimetypes does not know (or knows wrongly) on every system.
_EXTENSIONS = {
    ".di": "text/xml", ".sw": "text/xml", ".si": "text/xml", ".eml": "message/rfc822",
    ".7z": "application/x-7z-compressed", ".rar": "application/vnd.rar",
    ".xz": "application/x-xz", ".bz2": "application/x-bzip2", ".gz": "application/gzip",
    ".tgz": "application/gzip", ".rtf": "text/rtf", ".msg": "application/x-ole-storage",
}


@lru_cache(maxsize=1)
def _magic() -> magic.Magic:
    return magic.Magic(mime=True)


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
_MESSAGE_HEADERS = re.compile(rb"^(from|to|subject|date|message-id|received|mime-version|return-path):", re.I | re.M)


def true_type(data: bytes) -> str:
    """The content's MIME type by libmagic, refined for OOXML/ODF, XML and messages."""
    if not data:
        return "application/x-empty"
    try:
        mime = normalise(_magic().from_buffer(data[: 1024 * 1024]))
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
    if mime == "message/rfc822":
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
