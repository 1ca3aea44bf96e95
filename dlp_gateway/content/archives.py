"""Archives: ZIP (and ZIP64), TAR, GZIP, BZIP2, XZ, 7z, nested in any order; RAR listed, and
read where it can be.

Every member goes back through `Reader.read_file`, so an archive in an archive in a PDF is
read like any other file, and depth, member and byte limits apply everywhere. Bombs are
stopped before they cost memory: a member's declared size is checked against the byte
budget and its declared compression ratio against `max_compression_ratio` before it is
opened, and the actual bytes are counted again while decompressing (headers can lie).
ZIPs whose members overlap one another (the overlapping-entry bomb) are refused whole.
Encrypted members are recorded as `encrypted`, never skipped silently.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import posixpath
import tarfile
import zipfile
from typing import IO, TYPE_CHECKING

from dlp_gateway.content.walk import ARCHIVE_TYPES, join
from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader

__all__ = ["ARCHIVE_TYPES", "read_archive", "read_bounded", "open_container"]
_CHUNK = 1024 * 1024


def read_archive(reader: Reader, data: bytes, location: str, depth: int, **_: object) -> None:
    if data[:4] == b"PK\x03\x04" or data[:4] in (b"PK\x05\x06", b"PK\x07\x08"):
        _read_zip(reader, data, location, depth)
    elif data[:2] == b"\x1f\x8b":
        _read_stream(reader, data, location, depth, "gzip")
    elif data[:3] == b"BZh":
        _read_stream(reader, data, location, depth, "bzip2")
    elif data[:6] == b"\xfd7zXZ\x00" or data[:3] == b"\x5d\x00\x00":
        _read_stream(reader, data, location, depth, "xz")
    elif data[:6] == b"7z\xbc\xaf\x27\x1c":
        _read_7z(reader, data, location, depth)
    elif data[:4] == b"Rar!":
        _read_rar(reader, data, location, depth)
    elif len(data) > 262 and data[257:262] == b"ustar" or _is_tar(data):
        _read_tar(reader, data, location, depth)
    else:
        reader.problem(ProblemKind.UNSUPPORTED, location, "archive format not recognised")


def _is_tar(data: bytes) -> bool:
    try:
        return tarfile.is_tarfile(io.BytesIO(data))
    except Exception:
        return False


def _bomb(reader: Reader, location: str, size: int, compressed: int) -> bool:
    """True (and recorded) when `size` bytes from `compressed` bytes exceed the ratio limit."""
    limits = reader.limits
    if size <= limits.compression_ratio_min_bytes:
        return False
    ratio = size / max(1, compressed)
    if ratio > limits.max_compression_ratio:
        reader.limit(location, "max_compression_ratio",
                     f"expands {ratio:.0f}:1 (limit {limits.max_compression_ratio:g}:1); not read as a likely bomb")
        return True
    return False


def _too_big(reader: Reader, location: str, size: int) -> bool:
    if size > reader.budget.bytes_allowed():
        name = reader.budget.byte_limit_name()
        reader.limit(location, name, f"{size} bytes would exceed {name}; not read")
        return True
    return False


def read_bounded(reader: Reader, stream: IO[bytes], location: str, compressed: int) -> bytes | None:
    """Read a decompressing stream to its end, stopping (and recording) as soon as it
    exceeds the byte budget or the compression ratio. None when stopped."""
    allowed = reader.budget.bytes_allowed()
    chunks: list[bytes] = []
    total = 0
    while True:
        if reader.timed_out(location):
            return None
        chunk = stream.read(min(_CHUNK, allowed + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > allowed:
            name = reader.budget.byte_limit_name()
            reader.limit(location, name, f"more than {allowed} bytes when decompressed; not read")
            return None
        if _bomb(reader, location, total, compressed):
            return None
    return b"".join(chunks)


# --------------------------------------------------------------------------- ZIP

def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its creator meant it. Without the UTF-8 flag, ZIP names are in
    the creating system's code page (Big5 on Taiwanese Windows, GBK on Chinese), which
    zipfile reads as cp437 mojibake; try UTF-8, then cp950, then GB18030."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    if raw.isascii():
        return info.filename
    for encoding in ("utf-8", "cp950", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _overlapping(infos: list[zipfile.ZipInfo], archive_size: int) -> bool:
    """True when a member's data reaches into the next member's header (or points outside)."""
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for current, following in zip(ordered, ordered[1:], strict=False):
        minimum_end = current.header_offset + 30 + len(current.orig_filename.encode("utf-8", "replace")) + current.compress_size
        if following.header_offset < minimum_end:
            return True
    return bool(ordered) and ordered[-1].header_offset + ordered[-1].compress_size > archive_size


def open_container(reader: Reader, data: bytes, location: str, what: str) -> zipfile.ZipFile | None:
    """Open a ZIP-based container (Office, ODF) for a library to read, or record why not.

    Unreadable ZIPs are `corrupt`; overlapping members, a total size beyond the byte
    budget or a bomb ratio stop it before the library reads all of it."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # BadZipFile, NotImplementedError (version), OSError...
        reader.problem(ProblemKind.CORRUPT, location, f"unreadable {what}: {exc}")
        return None
    infos = zf.infolist()
    if _overlapping(infos, len(data)):
        reader.limit(location, "max_compression_ratio", "ZIP members overlap one another (overlapping-entry bomb); not read")
    else:
        total = sum(i.file_size for i in infos)
        if not _too_big(reader, location, total) and not _bomb(reader, location, total, len(data)):
            return zf
    zf.close()
    return None


def _read_zip(reader: Reader, data: bytes, location: str, depth: int) -> None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # BadZipFile, NotImplementedError (version), OSError...
        reader.problem(ProblemKind.CORRUPT, location, f"unreadable ZIP: {exc}")
        return
    with zf:
        infos = zf.infolist()
        if _overlapping(infos, len(data)):
            reader.limit(location, "max_compression_ratio",
                         "ZIP members overlap one another (overlapping-entry bomb); not read")
            return
        for info in infos:
            if reader.timed_out(location) or reader.members_exhausted(location):
                return
            if info.is_dir():
                continue
            name = member_name(info)
            where = reader.unique_location(join(location, name))
            if info.flag_bits & 0x1:
                reader.segment(name, where, where, "filename")
                reader.problem(ProblemKind.ENCRYPTED, where, "encrypted ZIP member; content not readable")
                continue
            if _too_big(reader, where, info.file_size) or _bomb(reader, where, info.file_size, info.compress_size):
                reader.segment(name, where, where, "filename")
                continue
            try:
                with zf.open(info) as stream:
                    member = read_bounded(reader, stream, where, info.compress_size)
            except NotImplementedError as exc:
                reader.segment(name, where, where, "filename")
                reader.problem(ProblemKind.UNSUPPORTED, where, f"ZIP member not readable: {exc}")
                continue
            except Exception as exc:  # zlib.error, BadZipFile, CRC errors...: this member only
                reader.segment(name, where, where, "filename")
                reader.problem(ProblemKind.CORRUPT, where, f"damaged ZIP member: {type(exc).__name__}: {exc}"[:300])
                continue
            if member is None:
                reader.segment(name, where, where, "filename")
                continue
            reader.read_file(member, where, filename=name, declared_type=None, depth=depth + 1)


# --------------------------------------------------------------------------- single-stream compressors

def _stream_name(data: bytes, location: str, fmt: str) -> str:
    if fmt == "gzip" and data[3:4] and data[3] & 0x08:
        # FNAME follows the 10-byte header (after FEXTRA if present).
        offset = 10
        if data[3] & 0x04:
            offset += 2 + int.from_bytes(data[10:12], "little")
        end = data.find(b"\x00", offset, offset + 1024)
        if end > offset:
            return posixpath.basename(data[offset:end].decode("latin-1"))
    last = location.rsplit(" › ", 1)[-1]
    for suffix, replacement in ((".tgz", ".tar"), (".gz", ""), (".bz2", ""), (".xz", ""), (".lzma", "")):
        if last.lower().endswith(suffix) and len(last) > len(suffix):
            return last[: -len(suffix)] + replacement
    return "decompressed"


def _read_stream(reader: Reader, data: bytes, location: str, depth: int, fmt: str) -> None:
    openers = {
        "gzip": lambda f: gzip.GzipFile(fileobj=f),
        "bzip2": bz2.BZ2File,
        "xz": lzma.LZMAFile,
    }
    opener = openers[fmt]
    name = _stream_name(data, location, fmt)
    where = join(location, name)
    try:
        with opener(io.BytesIO(data)) as stream:
            inner = read_bounded(reader, stream, where, len(data))
    except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
        reader.problem(ProblemKind.CORRUPT, location, f"damaged {fmt} stream: {exc}")
        return
    if inner is not None:
        reader.read_file(inner, where, filename=name, declared_type=None, depth=depth + 1)


# --------------------------------------------------------------------------- TAR

def _read_tar(reader: Reader, data: bytes, location: str, depth: int) -> None:
    try:
        tf = tarfile.open(fileobj=io.BytesIO(data), mode="r:")  # noqa: SIM115 (closed below)
    except (tarfile.TarError, OSError) as exc:
        reader.problem(ProblemKind.CORRUPT, location, f"unreadable TAR: {exc}")
        return
    with tf:
        try:
            for member in tf:
                if reader.timed_out(location) or reader.members_exhausted(location):
                    return
                if not member.isfile():
                    continue
                where = reader.unique_location(join(location, member.name))
                if _too_big(reader, where, member.size):
                    reader.segment(member.name, where, where, "filename")
                    continue
                stream = tf.extractfile(member)
                if stream is None:
                    continue
                reader.read_file(stream.read(member.size), where, filename=member.name,
                                 declared_type=None, depth=depth + 1)
        except (tarfile.TarError, OSError, EOFError) as exc:
            reader.problem(ProblemKind.CORRUPT, location, f"damaged TAR: {exc}")


# --------------------------------------------------------------------------- 7z

def _read_7z(reader: Reader, data: bytes, location: str, depth: int) -> None:
    import py7zr
    from py7zr.io import BytesIOFactory

    try:
        archive = py7zr.SevenZipFile(io.BytesIO(data), mode="r")
    except py7zr.PasswordRequired:
        reader.problem(ProblemKind.ENCRYPTED, location, "7z archive with encrypted names and content; not readable")
        return
    except Exception as exc:
        text = str(exc).lower()
        if "password" in text:
            reader.problem(ProblemKind.ENCRYPTED, location, "encrypted 7z archive; not readable")
        else:
            reader.problem(ProblemKind.CORRUPT, location, f"unreadable 7z: {exc}")
        return
    with archive:
        files = [f for f in archive.list() if not f.is_directory]
        if archive.needs_password():
            for info in files:
                where = join(location, info.filename)
                reader.segment(info.filename, where, where, "filename")
                reader.problem(ProblemKind.ENCRYPTED, where, "encrypted 7z member; content not readable")
            return
        wanted: list[str] = []
        for info in files:
            where = join(location, info.filename)
            size = int(info.uncompressed or 0)
            if _too_big(reader, where, size):
                reader.segment(info.filename, where, where, "filename")
                continue
            wanted.append(info.filename)
        total = sum(int(f.uncompressed or 0) for f in files if f.filename in wanted)
        if _bomb(reader, location, total, len(data)) or not wanted:
            return
        if len(files) > reader.limits.max_members:
            reader.limit(location, "max_members", f"{len(files)} members; not read")
            return
        factory = BytesIOFactory(reader.budget.bytes_allowed() + 1)
        try:
            archive.extract(targets=wanted, factory=factory)
        except Exception as exc:
            reader.problem(ProblemKind.CORRUPT, location, f"damaged 7z: {exc}")
            return
    for name in wanted:
        where = reader.unique_location(join(location, name))
        try:
            product = factory.get(name)
        except KeyError:
            continue
        product.seek(0)
        reader.read_file(product.read(), where, filename=name, declared_type=None, depth=depth + 1)


# --------------------------------------------------------------------------- RAR

def _read_rar(reader: Reader, data: bytes, location: str, depth: int) -> None:
    """RAR: members are always listed (names scanned); stored members are read directly,
    compressed ones only when an external extractor (unrar, unar, 7z with RAR support)
    is installed; otherwise each is recorded `unsupported`."""
    import rarfile

    try:
        archive = rarfile.RarFile(io.BytesIO(data))
    except rarfile.NeedFirstVolume as exc:
        reader.problem(ProblemKind.UNSUPPORTED, location, f"part of a multi-volume RAR: {exc}"[:300])
        return
    except rarfile.PasswordRequired:
        reader.problem(ProblemKind.ENCRYPTED, location, "RAR archive with encrypted names and content; not readable")
        return
    except Exception as exc:
        reader.problem(ProblemKind.CORRUPT, location, f"unreadable RAR: {exc}"[:300])
        return
    with archive:
        infos = archive.infolist()
        if not infos:
            reader.problem(ProblemKind.UNSUPPORTED, location, "RAR archive: no members could be listed")
        for info in infos:
            if reader.timed_out(location) or reader.members_exhausted(location):
                return
            if info.is_dir():
                continue
            where = reader.unique_location(join(location, info.filename))
            if info.needs_password():
                reader.segment(info.filename, where, where, "filename")
                reader.problem(ProblemKind.ENCRYPTED, where, "encrypted RAR member; content not readable")
                continue
            if _too_big(reader, where, info.file_size) or _bomb(reader, where, info.file_size, info.compress_size):
                reader.segment(info.filename, where, where, "filename")
                continue
            try:
                with archive.open(info) as stream:
                    member = read_bounded(reader, stream, where, info.compress_size)
            except Exception as exc:  # no extractor installed, or damaged data
                reader.segment(info.filename, where, where, "filename")
                reader.problem(ProblemKind.UNSUPPORTED, where,
                               f"RAR member listed but not extracted ({type(exc).__name__}: {exc})"[:300])
                continue
            if member is None:
                reader.segment(info.filename, where, where, "filename")
                continue
            reader.read_file(member, where, filename=info.filename, declared_type=None, depth=depth + 1)
