"""TNEF (winmail.dat, application/ms-tnef): Outlook's wrapper around attachments.

Outlook sends "rich text" mail to outside recipients with every attachment packed in one
winmail.dat; unread, those attachments would pass uninspected. This reads the TNEF
attribute stream (MS-OXTNEF): the subject, the plain body, and each attachment's title
and data, which go back through `Reader.read_file`. Strings are in the OEM code page the
stream declares (attOemCodepage). MAPI property blocks are not decoded.
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


def _string(value: bytes, codepage: str) -> str:
    value = value.split(b"\0", 1)[0]
    try:
        return value.decode(codepage)
    except (UnicodeDecodeError, LookupError):
        return value.decode("cp1252", "replace")


def read_tnef(reader: Reader, data: bytes, location: str, depth: int, **_: object) -> None:
    if len(data) < 6 or struct.unpack_from("<I", data, 0)[0] != SIGNATURE:
        reader.problem(ProblemKind.CORRUPT, location, "not a TNEF stream")
        return
    codepage = "cp1252"
    attachments: list[dict[str, bytes]] = []
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
        elif attribute_id == ATT_ATTACH_REND_DATA:
            attachments.append({})
        elif attribute_id in (ATT_ATTACH_TITLE, ATT_ATTACH_DATA) and attachments:
            attachments[-1][str(attribute_id)] = value
    for number, attachment in enumerate(attachments, start=1):
        if str(ATT_ATTACH_DATA) not in attachment:
            continue
        title = _string(attachment.get(str(ATT_ATTACH_TITLE), b""), codepage) or f"attachment {number}"
        where = reader.unique_location(join(location, title))
        reader.read_file(attachment[str(ATT_ATTACH_DATA)], where, filename=title, declared_type=None, depth=depth + 1)
