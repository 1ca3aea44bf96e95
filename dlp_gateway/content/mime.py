"""The MIME walk: every part of a message, recursively, including attached messages.

Header values are decoded (RFC 2047 words, RFC 2231 file names); the Subject is a
segment of its own; headers that carry labels (`msip_labels`, `X-Classification`,
`X-Protective-Marking`, `Sensitivity`...) become facts `mail.header.<lower-name>`.

Mail is read the way a recipient's client reads it, not the way a strict parser does:

- Packaging defects (missing first or closing boundary, an empty multipart, a header
  block without its blank line, duplicate headers, a misspelt or unknown transfer
  encoding, base64 without padding) are read through and recorded as notes
  (`Reader.note`); only content that cannot be read at all is a problem.
- Nothing a reader could be shown is left out: preamble and epilogue are read as text;
  a part with two Content-Type or Content-Transfer-Encoding headers is read under each
  reading; an attached message that is itself base64 or quoted-printable is decoded;
  and after the walk of the parsed tree, the raw message is split at every delimiter
  line of every declared boundary, so a part hidden by a reused boundary or placed
  after a premature end (where the parser sees only epilogue) is read too.
- The work is bounded before parsing: a message with more delimiter lines than the
  member limit allows is cut there (recorded as `max_members`), so 20,000 tiny parts
  cost what 2,000 do.
"""

from __future__ import annotations

import email
import email.header
import email.headerregistry
import email.policy
import hashlib
import re
from email import errors
from email.message import Message
from functools import lru_cache
from typing import TYPE_CHECKING

from dlp_gateway.content import encoded_blocks
from dlp_gateway.content.encoded_blocks import Decoded
from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader

# Headers whose value is a label or marking: kept as facts and scanned as text.
_LABEL_HEADER = re.compile(r"classif|sensitiv|msip|label|protective-marking|security|caveat|secrecy", re.I)
# Headers with free text a sender writes: scanned as text.
_TEXT_HEADERS = {"keywords", "comments", "thread-topic", "content-description", "organization", "summary"}
# Defects the transfer decoders below report themselves (the parser's own are not used).
_DECODING_DEFECTS = (errors.InvalidBase64PaddingDefect, errors.InvalidBase64CharactersDefect,
                     errors.InvalidBase64LengthDefect)
# Parser defects, in words a security officer understands.
_DEFECT_WORDS = {
    "StartBoundaryNotFoundDefect": "multipart without its first boundary line",
    "CloseBoundaryNotFoundDefect": "multipart without its closing boundary line",
    "MultipartInvariantViolationDefect": "multipart that holds no parts",
    "NoBoundaryInMultipartDefect": "multipart without a boundary parameter",
    "MissingHeaderBodySeparatorDefect": "header block not ended by a blank line",
    "FirstHeaderLineIsContinuationDefect": "first header line is a continuation line",
    "MisplacedEnvelopeHeaderDefect": "envelope 'From ' line among the headers",
    "InvalidMultipartContentTransferEncodingDefect": "multipart with a transfer encoding other than 7bit/8bit/binary",
    "MultipartConversionError": "multipart that could not be converted",
}


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

    boundaries = _declared_boundaries(raw)
    raw, delimiter_lines = _bounded(reader, raw, boundaries, prefix)
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
    subjects = headers.get("subject", [""])
    subject = subjects[0]
    if depth == 0:
        reader.inspection.headers = headers
        reader.inspection.subject = subject
        reader.inspection.message_id = headers.get("message-id", [""])[0]
    subject_location = join(prefix, "subject")
    reader.segment(subject, subject_location, prefix or subject_location, "subject")
    if len(subjects) > 1:
        # A client shows one of them (which one varies): read every one.
        reader.note(subject_location, f"{len(subjects)} Subject headers; every one read")
        for n, extra in enumerate(subjects[1:], start=2):
            reader.segment(extra, f"{subject_location} ({n})", prefix or subject_location, "subject")
    reader.seen.add(_header_key(msg))
    delimiters = _delimiter_pattern(tuple(boundaries)) if boundaries else None
    _walk(reader, msg, prefix, depth, counter=[0, 0], delimiters=delimiters)
    if delimiter_lines and not reader.timed_out(prefix or "(message)"):
        _read_outside_tree(reader, raw, delimiter_lines, prefix, depth)


# -- bounds before parsing ---------------------------------------------------------

# Searched in a lower-cased copy: a pattern that starts with a literal is found by a
# fast substring search, which re.IGNORECASE would turn into a test at every byte.
_BOUNDARY_PARAM = re.compile(rb"""boundary\*?[ \t]*=[ \t]*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))""")
MAX_BOUNDARIES = 256  # distinct boundaries looked for in one message


def _declared_boundaries(raw: bytes) -> list[bytes]:
    """Every boundary parameter written anywhere in the message, longest first.

    Taken from the raw bytes, not the parse: a boundary the parser did not use (a
    duplicate Content-Type, a multipart it did not reach) can still delimit parts a
    client shows."""
    lower = raw.lower()
    if b"boundary" not in lower:
        return []
    found: dict[bytes, None] = {}
    for match in _BOUNDARY_PARAM.finditer(lower):
        group = 1 if match.group(1) is not None else 2
        value = raw[match.start(group): match.end(group)].rstrip()  # the original case
        if value:
            found[value] = None
            if len(found) >= MAX_BOUNDARIES:
                break
    return sorted(found, key=len, reverse=True)


@lru_cache(maxsize=64)
def _delimiter_pattern(boundaries: tuple[bytes, ...]) -> re.Pattern[bytes]:
    # As the email parser matches them: "--" + boundary, an optional "--", blanks, EOL.
    # The match starts at the line end before the delimiter line: a literal prefix is
    # found by a fast substring search, a "^" anchor would be tested at every byte.
    names = b"|".join(re.escape(b) for b in boundaries)
    return re.compile(rb"\n--(?:" + names + rb")(--)?[ \t]*\r?$", re.M)


def _bounded(reader: Reader, raw: bytes, boundaries: list[bytes], prefix: str) -> tuple[bytes, list[re.Match[bytes]]]:
    """The message cut before the delimiter line that makes it exceed `max_members`
    parts, and its delimiter lines (for the raw scan).

    Counting delimiter lines is one regular-expression pass; the email parser builds an
    object per part, so it is only given what the member limit would let us read."""
    if not boundaries:
        return raw, []
    # Each part opens with one delimiter line and each multipart closes with one, so
    # twice the member limit (plus the nesting of containers) is more than can be read.
    allowed = 2 * reader.limits.max_members + MAX_MULTIPART_NESTING
    if len(boundaries) >= MAX_BOUNDARIES and raw.count(b"\n--") > allowed:
        # More boundaries than are looked for (decoys can push the real one out of the
        # list): bound by every line that could be a delimiter, whatever its boundary.
        position = -1
        for _ in range(allowed + 1):
            position = raw.find(b"\n--", position + 1)
        reader.limit(prefix or "(message)", "max_members",
                     f"more than {reader.limits.max_members} MIME parts; the rest of the message was not read")
        raw = raw[: position + 1]
    lines: list[re.Match[bytes]] = []
    for match in _delimiter_pattern(tuple(boundaries)).finditer(raw):
        if len(lines) >= allowed:
            reader.limit(prefix or "(message)", "max_members",
                         f"more than {reader.limits.max_members} MIME parts; the rest of the message was not read")
            return raw[: match.start() + 1], lines
        lines.append(match)
    return raw, lines


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
MAX_READINGS = 4  # readings of one part with duplicate Content-Type / -Transfer-Encoding


def _key(data: bytes, reading: bytes = b"") -> bytes:
    """What identifies a payload or text already read, whatever its line ends.

    `reading` (see `_reading`) qualifies a part's bytes by how they are read: the same
    bytes under another transfer encoding or charset are other content."""
    # Line ends are normalised: an attached message is read from its serialisation
    # (LF line ends), the raw scan sees the message's own (CRLF). Blank edges are cut
    # differently by the parser and the raw scan.
    digest = hashlib.sha1(reading + b"\0", usedforsecurity=False)
    digest.update(data.replace(b"\r\n", b"\n").strip() if b"\r" in data else data.strip())
    return digest.digest()


def _charset(part: Message) -> str | None:
    """The declared charset, without the control characters or junk a broken header can
    put in it (a NUL makes codec lookup raise instead of failing over)."""
    try:
        charset = part.get_content_charset()
    except Exception:
        return None
    if not charset:
        return None
    cleaned = "".join(c for c in charset if c.isprintable() and not c.isspace())[:64]
    return cleaned or None


def _reading(part: Message) -> bytes:
    """Content type, charset and transfer encoding: how a leaf part's bytes are read."""
    try:
        charset = part.get_content_charset() or ""
    except Exception:
        charset = ""
    cte = encoded_blocks.normalise_cte(str(part.get("Content-Transfer-Encoding", "") or ""))
    return f"{part.get_content_type()}|{charset}|{cte if cte is not None else 'unknown'}".encode()


def _as_bytes(text: str | bytes) -> bytes:
    if isinstance(text, bytes):
        return text
    try:
        return text.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")


def _raw_payload(part: Message) -> bytes:
    """The part's body bytes as they are in the message.

    `get_payload(decode=False)` is no use here: for a text part with 8-bit bytes it
    decodes them with the declared charset, replacing what does not fit. The parser
    keeps those bytes as surrogate escapes in `_payload`."""
    payload = getattr(part, "_payload", None)
    if isinstance(payload, (str, bytes)):
        return _as_bytes(payload)
    return b""


def _note_defects(reader: Reader, part: Message, location: str) -> None:
    for defect in part.defects:
        if isinstance(defect, _DECODING_DEFECTS):
            continue
        name = defect.__class__.__name__
        reader.note(location, f"MIME defect read through: {_DEFECT_WORDS.get(name, name)}")


def _walk(reader: Reader, part: Message, prefix: str, depth: int, counter: list[int], level: int = 0,
          delimiters: re.Pattern[bytes] | None = None) -> None:
    from dlp_gateway.content.walk import join

    here = prefix or "(message)"
    if reader.timed_out(here):
        return
    content_type = part.get_content_type()
    if content_type in ("message/partial", "message/external-body"):
        counter[0] += 1
        reason = ("message/partial: one fragment of a message that was split for sending; the whole message "
                  "is not here, so its content cannot be inspected. Ask the sender to send it unsplit"
                  if content_type == "message/partial" else
                  "message/external-body: the content is not in this message (only a reference to it) "
                  "and cannot be inspected")
        reader.problem(ProblemKind.UNSUPPORTED, join(prefix, f"part {counter[0]}"), reason)
        return
    if part.get_content_maintype() == "multipart":
        _note_defects(reader, part, here)  # a multipart has no location of its own
        if level >= MAX_MULTIPART_NESTING:
            reader.limit(here, "max_depth", f"multiparts nested more than {MAX_MULTIPART_NESTING} deep; the rest not read")
            return
        payload = part.get_payload()
        if not isinstance(payload, list):
            payload = _reparsed_multipart(reader, part, here)
        _read_framing_text(reader, part.preamble, join(prefix, "preamble"), depth, delimiters)
        if isinstance(payload, list):
            for sub in payload:
                if reader.members_exhausted(here):
                    break
                if isinstance(sub, Message):
                    _walk(reader, sub, prefix, depth, counter, level + 1, delimiters)
        elif payload:
            # A multipart whose parts no reader could find: clients show its body as text.
            _read_framing_text(reader, str(payload), join(prefix, "multipart body"), depth, delimiters)
        _read_framing_text(reader, part.epilogue, join(prefix, "epilogue"), depth, delimiters)
        return
    defects = part
    if any(isinstance(d, errors.MissingHeaderBodySeparatorDefect) for d in part.defects):
        repaired = _repaired_headers(part)
        if repaired is not None:
            part = repaired
            content_type = part.get_content_type()
    counter[0] += 1
    filename = _filename(part)
    if filename:
        filename = " ".join(str(filename).replace("/", "_").replace("\\", "_").split())
    if content_type == "message/delivery-status" and isinstance(part.get_payload(), list):
        # Blocks of fields (per message, per recipient) that clients show as text: all of
        # them, not only the first, and every field, not only label headers.
        location = reader.unique_location(join(prefix, filename or f"delivery status {counter[0]}"))
        blocks = [b.as_bytes(policy=email.policy.compat32) for b in part.get_payload() if isinstance(b, Message)]
        reader.seen.update(_key(block) for block in blocks[:1])  # as the raw scan keys a message part
        reader.read_file(b"\n".join(blocks), location, filename=filename, declared_type="text/plain",
                         depth=depth + 1, charset="utf-8")
        return
    if content_type == "message/rfc822" or (part.get_content_maintype() == "message" and isinstance(part.get_payload(), list)):
        location = reader.unique_location(join(prefix, filename or f"message {counter[0]}"))
        _note_defects(reader, defects, location)
        data = _attached_message_bytes(reader, part, location)
        reader.seen.add(_key(data))
        reader.read_file(data, location, filename=filename, declared_type="message/rfc822", depth=depth + 1)
        return
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
    _note_defects(reader, defects, location)
    if defects is not part:
        reader.note(location, "header line without its leading blank (a broken fold) read as a continuation")
    raw, data, guesses = _decoded_payload(reader, part, location)
    reading = _reading(part)
    reader.seen.add(_key(raw, reading))
    reader.seen.add(_key(data, reading))
    charset = _charset(part) if is_text else None
    reader.read_file(data, location, filename=filename, declared_type=content_type, depth=depth + 1, charset=charset)
    for cte_name, guess in guesses:
        reader.seen.add(_key(guess))
        reader.read_file(guess, reader.unique_location(f"{location} (as {cte_name})"), filename=filename,
                         declared_type=content_type, depth=depth + 1, charset=charset)
    _flowed_reading(reader, part, data, location, filename, depth, charset)
    _other_readings(reader, part, location, filename, depth)


def _flowed_reading(reader: Reader, part: Message, data: bytes, location: str, filename: str | None,
                    depth: int, charset: str | None) -> None:
    """format=flowed text (RFC 3676): Thunderbird and Apple Mail join its soft-broken
    lines, Outlook shows them as sent. Both readings are inspected: the unflowed one
    as a second reading of the part, when it differs."""
    if part.get_content_type() != "text/plain" or str(part.get_param("format") or "").lower() != "flowed":
        return
    from dlp_gateway.content.text import unflow

    delsp = str(part.get_param("delsp") or "").lower() == "yes"
    joined = unflow(data, delsp=delsp)
    if joined.replace(b"\r\n", b"\n") == data.replace(b"\r\n", b"\n"):
        return
    reader.read_file(joined, reader.unique_location(f"{location} (unflowed)"), filename=filename,
                     declared_type="text/plain", depth=depth + 1, charset=charset)


_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
_PARAM_LINE = re.compile(rb"[!-9;-~]+[ \t]*=")
_BLANK_LINE = re.compile(rb"\r?\n[ \t]*\r?\n")


def _repaired_headers(part: Message) -> Message | None:
    """The part re-read with a broken fold mended, or None when that is not the defect.

    A line like `name="report.zip"` that continues Content-Type without the leading
    blank ends the header block for the parser, so the rest of the headers and the
    encoded body become the body. Clients read it as a continuation; so do we, when every
    line up to the first blank line is such a continuation or a header."""
    body = _raw_payload(part)
    blank = _BLANK_LINE.search(body, 0, 16384)
    if blank is None:
        return None
    lines = body[: blank.start()].splitlines()
    if not lines or not _PARAM_LINE.match(lines[0]):
        return None
    if not all(_HEADER_LINE.match(line) or _PARAM_LINE.match(line) for line in lines):
        return None
    head = b"".join(_as_bytes(f"{name}: {value}\r\n") for name, value in part.raw_items())
    for line in lines:
        head += (line if _HEADER_LINE.match(line) else b" " + line) + b"\r\n"
    try:
        return email.message_from_bytes(head + b"\r\n" + body[blank.end():], policy=_POLICY)
    except Exception:
        return None


def _reparsed_multipart(reader: Reader, part: Message, location: str) -> list[Message] | str:
    """The parts of a multipart the strict parse could not split, as older readers split it.

    policy.default cuts an unquoted boundary at an "=" (`boundary=abc=def`); compat32
    and mail clients take the whole value."""
    payload = part.get_payload()
    if not payload:
        return ""
    try:
        body = email.message_from_bytes(part.as_bytes(policy=email.policy.compat32), policy=email.policy.compat32)
    except Exception:
        return str(payload)
    if isinstance(body.get_payload(), list) and body.get_payload():
        reader.note(location, "multipart boundary parsed the way mail clients read it (unquoted special characters)")
        return list(body.get_payload())
    decoded = _decoded_multipart(reader, part, location)
    return decoded if decoded else str(payload)


def _decoded_multipart(reader: Reader, part: Message, location: str) -> list[Message]:
    """The parts of a multipart whose body carries a base64 or quoted-printable transfer
    encoding. RFC 2045 forbids that, but a client that decodes first shows the parts (and
    an attacker can hide them so): the body is decoded and parsed as the multipart's body."""
    cte_value = str(part.get("Content-Transfer-Encoding", "") or "")
    if encoded_blocks.normalise_cte(cte_value) not in ("base64", "quoted-printable"):
        return []
    decoded = _decode(reader, _raw_payload(part), cte_value)
    if decoded is None or not decoded.data.strip():
        return []
    head = _as_bytes(f"Content-Type: {part.get('Content-Type', '')}\r\n\r\n")
    try:
        body = email.message_from_bytes(head + decoded.data, policy=_POLICY)
    except Exception:
        return []
    parts = body.get_payload()
    if not isinstance(parts, list) or not parts:
        return []
    reader.note(location, f"multipart body with transfer encoding {cte_value.strip()!r}; decoded and parsed as MIME")
    return [p for p in parts if isinstance(p, Message)]


def _read_framing_text(reader: Reader, text: str | None, location: str, depth: int,
                       delimiters: re.Pattern[bytes] | None) -> None:
    """Preamble, epilogue or unsplit multipart body: text no MIME part holds, that a
    client may still show (and where a marking or an encoded file can hide).

    When it holds delimiter lines (parts after a premature end, a reused boundary), only
    the text before the first one is read here: the scan of the raw message reads the
    rest part by part, as a client that splits there would show it."""
    if not text or not text.strip():
        return
    data = _as_bytes(text)
    if delimiters is not None:
        first = delimiters.search(b"\n" + data)
        if first is not None:
            data = data[: first.start()]  # the offset of the line end before it, in `data`
            if not data.strip():
                return
    key = _key(data)
    if key in reader.seen:
        return
    reader.seen.add(key)
    read_loose_text(reader, data, location, depth)


def read_loose_text(reader: Reader, data: bytes, location: str, depth: int) -> None:
    """Text outside any part: kept as text; encoded files in it (uuencode, yEnc, BinHex,
    base64 runs) are decoded and read like attachments."""
    from dlp_gateway.content.text import decode_text

    try:
        text, _ = decode_text(data, None)
    except Exception:
        text = data.decode("utf-8", "replace")
    reader.segment(text, location, location, "body")
    for n, (kind, name, blob) in enumerate(_embedded_files(reader, data), start=1):
        key = _key(blob)
        if key in reader.seen:
            continue
        reader.seen.add(key)
        where = reader.unique_location(f"{location} › {name or f'{kind} {n}'}")
        reader.note(where, f"{kind}-encoded file in text outside the MIME parts; decoded and read")
        reader.read_file(blob, where, filename=name, declared_type=None, depth=depth + 1)


_BASE64_RUN = re.compile(rb"(?:^[A-Za-z0-9+/]{40,}={0,2}[ \t]*\r?\n){3,}(?:^[A-Za-z0-9+/]*={0,2}[ \t]*(?:\r?\n|\Z))?", re.M)


def _embedded_files(reader: Reader, data: bytes) -> list[tuple[str, str | None, bytes]]:
    allowed = reader.budget.bytes_allowed()
    found = [(b.kind, b.name, b.data) for b in encoded_blocks.find_blocks(data, allowed)]
    for run in list(_BASE64_RUN.finditer(data))[:20]:
        decoded = encoded_blocks.decode_base64(run.group(0), allowed)
        if decoded.data and not decoded.unreadable:
            found.append(("base64", None, decoded.data))
    return found


def _other_readings(reader: Reader, part: Message, location: str, filename: str | None, depth: int) -> None:
    """A part with two different Content-Type or Content-Transfer-Encoding headers is
    ambiguous: one client takes the first, another the last. Read it under each reading
    (the first was read by the walk); the worst result holds."""
    types = list(dict.fromkeys(str(v).split(";")[0].strip().lower() for v in part.get_all("content-type", []) or []))
    ctes = list(dict.fromkeys(str(v).strip().lower() for v in part.get_all("content-transfer-encoding", []) or []))
    if len(types) <= 1 and len(ctes) <= 1:
        return
    reader.note(location, f"duplicate headers (Content-Type {types}, Content-Transfer-Encoding {ctes}); read under each")
    raw = _raw_payload(part)
    readings = [(t, c) for t in (types or ["text/plain"]) for c in (ctes or [""])][1:MAX_READINGS + 1]
    for content_type, cte in readings:
        decoded = _decode_cte(reader, raw, cte, location)
        key = _key(decoded)
        if key in reader.seen and content_type == types[0]:
            continue
        reader.seen.add(key)
        where = reader.unique_location(f"{location} (as {content_type}, {cte or '7bit'})")
        reader.read_file(decoded, where, filename=filename, declared_type=content_type or None, depth=depth + 1)


def _attached_message_bytes(reader: Reader, part: Message, location: str) -> bytes:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else payload
    if isinstance(inner, Message):
        try:
            data = inner.as_bytes(policy=email.policy.compat32)
        except Exception:
            data = inner.as_string(policy=email.policy.compat32).encode("utf-8", "surrogateescape")
    elif isinstance(inner, bytes):
        data = inner
    else:
        data = str(inner or "").encode("utf-8", "surrogateescape")
    # The parser reads a message/rfc822 body as a message whatever its transfer
    # encoding; one that is base64 or quoted-printable must be decoded first.
    cte = encoded_blocks.normalise_cte(str(part.get("Content-Transfer-Encoding", "") or ""))
    if cte in ("base64", "quoted-printable", "uuencode"):
        reader.note(location, f"attached message in {cte} (RFC 2046 allows only 7bit/8bit/binary); decoded and read")
        return _decode_cte(reader, data, cte, location)
    return data


def _decode(reader: Reader, raw: bytes, cte_value: str) -> Decoded | None:
    """Decode `raw` by a transfer-encoding header value (loose spellings accepted);
    None when it names no encoding (identity or unknown)."""
    cte = encoded_blocks.normalise_cte(cte_value)
    allowed = reader.budget.bytes_allowed()
    if cte == "base64":
        return encoded_blocks.decode_base64(raw, allowed)
    if cte == "quoted-printable":
        return encoded_blocks.decode_qp(raw, allowed)
    if cte == "uuencode":
        return encoded_blocks.decode_uu(raw, allowed)
    return None


def _decode_cte(reader: Reader, raw: bytes, cte_value: str, location: str) -> bytes:
    """`_decode`, with the damage noted and a truncation recorded at `location`."""
    decoded = _decode(reader, raw, cte_value)
    if decoded is None:
        return raw
    _record_damage(reader, decoded, location)
    return decoded.data


def _record_damage(reader: Reader, decoded: Decoded, location: str) -> None:
    if decoded.damage:
        reader.note(location, f"{decoded.damage}; read what it decodes to")
    if decoded.truncated:
        reader.limit(location, reader.budget.byte_limit_name(), "decoded content larger than the byte limits; the rest not read")


def _decoded_payload(reader: Reader, part: Message, location: str) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """The part's raw body, its content, and other decodings to read too when its
    transfer encoding is unknown."""
    cte_value = str(part.get("Content-Transfer-Encoding", "") or "")
    raw = _raw_payload(part)
    cte = encoded_blocks.normalise_cte(cte_value)
    if cte is None:
        guesses = encoded_blocks.guesses(raw, reader.budget.bytes_allowed())
        names = ", ".join(name for name, _ in guesses)
        reader.note(location, f"unknown transfer encoding {cte_value.strip()!r}; read as is"
                    + (f" and decoded as {names}" if names else ""))
        return raw, raw, guesses
    spelled = cte_value.strip().lower()
    if spelled and spelled != cte and not (cte == "uuencode" and spelled in ("x-uuencode", "uuencode")):
        reader.note(location, f"transfer encoding {cte_value.strip()!r} read as {cte}")
    if cte == "base64":
        decoded = encoded_blocks.decode_base64(raw, reader.budget.bytes_allowed())
        if decoded.unreadable:
            # Labelled base64 but mostly other characters (plain text, say): a client
            # shows it as is, or decodes what it can. Read both.
            reader.note(location, "labelled base64 but mostly not base64; read as is and as decoded")
            return raw, raw, [("base64", decoded.data)] if decoded.data.strip() else []
        _record_damage(reader, decoded, location)
        if decoded.leftover.strip() or (decoded.damage and "outside its alphabet" in decoded.damage):
            # Text after the data, or foreign characters in it: what lies around the
            # base64 may be plain text a client shows (even its first lines can be
            # made of base64 letters, "SECRET//NOFORN" is). Read it as is too.
            return raw, decoded.data, [("text", raw)]
        return raw, decoded.data, []
    return raw, _decode_cte(reader, raw, cte_value, location), []


def read_attached_message(reader: Reader, data: bytes, location: str, depth: int, **_: object) -> None:
    """Reader for message/rfc822 files: attached messages and .eml files in archives
    (and Outlook's saved internet headers, whose first line is not a header)."""
    from dlp_gateway.content.filetype import OUTLOOK_HEADERS_LINE

    if data.startswith(OUTLOOK_HEADERS_LINE):
        data = data[len(OUTLOOK_HEADERS_LINE):].lstrip(b"\r\n")
    read_message(reader, data, location, depth)


# "From " separator lines of an mbox file: at the start, or after a blank line.
_MBOX_SEPARATOR = re.compile(rb"(?:\A|(?<=\n\n)|(?<=\n\r\n))From [^\r\n]*\r?\n")


def read_mailbox(reader: Reader, data: bytes, location: str, depth: int, **_: object) -> None:
    """Reader for mbox files (a Thunderbird, Google Takeout or mutt export) and messages
    saved with their mbox "From " line: each message is read as an attached message.
    The split follows mailbox.mbox (a "From " line after a blank line); ">From " quoting
    inside bodies (mboxrd) is left as it is, since the quoted line is prose either way."""
    from dlp_gateway.content.walk import join

    starts = [m.start() for m in _MBOX_SEPARATOR.finditer(data)]
    if len(starts) <= 1:
        read_message(reader, data, location, depth)  # the parser takes a leading "From " line as such
        return
    reader.note(location, f"mailbox of {len(starts)} messages; each read")
    for n, start in enumerate(starts, start=1):
        if reader.timed_out(location) or reader.members_exhausted(location):
            return
        end = starts[n] if n < len(starts) else len(data)
        reader.read_file(data[start:end], reader.unique_location(join(location, f"message {n}")), filename=None,
                         declared_type="message/rfc822", depth=depth + 1)


# -- what the parsed tree did not yield -------------------------------------------------

_HEADER_START = re.compile(rb"[!-9;-~]+[ \t]*:")
_HEADER_END = re.compile(rb"\A\r?\n|\r?\n\r?\n")


def _read_outside_tree(reader: Reader, raw: bytes, matches: list[re.Match[bytes]], prefix: str, depth: int) -> None:
    """Split the raw message at every delimiter line of every declared boundary and read
    each block the walk of the parsed tree did not read.

    The parser tracks one boundary per multipart; a client (or an attacker) may see the
    structure differently: an inner multipart reusing the outer boundary, parts after a
    premature closing delimiter (the parser files them under the epilogue), a duplicate
    Content-Type with another boundary. Blocks already read (same decoded content) are
    skipped, so well-formed mail costs one regex pass and one small parse per part."""
    from dlp_gateway.content.walk import join

    here = prefix or "(message)"
    hidden = 0
    for n, match in enumerate(matches):
        if reader.timed_out(here) or reader.budget.members >= reader.limits.max_members:
            return
        start = match.end() + (2 if raw[match.end(): match.end() + 2] == b"\r\n" else 1)
        end = matches[n + 1].start() if n + 1 < len(matches) else len(raw)
        block = raw[start:end]
        if end < len(raw) and block.endswith(b"\r"):  # the line end before a delimiter belongs to it
            block = block[:-1]
        if not block.strip():
            continue
        if match.group(1) or not (_HEADER_START.match(block) or block.startswith((b"\r\n", b"\n"))):
            # After a closing delimiter, or no headers: text (an epilogue, a stray block).
            key = _key(block)
            if key not in reader.seen:
                hidden += 1
                reader.seen.add(key)
                where = reader.unique_location(join(prefix, f"outside part {hidden}"))
                reader.note(where, "text between MIME boundaries that no part holds (e.g. after a premature end); read")
                read_loose_text(reader, block, where, depth)
            continue
        hidden += _read_block(reader, block, prefix, depth, hidden)


_UNFOLD = re.compile(rb"\r?\n[ \t]+")
_CT_LINE = re.compile(rb"^content-type[ \t]*:[ \t]*([^\r\n]*)", re.I | re.M)
_CTE_LINE = re.compile(rb"^content-transfer-encoding[ \t]*:[ \t]*([^\r\n]*)", re.I | re.M)
_CHARSET_PARAM = re.compile(rb"""charset[ \t]*=[ \t]*"?([^";\s]*)""", re.I)


def _light_reading(head: bytes) -> tuple[str | None, bytes]:
    """(content type or None without the header, `_reading` value) from a raw header
    block, without the email parser: the raw scan only needs it to recognise a part the
    walk read already, and a rare disagreement with `_reading` costs a full parse, not
    a miss."""
    head = _UNFOLD.sub(b" ", head)
    ct = _CT_LINE.search(head)
    cte = _CTE_LINE.search(head)
    content_type = None
    charset = ""
    if ct is not None:
        value = ct.group(1).decode("latin-1")
        content_type = value.split(";")[0].strip().strip('"').lower()
        if content_type.count("/") != 1:
            content_type = "text/plain"
        match = _CHARSET_PARAM.search(ct.group(1))
        charset = match.group(1).decode("latin-1").lower() if match else ""
    cte_name = encoded_blocks.normalise_cte(cte.group(1).decode("latin-1")) if cte else ""
    reading = f"{content_type or 'text/plain'}|{charset}|{cte_name if cte_name is not None else 'unknown'}"
    return content_type, reading.encode()


def _header_key(msg: Message) -> bytes:
    """What identifies a message's header block once read (its identifying headers)."""
    # Raw values (the policy's parse raises on some broken address headers), with their
    # folding ignored: an attached message is re-read from its serialisation.
    wanted = ("subject", "from", "date", "message-id", "to")
    raw = {name.lower(): value for name, value in reversed(list(msg.raw_items())) if name.lower() in wanted}
    values = [" ".join(str(raw.get(name, "")).split()) for name in wanted]
    return _key("\n".join(values).encode("utf-8", "surrogateescape"), b"headers")


def _digest_member_seen(reader: Reader, body: bytes) -> bool:
    """In a multipart/digest a part without Content-Type is a message/rfc822: the walk
    read it as an attached message, keyed by its serialised bytes; key it the same way."""
    try:
        inner = email.message_from_bytes(body, policy=_POLICY)
        if inner.get_content_maintype() == "multipart":  # cut at its first inner delimiter here
            return _header_key(inner) in reader.seen
        return _key(inner.as_bytes(policy=email.policy.compat32)) in reader.seen
    except Exception:
        return False


def _read_block(reader: Reader, block: bytes, prefix: str, depth: int, hidden: int) -> int:
    """Read one part-like block if the tree did not; 1 if it was read, else 0."""
    from dlp_gateway.content.walk import join

    # Well-formed mail: the walk read this very body already. Checked on the raw bytes,
    # before any parse or decoding (a 10 MB attachment would cost both again).
    split = _HEADER_END.search(block)
    body = block[split.end():] if split else b""
    raw_key = _key(body)
    if split is not None:
        content_type, reading = _light_reading(block[: split.start()])
        if content_type is not None and content_type.partition("/")[0] not in ("multipart", "message"):
            raw_key = _key(body, reading)
        if content_type is None and _digest_member_seen(reader, body):
            return 0
        if raw_key in reader.seen or not body.strip():
            return 0
    try:
        part = email.message_from_bytes(block, policy=_POLICY)
        if any(isinstance(d, errors.MissingHeaderBodySeparatorDefect) for d in part.defects):
            part = _repaired_headers(part) or part
        maintype = part.get_content_maintype()
    except Exception:
        return 0
    where_base = join(prefix, f"outside part {hidden + 1}")
    if part.get_content_type() in ("message/partial", "message/external-body"):
        reader.seen.add(raw_key)
        reader.problem(ProblemKind.UNSUPPORTED, where_base,
                       f"{part.get_content_type()} outside the parsed MIME structure: the content is not all here "
                       "and cannot be inspected")
        return 1
    if maintype == "multipart":
        # Its parts are blocks of their own; what lies before the first is its preamble.
        body = part.get_payload()
        text = _as_bytes(body) if isinstance(body, str) else _as_bytes(part.preamble or "")
        if not text.strip() or _key(text) in reader.seen:
            return 0
        reader.seen.add(_key(text))
        where = reader.unique_location(where_base)
        reader.note(where, "text of a multipart that the parsed structure did not reach; read")
        read_loose_text(reader, text, where, depth)
        return 1
    filename = _filename(part)
    decoded: Decoded | None = None
    if maintype == "message":
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(inner, Message) and inner.get_content_maintype() == "multipart":
            # Its parts are blocks of their own; its headers (Subject, labels) are read
            # here unless the walk read this message already.
            if _header_key(inner) in reader.seen:
                return 0
            headers = b"".join(_as_bytes(f"{name}: {value}\r\n") for name, value in inner.raw_items()) + b"\r\n"
            where = reader.unique_location(where_base)
            reader.note(where, "attached message that the parsed structure did not yield; its headers read here, "
                               "its parts by their boundaries")
            reader.read_file(headers, where, filename=filename, declared_type="message/rfc822", depth=depth + 1)
            return 1
        data = _attached_message_bytes(reader, part, where_base)
        declared = "message/rfc822"
    else:
        decoded = _decode(reader, _raw_payload(part), str(part.get("Content-Transfer-Encoding", "") or ""))
        data = _raw_payload(part) if decoded is None else decoded.data
        declared = part.get_content_type()
    key = _key(data) if maintype == "message" else _key(data, _reading(part))
    if key in reader.seen or not data.strip():
        return 0
    reader.seen.add(key)
    where = reader.unique_location(join(prefix, filename) if filename else where_base)
    if decoded is not None:
        _record_damage(reader, decoded, where)
    reader.note(where, "MIME part that the parsed structure did not yield (reused boundary, premature end or "
                       "duplicate Content-Type); found by its boundary and read")
    charset = _charset(part) if maintype == "text" else None
    reader.read_file(data, where, filename=filename, declared_type=declared, depth=depth + 1, charset=charset)
    return 1
