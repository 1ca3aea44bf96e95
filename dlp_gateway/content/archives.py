"""Archives: ZIP (and ZIP64), TAR, GZIP, BZIP2, XZ, 7z, nested in any order; RAR listed, and
read where it can be.

Every member goes back through `Reader.read_file`, so an archive in an archive in a PDF is
read like any other file, and depth, member and byte limits apply everywhere. Bombs are
stopped before they cost memory: a member's declared size is checked against the byte
budgets and its declared compression ratio against `max_compression_ratio` before it is
opened; then members are streamed in 64 KiB chunks against the message's
`max_decompressed_bytes`, and the running ratio of the member and of its whole archive is
judged from `compression_ratio_min_bytes` on (headers can lie, and a bomb of many small
members has no single big one). ZIPs whose members overlap one another (the
overlapping-entry bomb) are refused whole. Encrypted members are recorded as `encrypted`,
never skipped silently.

Damaged archives are read as tolerant tools read them, and the repair is a note: a ZIP
whose central directory is missing or broken is read from its local headers (as `unzip`
and streaming readers do), members the directory does not list are read too, a TAR is
read past a damaged member header (as GNU tar does), and a ZIP appended to a JPEG or a
PDF (a polyglot) is found and read (`read_appended_zip`).
"""

from __future__ import annotations

import bisect
import bz2
import ctypes
import gzip
import io
import lzma
import posixpath
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from dlp_gateway.content.walk import ARCHIVE_TYPES, join
from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader

__all__ = ["ARCHIVE_TYPES", "read_archive", "read_bounded", "open_container", "read_appended_zip"]
_CHUNK = 64 * 1024  # small, so a bomb is stopped soon after the ratio threshold


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
    elif data[:4] == b"MSCF":
        read_with_libarchive(reader, data, location, depth, "CAB")
    elif any(data[offset:offset + 5] == b"CD001" for offset in (32769, 34817, 36865)):
        read_with_libarchive(reader, data, location, depth, "ISO 9660")
    elif data[:4] in _LIBARCHIVE_STREAMS or data[:2] == b"\x1f\x9d":
        # A compressed stream: decompressed as one file (a .tar.zst gives its .tar, read
        # as a TAR by its own type, like a .tar.gz), never guessed at as an archive.
        what = _LIBARCHIVE_STREAMS.get(data[:4], "compress (.Z)")
        read_with_libarchive(reader, data, location, depth, what, stream=True)
    elif data[:4] in _LIBARCHIVE_NAMES:
        read_with_libarchive(reader, data, location, depth, _LIBARCHIVE_NAMES[data[:4]])
    elif len(data) > 262 and data[257:262] == b"ustar" or _is_tar(data):
        _read_tar(reader, data, location, depth)
    else:
        # Any other type libmagic calls an archive: libarchive may know it (bounded alike).
        read_with_libarchive(reader, data, location, depth, "archive")


# Leading bytes -> the format's name in problems and notes (libarchive-only formats:
# archives, and compressed streams of one file).
_LIBARCHIVE_NAMES = {b"xar!": "xar", b"WARC": "WARC", b"!<ar": "ar", b"0707": "cpio"}
_LIBARCHIVE_STREAMS = {b"\x28\xb5\x2f\xfd": "zstd", b"\x04\x22\x4d\x18": "lz4", b"LZIP": "lzip"}


def _is_tar(data: bytes) -> bool:
    try:
        return tarfile.is_tarfile(io.BytesIO(data))
    except Exception:
        return False


def _bomb(reader: Reader, location: str, size: int, compressed: int) -> bool:
    """True (and recorded) when `size` bytes from `compressed` bytes exceed the ratio limit.

    Judged from `compression_ratio_min_bytes` on (inclusive: a member of exactly that size
    is judged too), so a bomb made of many members just at the threshold is caught."""
    limits = reader.limits
    if size < max(1, limits.compression_ratio_min_bytes):
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
    if size > reader.budget.decompressed_left():
        _decompressed_spent(reader, location)
        return True
    return False


def _decompressed_spent(reader: Reader, location: str) -> None:
    limit = reader.limits.max_decompressed_bytes
    reader.limit(location, "max_decompressed_bytes",
                 f"archives in this message decompress to more than {limit} bytes; the rest not read")


class Tally:
    """What one archive has produced so far: its members' bytes are judged together
    against the archive's own size, so a bomb of many small members (each under
    `compression_ratio_min_bytes`) stops as early as one of a single big member.
    `stopped` tells the member loop to read no further."""

    __slots__ = ("compressed", "produced", "stopped")

    def __init__(self, compressed: int) -> None:
        self.compressed = compressed
        self.produced = 0
        self.stopped = False


def read_bounded(reader: Reader, stream: IO[bytes], location: str, compressed: int,
                 tally: Tally | None = None) -> bytes | None:
    """Read a decompressing stream to its end in small chunks, stopping (and recording) as
    soon as it exceeds the byte budget, the message's `max_decompressed_bytes`, or the
    compression ratio (of the member, or of its whole archive). None when stopped; then
    `tally.stopped` says whether the rest of the archive should be left unread too.

    The ratio is judged while reading, against the member's compressed size, so a bomb is
    abandoned after `compression_ratio_min_bytes` instead of after its full expansion."""
    allowed = reader.budget.bytes_allowed()
    chunks: list[bytes] = []
    total = 0
    while True:
        if reader.timed_out(location):
            if tally is not None:
                tally.stopped = True
            return None
        left = reader.budget.decompressed_left()
        chunk = stream.read(min(_CHUNK, allowed + 1 - total, left + 1))
        if not chunk:
            break
        total += len(chunk)
        reader.budget.charge_decompressed(len(chunk))
        if tally is not None:
            tally.produced += len(chunk)
        if len(chunk) > left:
            _decompressed_spent(reader, location)
            if tally is not None:
                tally.stopped = True
            return None
        chunks.append(chunk)
        if total > allowed:
            name = reader.budget.byte_limit_name()
            reader.limit(location, name, f"more than {allowed} bytes when decompressed; not read")
            return None
        if _bomb(reader, location, total, compressed):
            if tally is not None:
                tally.stopped = True  # one bomb member is enough to hold the message: stop here
            return None
        if tally is not None and tally.produced >= reader.limits.compression_ratio_min_bytes \
                and tally.produced / max(1, tally.compressed) > reader.limits.max_compression_ratio:
            ratio = tally.produced / max(1, tally.compressed)
            reader.limit(location, "max_compression_ratio",
                         f"the archive's members expand {ratio:.0f}:1 together "
                         f"(limit {reader.limits.max_compression_ratio:g}:1); the rest not read as a likely bomb")
            tally.stopped = True
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
        if total > reader.budget.bytes_allowed():
            name = reader.budget.byte_limit_name()
            reader.limit(location, name, f"{total} bytes would exceed {name}; not read")
        elif not _bomb(reader, location, total, len(data)):
            return zf
    zf.close()
    return None


def read_package_member(reader: Reader, zf: zipfile.ZipFile, name: str, location: str, depth: int) -> None:
    """Send one member of an Office or ODF package (an embedded object, a picture, an
    altChunk) through `Reader.read_file`, within the byte budget."""
    where = reader.unique_location(join(location, posixpath.basename(name)))
    if zf.getinfo(name).file_size > reader.budget.bytes_allowed():
        reader.limit(where, reader.budget.byte_limit_name(), "embedded file too large; not read")
        return
    try:
        data = zf.read(name)
    except Exception as exc:
        reader.problem(ProblemKind.CORRUPT, where, f"damaged embedded file: {type(exc).__name__}: {exc}"[:300])
        return
    reader.read_file(data, where, filename=posixpath.basename(name), declared_type=None, depth=depth + 1)


def _read_zip(reader: Reader, data: bytes, location: str, depth: int) -> None:
    tally = Tally(len(data))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # BadZipFile, NotImplementedError (version), OSError...
        if not _read_local_headers(reader, data, location, depth, tally, 0, f"central directory unreadable ({exc})"):
            reader.problem(ProblemKind.CORRUPT, location, f"unreadable ZIP: {exc}")
        return
    with zf:
        infos = zf.infolist()
        if _overlapping(infos, len(data)):
            reader.limit(location, "max_compression_ratio",
                         "ZIP members overlap one another (overlapping-entry bomb); not read")
            return
        _read_comment(reader, zf.comment, join(location, "comment"), location)
        for info in infos:
            if tally.stopped or reader.timed_out(location) or reader.members_exhausted(location):
                return
            if info.is_dir():
                continue
            name = member_name(info)
            where = reader.unique_location(join(location, name))
            _read_comment(reader, info.comment, join(where, "comment"), where)
            if info.flag_bits & 0x1:
                reader.segment(name, where, where, "filename")
                reader.problem(ProblemKind.ENCRYPTED, where, "encrypted ZIP member; content not readable")
                continue
            if _too_big(reader, where, info.file_size) or _bomb(reader, where, info.file_size, info.compress_size):
                reader.segment(name, where, where, "filename")
                tally.stopped = reader.budget.decompressed_left() <= 0 or _bomb(reader, where, info.file_size, info.compress_size)
                continue
            try:
                member = _read_zip_member(reader, zf, info, where, tally)
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
        if not tally.stopped:
            _read_unlisted(reader, data, location, depth, tally, infos)


def _read_comment(reader: Reader, comment: bytes, location: str, part: str) -> None:
    """A ZIP archive or member comment: 7-Zip, WinRAR and Explorer show it, so it is text
    to inspect (in UTF-8, else the Chinese code pages of the names, else cp437)."""
    if not comment.strip():
        return
    for encoding in ("utf-8", "cp950", "gb18030", "cp437"):
        try:
            text = comment.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    reader.segment(text, location, part, "body")


def _read_zip_member(reader: Reader, zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str,
                     tally: Tally) -> bytes | None:
    """One listed member, decompressed within the bounds. A CRC-32 mismatch is read
    through as 7-Zip and Explorer do (they extract with a warning): the member is read
    again without the check and the mismatch is a note, not a hold."""
    produced = tally.produced
    try:
        with zf.open(info) as stream:
            return read_bounded(reader, stream, where, info.compress_size, tally)
    except zipfile.BadZipFile as exc:
        if "CRC" not in str(exc):
            raise
    tally.produced = produced  # the first pass does not count twice towards the ratio
    with zf.open(info) as stream:
        if not hasattr(stream, "_expected_crc"):
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
        stream._expected_crc = None  # zipfile's own switch: no CRC check (used for a missing CRC)
        member = read_bounded(reader, stream, where, info.compress_size, tally)
    reader.note(where, "ZIP member with a wrong CRC-32 (damaged or altered); read as extracting tools read it")
    return member


def _read_unlisted(reader: Reader, data: bytes, location: str, depth: int, tally: Tally,
                   infos: list[zipfile.ZipInfo]) -> None:
    """Members with a local header that the central directory does not list: a streaming
    unzipper (and some mail clients' previews) shows them, so they are read too."""
    covered: list[tuple[int, int]] = []
    for info in infos:
        begin = info.header_offset
        if begin + 30 > len(data):
            continue
        header = _LOCAL.unpack_from(data, begin)
        covered.append((begin, begin + 30 + header[9] + header[10] + info.compress_size))
    covered.sort()
    starts = [begin for begin, _ in covered]
    position = data.find(_LOCAL_SIG)
    while position >= 0:
        if not _inside(covered, starts, position):
            _read_local_headers(reader, data, location, depth, tally, position,
                                "member not listed in the central directory", covered)
            return
        position = data.find(_LOCAL_SIG, position + 4)


def _inside(covered: list[tuple[int, int]], starts: list[int], position: int) -> bool:
    """Whether `position` falls in one of the sorted (begin, stop) ranges (members do not
    overlap: overlapping ZIPs are refused before), in O(log n) for archives of many entries."""
    index = bisect.bisect_right(starts, position) - 1
    return index >= 0 and covered[index][0] <= position < covered[index][1]


# --------------------------------------------------------------------------- ZIP from local headers

_LOCAL_SIG = b"PK\x03\x04"
_LOCAL = struct.Struct("<4sHHHHHIIIHH")  # the 30-byte local file header
_NEXT_SIGS = (b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"PK\x07\x08")


class _LocalStream(io.RawIOBase):
    """A member's data read straight from the bytes after its local header, decompressed
    in bounded steps; `end` is where its compressed data ended once read."""

    def __init__(self, data: bytes, start: int, size: int | None, method: int) -> None:
        super().__init__()
        self._view = memoryview(data)
        self._pos = start
        self._stop = len(data) if size is None else min(len(data), start + size)
        self._inflate = zlib.decompressobj(-15) if method == 8 else None
        self._done = False
        self.end = self._stop

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = _CHUNK if size is None or size < 0 else size
        if self._done:
            return b""
        if self._inflate is None:  # stored
            piece = bytes(self._view[self._pos:min(self._stop, self._pos + size)])
            self._pos += len(piece)
            if self._pos >= self._stop:
                self._done = True
            return piece
        out = b""
        while not out and not self._done:
            if self._inflate.unconsumed_tail:
                out = self._inflate.decompress(self._inflate.unconsumed_tail, size)
            elif self._pos < self._stop:
                feed = self._view[self._pos:min(self._stop, self._pos + _CHUNK)]
                self._pos += len(feed)
                out = self._inflate.decompress(feed, size)
            else:
                self._done = True
            if self._inflate.eof:
                self._done = True
                self.end = self._pos - len(self._inflate.unused_data)
        return out


def _plausible(header: tuple[int, ...], data: bytes, position: int) -> bool:
    _, version, _, method, _, _, _, _, _, name_len, _ = header
    return version < 100 and method in (0, 8, 9, 12, 14, 99) and 0 < name_len <= 1024 \
        and position + 30 + name_len <= len(data)


def _read_local_headers(reader: Reader, data: bytes, location: str, depth: int, tally: Tally, start: int,
                        why: str, skip: list[tuple[int, int]] | None = None) -> bool:
    """Read a ZIP member by member from its local headers, as a streaming unzipper does:
    the repair for a ZIP whose central directory is damaged or missing (a truncated
    download, a ZIP glued onto another file). True when at least one member was found."""
    found = False
    starts = [begin for begin, _ in skip] if skip else []
    position = data.find(_LOCAL_SIG, start)
    while position >= 0 and not tally.stopped:
        if skip and _inside(skip, starts, position):
            position = data.find(_LOCAL_SIG, position + 4)
            continue
        if reader.timed_out(location) or reader.members_exhausted(location):
            return True
        header = _LOCAL.unpack_from(data, position) if position + 30 <= len(data) else None
        if header is None or not _plausible(header, data, position):
            position = data.find(_LOCAL_SIG, position + 4)
            continue
        _, _, flags, method, _, _, _, compressed, size, name_len, extra_len = header
        raw_name = data[position + 30:position + 30 + name_len]
        name = _decode_name(raw_name, bool(flags & 0x800))
        begin = position + 30 + name_len + extra_len
        sized = not (flags & 0x08) or compressed != 0
        if not found:
            reader.note(location, f"ZIP {why}; members read from their local headers")
            found = True
        if name.endswith("/"):
            position = data.find(_LOCAL_SIG, begin)
            continue
        where = reader.unique_location(join(location, name))
        reader.segment(name, where, where, "filename")
        if flags & 0x1:
            reader.problem(ProblemKind.ENCRYPTED, where, "encrypted ZIP member; content not readable")
        elif method not in (0, 8):
            reader.problem(ProblemKind.UNSUPPORTED, where, f"ZIP member compressed with method {method}; not read")
        elif method == 0 and not sized:
            # Stored, size only in a trailing descriptor: the data runs to the next header.
            stops = [i for i in (data.find(sig, begin) for sig in _NEXT_SIGS) if i >= 0]
            member = data[begin:min(stops) if stops else len(data)]
            if not _too_big(reader, where, len(member)):
                reader.budget.charge_decompressed(len(member))
                reader.read_file(member, where, filename=name, declared_type=None, depth=depth + 1)
            position = data.find(_LOCAL_SIG, begin + len(member))
            continue
        else:
            stream = _LocalStream(data, begin, compressed if sized else None, method)
            try:
                member = read_bounded(reader, stream, where, compressed if sized else len(data) - begin, tally)
            except zlib.error as exc:
                member = None
                reader.problem(ProblemKind.CORRUPT, where, f"damaged ZIP member: {exc}"[:300])
            if member is not None:
                reader.read_file(member, where, filename=name, declared_type=None, depth=depth + 1)
            position = data.find(_LOCAL_SIG, max(begin, stream.end if not sized else begin + compressed))
            continue
        position = data.find(_LOCAL_SIG, begin + (compressed if sized else 0))
    return found


def _decode_name(raw: bytes, utf8: bool) -> str:
    """A member name from a local header, decoded as `member_name` does for listed ones."""
    for encoding in (("utf-8",) if utf8 else ("utf-8", "cp950", "gb18030")):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("cp437")


def read_appended_zip(reader: Reader, data: bytes, location: str, depth: int, *, after: int = 1) -> None:
    """A ZIP glued onto another file (a JPEG or a PDF with a ZIP appended: a polyglot). The
    file's own reader shows the picture or the pages; an unzip tool opens the same bytes
    as an archive. Read that archive too, and note it.

    Found by its end-of-central-directory record at the end of the data (where the ZIP
    starts follows from the directory's size and offset), else by the first plausible
    local header at or after `after` (the caller passes the end of its own format, so a
    ZIP stored inside a PDF object is not mistaken for an appended one)."""
    first = appended_zip_start(data, after)
    if first is None:
        return
    reader.note(location, f"a ZIP archive is appended to this file at byte {first} (a polyglot); read as well")
    where = join(location, "appended.zip")
    reader.read_file(data[first:], where, filename=None, declared_type="application/zip", depth=depth + 1)


def appended_zip_start(data: bytes, after: int = 1) -> int | None:
    """Where a ZIP appended to other data starts (see `read_appended_zip`), or None."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65557))
    if end > 0 and end + 22 <= len(data):
        directory_size, directory_offset = struct.unpack_from("<II", data, end + 12)
        start = end - directory_size - directory_offset
        if start > 0 and data[start:start + 4] == _LOCAL_SIG:
            return start
    first = data.find(_LOCAL_SIG, max(1, after))
    if first < 0 or first + 30 > len(data) or not _plausible(_LOCAL.unpack_from(data, first), data, first):
        return None
    return first


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
    for suffix, replacement in ((".tgz", ".tar"), (".gz", ""), (".bz2", ""), (".xz", ""), (".lzma", ""),
                                (".tzst", ".tar"), (".zst", ""), (".z", ""), (".lz4", ""), (".lz", "")):
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
    """TAR, read past damaged member headers: `tarfile` alone stops silently at the first
    bad header (everything after it would go uninspected); with `ignore_zeros` it resyncs
    on the next valid header, and the bytes it skipped are noted and read as one damaged
    member, so text in them is still inspected."""
    try:
        tf = tarfile.open(fileobj=io.BytesIO(data), mode="r:", ignore_zeros=True)  # noqa: SIM115 (closed below)
    except (tarfile.TarError, OSError) as exc:
        reader.problem(ProblemKind.CORRUPT, location, f"unreadable TAR: {exc}")
        return
    expected = 0  # where the next header should start
    with tf:
        try:
            for member in tf:
                if reader.timed_out(location) or reader.members_exhausted(location):
                    return
                if member.offset > expected:
                    _read_tar_gap(reader, data, expected, member.offset, location, depth)
                expected = member.offset_data + -(-member.size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE \
                    if member.isfile() or member.size else member.offset_data
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
            return
    if expected < len(data):
        _read_tar_gap(reader, data, expected, len(data), location, depth)


def _read_tar_gap(reader: Reader, data: bytes, start: int, stop: int, location: str, depth: int) -> None:
    """Bytes between two readable TAR members (or after the last): zeros are padding;
    anything else is a member whose header is damaged. Note it and read its bytes."""
    gap = data[start:stop]
    if not gap.strip(b"\0"):
        return
    name = gap[:100].split(b"\0", 1)[0].decode("utf-8", "replace").strip()
    label = f"damaged member at byte {start}" + (f" ({name})" if name.isprintable() and name else "")
    reader.note(location, f"TAR header at byte {start} is damaged; skipped to the next readable header")
    content = gap[tarfile.BLOCKSIZE:].rstrip(b"\0") if len(gap) > tarfile.BLOCKSIZE else gap.rstrip(b"\0")
    if content:
        where = reader.unique_location(join(location, label))
        reader.read_file(content, where, filename=None, declared_type=None, depth=depth + 1)


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
        planned = 0  # py7zr extracts all wanted members at once: plan them against the budget
        for info in files:
            where = join(location, info.filename)
            size = int(info.uncompressed or 0)
            if _too_big(reader, where, planned + size):
                reader.segment(info.filename, where, where, "filename")
                continue
            planned += size
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
        member = product.read()
        reader.budget.charge_decompressed(len(member))
        reader.read_file(member, where, filename=name, declared_type=None, depth=depth + 1)


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
    tally = Tally(len(data))
    with archive:
        infos = archive.infolist()
        if not infos:
            reader.problem(ProblemKind.UNSUPPORTED, location, "RAR archive: no members could be listed")
        for info in infos:
            if tally.stopped or reader.timed_out(location) or reader.members_exhausted(location):
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
                    member = read_bounded(reader, stream, where, info.compress_size, tally)
            except Exception as exc:  # no extractor installed, or damaged data
                try:  # libarchive decompresses RAR 4/5 itself, without unrar
                    member = _libarchive_member(reader, data, info.filename, where, info.compress_size, tally)
                except Exception as second:
                    reader.segment(info.filename, where, where, "filename")
                    reader.problem(ProblemKind.UNSUPPORTED, where,
                                   f"RAR member listed but not extracted ({type(exc).__name__}: {exc}; "
                                   f"libarchive: {type(second).__name__}: {second})"[:300])
                    continue
            if member is None:
                reader.segment(info.filename, where, where, "filename")
                continue
            reader.read_file(member, where, filename=info.filename, declared_type=None, depth=depth + 1)


# --------------------------------------------------------------------------- libarchive (ISO 9660, CAB, RAR)

def _libarchive_member(reader: Reader, data: bytes, name: str, where: str, compressed: int,
                       tally: Tally) -> bytes | None:
    """One member of an archive, by name, decompressed by libarchive. Raises when
    libarchive is missing, cannot decompress it, or has no such member."""
    import libarchive

    with libarchive.memory_reader(data) as archive:
        for entry in archive:
            if entry.pathname == name or str(entry.pathname).replace("\\", "/") == name.replace("\\", "/"):
                return read_bounded(reader, _Blocks(iter(entry.get_blocks())), where, compressed, tally)
    raise KeyError(f"no member {name!r}")


class _Blocks(io.RawIOBase):
    """libarchive's data blocks of one entry as a stream `read_bounded` can pull from."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        super().__init__()
        self._blocks = blocks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = _CHUNK if size is None or size < 0 else size
        while len(self._pending) < size:
            block = next(self._blocks, None)
            if block is None:
                break
            self._pending += block
        piece, self._pending = self._pending[:size], self._pending[size:]
        return piece


def _entry_encrypted(entry: object) -> bool:
    import libarchive.ffi

    function = getattr(libarchive.ffi.libarchive, "archive_entry_is_encrypted", None)
    pointer = getattr(entry, "_entry_p", None)
    if function is None or pointer is None:
        return False
    function.argtypes = [libarchive.ffi.c_archive_entry_p]
    function.restype = ctypes.c_int
    return bool(function(pointer))


def read_with_libarchive(reader: Reader, data: bytes, location: str, depth: int, what: str, *,
                         stream: bool = False) -> bool:
    """Read an archive through libarchive (Debian libarchive13, PyPI libarchive-c): ISO 9660
    images (with Joliet and Rock Ridge names), Microsoft CAB, and RAR 4/5 with compressed
    members, which rarfile can only list without an external unrar. Members are streamed
    through `read_bounded` like ZIP members. False when libarchive is not installed.
    With `stream`, `data` is a compressed stream (`.zst`, `.Z`, `.lz4`, `.lz`): it is
    decompressed as one file, named as gunzip names it, and read by its own type (libarchive's
    archive formats include mtree, which would take any decompressed text for a file list)."""
    try:
        import libarchive
        import libarchive.exception
    except (ImportError, OSError):  # the Python package, or its shared library, is missing
        reader.problem(ProblemKind.UNSUPPORTED, location, f"{what} archive: libarchive is not installed; not read")
        return False
    tally = Tally(len(data))
    try:
        _libarchive_entries(reader, data, location, depth, what, tally, "raw" if stream else "all")
    except libarchive.exception.ArchiveError as exc:
        reader.problem(ProblemKind.CORRUPT, location, f"damaged {what} archive: {exc}"[:300])
    return True


def _libarchive_entries(reader: Reader, data: bytes, location: str, depth: int, what: str, tally: Tally,
                        format_name: str) -> None:
    """Every file entry libarchive finds in `data`, read as a member (see read_with_libarchive)."""
    import libarchive
    import libarchive.exception

    with libarchive.memory_reader(data, format_name=format_name) as archive:
        for entry in archive:
            if tally.stopped or reader.timed_out(location) or reader.members_exhausted(location):
                return
            if not entry.isfile:
                continue
            name = str(entry.pathname or "member").lstrip("./") or "member"
            if format_name == "raw":  # a lone compressed file: named after it, as gunzip names it
                name = _stream_name(data, location, what)
            where = reader.unique_location(join(location, name))
            if _entry_encrypted(entry):
                reader.segment(name, where, where, "filename")
                reader.problem(ProblemKind.ENCRYPTED, where, f"encrypted {what} member; content not readable")
                continue
            size = entry.size or 0
            if _too_big(reader, where, size):
                reader.segment(name, where, where, "filename")
                continue
            try:
                member = read_bounded(reader, _Blocks(iter(entry.get_blocks())), where, len(data), tally)
            except libarchive.exception.ArchiveError as exc:
                reader.segment(name, where, where, "filename")
                text = str(exc)
                kind = ProblemKind.ENCRYPTED if "ncrypt" in text or "assphrase" in text else ProblemKind.CORRUPT
                reader.problem(kind, where, f"{what} member not readable: {text}"[:300])
                continue
            if member is None:
                reader.segment(name, where, where, "filename")
                continue
            if format_name == "raw" and member == data:
                # No compression filter recognised either: libarchive's raw reader hands
                # the bytes back as they are. Damaged, not an archive within an archive.
                reader.problem(ProblemKind.CORRUPT, location, f"damaged {what} archive: not readable")
                return
            reader.read_file(member, where, filename=name, declared_type=None, depth=depth + 1)
