"""TNEF (winmail.dat, application/ms-tnef): Outlook's wrapper around a rich-text message.

Outlook sends "rich text" mail to outside recipients as a winmail.dat that carries the
message body and every attachment; unread, they would pass uninspected. This reads the
TNEF attribute stream (MS-OXTNEF): the subject, the plain body attribute, each
attachment's title and data, and the MAPI property blocks (attMsgProps, attAttachment),
because that is where Outlook actually puts the body: PR_BODY (plain), PR_HTML (an HTML
body) and PR_RTF_COMPRESSED (the RTF body, LZFu-compressed, decompressed here with
`compressed-rtf`). A mail client that understands TNEF shows those bodies, so the gateway
reads them all. The HTML and RTF bodies go back through `Reader.read_file` to their
readers; an attachment's long file name (PR_ATTACH_LONG_FILENAME) replaces its 8.3 title,
and an embedded message (PR_ATTACH_DATA_OBJ) is read like any other file.

Strings are in the code page the message states (PR_INTERNET_CPID or PR_MESSAGE_CODEPAGE
in its property block), else the OEM code page of the stream (attOemCodepage).

Locations: `winmail.dat › subject|body`, `winmail.dat › body (html)`,
`winmail.dat › body (rtf)`, attachments `winmail.dat › <name>`.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from dlp_gateway.content.walk import join
from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader

SIGNATURE = 0x223E9F78
ATT_SUBJECT = 0x8004
ATT_BODY = 0x800C
ATT_ATTACH_REND_DATA = 0x9002
ATT_ATTACH_TITLE = 0x8010
ATT_ATTACH_DATA = 0x800F
ATT_OEM_CODEPAGE = 0x9007
ATT_MSG_PROPS = 0x9003
ATT_ATTACHMENT = 0x9005

# MAPI property ids (MS-OXPROPS) read from the property blocks.
PR_SUBJECT = 0x0037
PR_BODY = 0x1000
PR_RTF_COMPRESSED = 0x1009
PR_HTML = 0x1013
PR_ATTACH_DATA_OBJ = 0x3701
PR_ATTACH_LONG_FILENAME = 0x3707
PR_INTERNET_CPID = 0x3FDE
PR_MESSAGE_CODEPAGE = 0x3FFD

# MAPI property types: fixed value sizes (padded to 4 in TNEF) and variable-length types.
_FIXED = {0x0001: 4, 0x0002: 4, 0x0003: 4, 0x0004: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8,
          0x000A: 4, 0x000B: 4, 0x0014: 8, 0x0040: 8, 0x0048: 16}
PT_STRING8, PT_UNICODE, PT_BINARY, PT_OBJECT = 0x001E, 0x001F, 0x0102, 0x000D
_VARIABLE = {PT_STRING8, PT_UNICODE, PT_BINARY, PT_OBJECT}
_MULTI = 0x1000


def _string(value: bytes, codepage: str) -> str:
    value = value.split(b"\0", 1)[0]
    try:
        return value.decode(codepage)
    except (UnicodeDecodeError, LookupError):
        return value.decode("cp1252", "replace")


def _pad4(n: int) -> int:
    return (n + 3) & ~3


def mapi_properties(data: bytes) -> dict[int, tuple[int, bytes]]:
    """Decode a TNEF MAPI property list: property id -> (type, first value's bytes).

    Named properties (id >= 0x8000) are skipped over but kept out of the result: the
    body properties are all standard ones. Raises ValueError when the block is cut short.
    """
    out: dict[int, tuple[int, bytes]] = {}
    (count,) = struct.unpack_from("<I", data, 0)
    pos = 4
    for _ in range(count):
        if pos + 4 > len(data):
            raise ValueError("MAPI property list cut short")
        prop_type, prop_id = struct.unpack_from("<HH", data, pos)
        pos += 4
        if prop_id >= 0x8000:  # named property: GUID, kind, then an id or a name
            pos += 16
            (kind,) = struct.unpack_from("<I", data, pos)
            pos += 4
            if kind == 0:
                pos += 4
            else:
                (length,) = struct.unpack_from("<I", data, pos)
                pos += 4 + _pad4(length)
        base = prop_type & ~_MULTI
        values: list[bytes] = []
        if base in _VARIABLE:
            (n,) = struct.unpack_from("<I", data, pos)
            pos += 4
            if pos + 4 * n > len(data):
                raise ValueError("MAPI property list cut short")
            for _ in range(n):
                (length,) = struct.unpack_from("<I", data, pos)
                pos += 4
                if pos + length > len(data):
                    raise ValueError("MAPI property value cut short")
                values.append(data[pos: pos + length])
                pos += _pad4(length)
        elif base in _FIXED:
            n = 1
            if prop_type & _MULTI:
                (n,) = struct.unpack_from("<I", data, pos)
                pos += 4
            size = _FIXED[base]
            if pos + n * _pad4(size) > len(data):  # a hostile count must not loop for long
                raise ValueError("MAPI property list cut short")
            for _ in range(n):
                values.append(data[pos: pos + size])
                pos += _pad4(size)
        else:
            raise ValueError(f"unknown MAPI property type 0x{prop_type:04X}")
        if pos > len(data):
            raise ValueError("MAPI property list cut short")
        if prop_id < 0x8000 and values:
            out[prop_id] = (base, values[0])
    return out


def _text_property(prop: tuple[int, bytes], codepage: str) -> str:
    kind, value = prop
    if kind == PT_UNICODE:
        return value.decode("utf-16-le", "replace").split("\0", 1)[0]
    return _string(value, codepage)


def _message_codepage(props: dict[int, tuple[int, bytes]]) -> str | None:
    """The code page the message states (PR_INTERNET_CPID, else PR_MESSAGE_CODEPAGE)."""
    from dlp_gateway.content.text import codec_for_codepage

    for prop_id in (PR_INTERNET_CPID, PR_MESSAGE_CODEPAGE):
        if prop_id in props and len(props[prop_id][1]) >= 4:
            codec = codec_for_codepage(struct.unpack_from("<I", props[prop_id][1], 0)[0])
            if codec:
                return codec
    return None


def _read_body_properties(reader: Reader, props: dict[int, tuple[int, bytes]], codepage: str,
                          location: str, depth: int) -> None:
    stated = _message_codepage(props)
    codepage = stated or codepage
    if PR_SUBJECT in props:
        reader.segment(_text_property(props[PR_SUBJECT], codepage), join(location, "subject"), location, "subject")
    if PR_BODY in props:
        reader.segment(_text_property(props[PR_BODY], codepage), join(location, "body"), location, "body")
    if PR_HTML in props:
        kind, value = props[PR_HTML]
        html = value.decode("utf-16-le", "replace").encode() if kind == PT_UNICODE else value
        reader.read_file(html.rstrip(b"\0"), reader.unique_location(join(location, "body (html)")),
                         filename=None, declared_type="text/html", depth=depth + 1,
                         charset="utf-8" if kind == PT_UNICODE else stated)
    if PR_RTF_COMPRESSED in props:
        rtf = decompress_rtf(reader, props[PR_RTF_COMPRESSED][1], location)
        if rtf:
            reader.read_file(rtf, reader.unique_location(join(location, "body (rtf)")),
                             filename=None, declared_type="text/rtf", depth=depth + 1)


def decompress_rtf(reader: Reader, data: bytes, location: str) -> bytes | None:
    """PR_RTF_COMPRESSED (MS-OXRTFCP) to RTF bytes; a damaged one is a `corrupt` problem."""
    from compressed_rtf import decompress

    try:
        return bytes(decompress(data))
    except Exception as exc:
        reader.problem(ProblemKind.CORRUPT, join(location, "body (rtf)"),
                       f"compressed RTF body could not be decompressed: {type(exc).__name__}: {exc}"[:300])
        return None


def read_tnef(reader: Reader, data: bytes, location: str, depth: int, **_: object) -> None:
    if len(data) < 6 or struct.unpack_from("<I", data, 0)[0] != SIGNATURE:
        reader.problem(ProblemKind.CORRUPT, location, "not a TNEF stream")
        return
    codepage = "cp1252"
    attachments: list[dict[str, bytes]] = []
    message_props: list[bytes] = []
    pos = 6
    while pos + 9 <= len(data):
        if reader.timed_out(location):
            return
        _level, attribute, length = struct.unpack_from("<BII", data, pos)
        start = pos + 9
        if start + length + 2 > len(data):
            reader.problem(ProblemKind.CORRUPT, location, "TNEF stream cut short; the rest not read")
            break
        value = data[start: start + length]
        pos = start + length + 2  # 2-byte checksum follows each value
        attribute_id = attribute & 0xFFFF
        if attribute_id == ATT_OEM_CODEPAGE and length >= 4:
            codepage = f"cp{struct.unpack_from('<I', value, 0)[0]}"
        elif attribute_id == ATT_SUBJECT:
            reader.segment(_string(value, codepage), join(location, "subject"), location, "subject")
        elif attribute_id == ATT_BODY:
            reader.segment(_string(value, codepage), join(location, "body"), location, "body")
        elif attribute_id == ATT_MSG_PROPS:
            message_props.append(value)
        elif attribute_id == ATT_ATTACH_REND_DATA:
            attachments.append({})
        elif attribute_id in (ATT_ATTACH_TITLE, ATT_ATTACH_DATA, ATT_ATTACHMENT) and attachments:
            attachments[-1][str(attribute_id)] = value
    for block in message_props:
        try:
            props = mapi_properties(block)
        except (ValueError, struct.error) as exc:
            reader.problem(ProblemKind.CORRUPT, location, f"damaged MAPI property block; message body not read: {exc}"[:300])
            continue
        _read_body_properties(reader, props, codepage, location, depth)
    for number, attachment in enumerate(attachments, start=1):
        props = {}
        if str(ATT_ATTACHMENT) in attachment:
            try:
                props = mapi_properties(attachment[str(ATT_ATTACHMENT)])
            except (ValueError, struct.error) as exc:
                reader.problem(ProblemKind.CORRUPT, join(location, f"attachment {number}"),
                               f"damaged attachment property block: {exc}"[:300])
        content = attachment.get(str(ATT_ATTACH_DATA))
        if content is None and PR_ATTACH_DATA_OBJ in props:
            kind, value = props[PR_ATTACH_DATA_OBJ]
            content = value[16:] if kind == PT_OBJECT else value  # an object starts with its IID
        if content is None:
            continue
        title = (_text_property(props[PR_ATTACH_LONG_FILENAME], codepage) if PR_ATTACH_LONG_FILENAME in props else "") \
            or _string(attachment.get(str(ATT_ATTACH_TITLE), b""), codepage) or f"attachment {number}"
        where = reader.unique_location(join(location, title))
        reader.read_file(content, where, filename=title, declared_type=None, depth=depth + 1)
