"""The MIME walk: every part of a message, recursively, including attached messages.

Header values are decoded (RFC 2047 words, RFC 2231 file names); the Subject is a
segment of its own; headers that carry labels (`msip_labels`, `X-Classification`,
`X-Protective-Marking`, `Sensitivity`...) become facts `mail.header.<lower-name>`.
Transfer-encoding damage (broken base64 or quoted-printable) is tolerated: what can be
decoded is read, and the damage is recorded as `corrupt`.
"""

from __future__ import annotations

import email
import email.header
import email.headerregistry
import email.policy
import re
from email import errors
from email.message import Message
from functools import lru_cache
from typing import TYPE_CHECKING

from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader

# Headers whose value is a label or marking: kept as facts and scanned as text.
_LABEL_HEADER = re.compile(r"classif|sensitiv|msip|label|protective-marking|security|caveat|secrecy", re.I)
# Headers with free text a sender writes: scanned as text.
_TEXT_HEADERS = {"keywords", "comments", "thread-topic", "content-description", "organization", "summary"}
_BASE64_DEFECTS = (errors.InvalidBase64PaddingDefect, errors.InvalidBase64CharactersDefect,
                   errors.InvalidBase64LengthDefect)
_BROKEN_QP = re.compile(rb"=(?![0-9A-Fa-f]{2}|\r?\n|\s*$)")


# Parsing a header with email.policy.default is the costliest step of reading a small
# message, and the walk asks for the same Content-Type many times per part. Header
# objects are immutable, so parsed ones are shared (short values only, a bounded cache).
_HEADER_REGISTRY = email.headerregistry.HeaderRegistry()


@lru_cache(maxsize=2048)
def _parsed_header(name: str, value: str) -> object:
    return _HEADER_REGISTRY(name, value)


class _CachedHeaderFactory(email.headerregistry.HeaderRegistry):
    def __call__(self, name: str, value: str) -> object:  # type: ignore[override]
        if len(value) > 1024:
            return _HEADER_REGISTRY(name, value)
        return _parsed_header(name, value)


_POLICY = email.policy.default.clone(header_factory=_CachedHeaderFactory())
_SURROGATE = re.compile("[\udc80-\udcff]")  # a raw 8-bit byte kept by the parser

# Reading a header's value does not need the policy's parse when the parse would give
# the value back unchanged: an unstructured header (the registry's default class, and
# Subject) in plain ASCII without RFC 2047 words, or a Message-ID of the common form.
_STRUCTURED = frozenset(_HEADER_REGISTRY.registry) - {"subject"}
_PLAIN_MESSAGE_ID = re.compile(r"<[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+>")


def _unparsed_value(name: str, value: str) -> str | None:
    """The value the policy's parse would return, when it is the value as is, else None."""
    if not value.isascii():
        return None
    value = "".join(email.policy.linesep_splitter.split(value))  # as header_fetch_parse does
    lower = name.lower()
    if lower not in _STRUCTURED:
        return None if "=?" in value else value
    if lower == "message-id" and _PLAIN_MESSAGE_ID.fullmatch(value):
        return value
    return None


def _header_value(msg: Message, name: str, raw: object) -> str:
    try:
        return " ".join(str(raw).split())
    except Exception:
        pass
    try:
        value = msg.get_all(name, [""])[0]
        return str(email.header.make_header(email.header.decode_header(str(value))))
    except Exception:
        return str(raw).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_message(reader: Reader, raw: bytes, prefix: str, depth: int) -> None:
    """Read one RFC 5322 message whose parts live under location `prefix` ("" at the top)."""
    from dlp_gateway.content.walk import join

    msg = email.message_from_bytes(raw, policy=_POLICY)
    headers: dict[str, list[str]] = {}
    # Text of the top-level headers belongs to "headers"; that of an attached message to
    # the attached message's own part.
    owner = prefix or "headers"
    where = join(prefix, "headers")
    for name, raw_value in _safe_items(msg):
        value = _header_value(msg, name, raw_value)
        lower = name.lower()
        headers.setdefault(lower, []).append(value)
        if _LABEL_HEADER.search(lower) and lower not in ("dkim-signature", "x-ms-exchange-security"):
            reader.fact(f"mail.header.{lower}", value, where, owner)
            reader.segment(value, join(prefix, f"header {lower}"), owner, "header")
        elif lower in _TEXT_HEADERS:
            reader.segment(value, join(prefix, f"header {lower}"), owner, "header")
    subject = headers.get("subject", [""])[0]
    if depth == 0:
        reader.inspection.headers = headers
        reader.inspection.subject = subject
        reader.inspection.message_id = headers.get("message-id", [""])[0]
    subject_location = join(prefix, "subject")
    reader.segment(subject, subject_location, prefix or subject_location, "subject")
    for defect in msg.defects:
        if isinstance(defect, (errors.StartBoundaryNotFoundDefect, errors.CloseBoundaryNotFoundDefect,
                               errors.MultipartInvariantViolationDefect)):
            reader.problem(ProblemKind.CORRUPT, prefix or "(message)", f"malformed MIME structure: {defect.__class__.__name__}")
    _walk(reader, msg, prefix, depth, counter=[0, 0])


def _charset_hints(msg: Message) -> list[str]:
    """Charsets declared in the message: the likeliest for raw 8-bit header values."""
    hints: list[str] = []
    for part in msg.walk():
        try:
            charset = part.get_content_charset()
        except Exception:
            charset = None
        if charset and charset not in hints:
            hints.append(charset)
        if len(hints) >= 3:
            break
    return hints


def fix_8bit(value: str, hints: list[str]) -> str:
    """Decode raw 8-bit bytes in a header value (old Big5/GBK mailers send them without
    RFC 2047). The parser keeps such bytes as surrogate escapes; try UTF-8, the message's
    declared charsets, then cp950 and GB18030."""
    if not _SURROGATE.search(value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    from dlp_gateway.content.text import _candidates

    for charset in ("utf-8", *hints, "cp950", "gb18030"):
        for name in _candidates(charset) or [charset]:
            try:
                return data.decode(name)
            except (UnicodeDecodeError, LookupError):
                continue
    return data.decode("latin-1")


def _safe_items(msg: Message) -> list[tuple[str, object]]:
    """Header (name, value) pairs; a value the policy cannot parse stays raw instead of raising."""
    items: list[tuple[str, object]] = []
    hints: list[str] | None = None
    for name, value in msg.raw_items():
        if isinstance(value, str):
            if _SURROGATE.search(value):
                if hints is None:
                    hints = _charset_hints(msg)
                value = fix_8bit(value, hints)
            plain = _unparsed_value(name, value)
            if plain is not None:
                items.append((name, plain))
                continue
        try:
            items.append((name, msg.policy.header_fetch_parse(name, value)))
        except Exception:
            items.append((name, value))
    return items


_RAW_FILENAME = re.compile(r"""(?:file)?name\*?\s*=\s*(?:"([^"]*)"|([^;\s]+))""", re.I)


def _filename(part: Message) -> str | None:
    """The part's file name (RFC 2231 / RFC 2047 decoded), or a raw 8-bit one decoded."""
    try:
        filename = part.get_filename()
    except Exception:
        filename = None
    if filename and "\ufffd" not in filename and not _SURROGATE.search(filename):
        return filename
    for name, value in part.raw_items():
        if name.lower() in ("content-disposition", "content-type") and isinstance(value, str):
            if _SURROGATE.search(value):  # the hints walk the message: only when needed
                value = fix_8bit(value, _charset_hints(part))
            match = _RAW_FILENAME.search(value)
            if match:
                return match.group(1) or match.group(2)
    return filename


MAX_MULTIPART_NESTING = 64  # multipart inside multipart; real mail nests 3 or 4 deep


def _walk(reader: Reader, part: Message, prefix: str, depth: int, counter: list[int], level: int = 0) -> None:
    from dlp_gateway.content.walk import join

    if reader.timed_out(prefix or "(message)"):
        return
    content_type = part.get_content_type()
    if content_type in ("message/partial", "message/external-body"):
        reader.problem(ProblemKind.UNSUPPORTED, join(prefix, f"part {counter[0] + 1}"),
                       f"{content_type}: the content is not in this message and cannot be inspected")
        counter[0] += 1
        return
    if part.is_multipart() and content_type != "message/rfc822":
        if level >= MAX_MULTIPART_NESTING:
            reader.limit(prefix or "(message)", "max_depth", f"multiparts nested more than {MAX_MULTIPART_NESTING} deep; the rest not read")
            return
        payload = part.get_payload()
        if isinstance(payload, list):
            for sub in payload:
                if isinstance(sub, Message):
                    _walk(reader, sub, prefix, depth, counter, level + 1)
        return
    counter[0] += 1
    filename = _filename(part)
    if filename:
        filename = " ".join(str(filename).replace("/", "_").replace("\\", "_").split())
    if content_type == "message/rfc822":
        data = _attached_message_bytes(part)
        location = reader.unique_location(join(prefix, filename or f"message {counter[0]}"))
        reader.read_file(data, location, filename=filename, declared_type="message/rfc822", depth=depth + 1)
        return
    data = _decoded_payload(reader, part, join(prefix, filename or "body"))
    is_text = content_type.partition("/")[0] == "text"  # get_content_maintype(), without a second parse
    is_body = not filename and is_text and part.get_content_disposition() != "attachment"
    if filename:
        location = join(prefix, filename)
    elif is_body:
        counter[1] += 1
        location = join(prefix, "body" if counter[1] == 1 else f"body {counter[1]}")
    else:
        location = join(prefix, f"part {counter[0]}")
    location = reader.unique_location(location)
    reader.read_file(data, location, filename=filename, declared_type=content_type, depth=depth + 1,
                     charset=part.get_content_charset() if is_text else None)


def _attached_message_bytes(part: Message) -> bytes:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else payload
    if isinstance(inner, Message):
        try:
            return inner.as_bytes(policy=email.policy.compat32)
        except Exception:
            return inner.as_string(policy=email.policy.compat32).encode("utf-8", "surrogateescape")
    if isinstance(inner, bytes):
        return inner
    return str(inner or "").encode("utf-8", "surrogateescape")


def _decoded_payload(reader: Reader, part: Message, location: str) -> bytes:
    cte = str(part.get("Content-Transfer-Encoding", "") or "").strip().lower()
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:
        reader.problem(ProblemKind.CORRUPT, location, f"payload could not be decoded: {exc}")
        raw = part.get_payload()
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    if data is None:
        data = b""
    if any(isinstance(d, _BASE64_DEFECTS) for d in part.defects):
        reader.problem(ProblemKind.CORRUPT, location, "broken base64; read what could be decoded")
    elif cte == "quoted-printable":
        raw = part.get_payload(decode=False)
        if isinstance(raw, str) and _BROKEN_QP.search(raw.encode("utf-8", "surrogateescape")):
            reader.problem(ProblemKind.CORRUPT, location, "broken quoted-printable; read what could be decoded")
    elif cte and cte not in ("7bit", "8bit", "binary", "base64", "quoted-printable"):
        reader.problem(ProblemKind.UNSUPPORTED, location, f"unknown transfer encoding {cte!r}; read as is")
    return data


def read_attached_message(reader: Reader, data: bytes, location: str, depth: int, **_: object) -> None:
    """Reader for message/rfc822 files: attached messages and .eml files in archives."""
    read_message(reader, data, location, depth)
