"""Make text from mail safe to show to a person: no terminal control, no reordering.

A Subject, a sender address, a file name inside an archive or a finding's evidence come
from whoever sent the message. Printed raw, ESC sequences clear or rewrite the officer's
terminal (`ESC[2J`, OSC title/hyperlink sequences, fake lines), BEL rings, and the
Unicode bidi overrides (U+202A–202E, U+2066–2069) make `gpj.exe` read as `exe.jpg`.
Everything the commands print for a person and every log line goes through `printable`:
C0 controls, DEL, C1 controls and the bidi overrides become visible escapes (`\\x1b`,
`\\x9b`, `\\u202e`). Newline and tab are kept only where the layout needs them
(`multiline=True`: a message body, a traceback); in a one-line field they are escaped
too, so a Subject cannot forge a second line such as `status: released`.

JSON output (`json_text`) keeps `ensure_ascii=False` so Chinese and other scripts stay
readable, but escapes DEL, C1 and the bidi overrides as `\\uXXXX` (json.dumps already
escapes C0): the value a program parses is unchanged, a terminal showing the line is safe.
"""

from __future__ import annotations

import json
import re
from typing import Any

BIDI_CONTROLS = frozenset([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_UNSAFE_CODES = frozenset([*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *BIDI_CONTROLS])


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_TABLE_LINE = {code: _escape(code) for code in _UNSAFE_CODES}
_TABLE_MULTILINE = {code: value for code, value in _TABLE_LINE.items() if code not in (0x09, 0x0A)}
_UNSAFE_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_UNSAFE_CODES)) + "]")
# In JSON text C0 is already escaped by json.dumps; these are the ones it leaves raw.
_JSON_RAW = re.compile("[\x7f-\x9f" + "".join(chr(c) for c in sorted(BIDI_CONTROLS)) + "]")


def printable(value: object, *, multiline: bool = False) -> str:
    """`value` as text a terminal shows literally (see the module docstring).

    With `multiline`, newline and tab stay (CRLF becomes a newline); a lone CR, which
    would let a line overwrite itself, is escaped like any other control.
    """
    text = value if isinstance(value, str) else str(value)
    if not _UNSAFE_RE.search(text):  # the common case: nothing to do
        return text
    if multiline:
        return text.replace("\r\n", "\n").translate(_TABLE_MULTILINE)
    return text.translate(_TABLE_LINE)


def json_text(obj: Any, **kwargs: Any) -> str:
    """json.dumps(obj, ensure_ascii=False, ...) with DEL, C1 and bidi controls escaped."""
    kwargs.setdefault("ensure_ascii", False)
    text = json.dumps(obj, **kwargs)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


__all__ = ["printable", "json_text", "BIDI_CONTROLS"]
