"""Run one marking system's line grammar on one line, as detector._scan_lines would."""

from __future__ import annotations

from dlp_gateway.detect.markings.grammar import (
    _BASE_CONFIDENCE,
    Candidate,
    Lines,
    LineSite,
    _position,
)


def site(text: str, line_no: int = 0, kind: str = "body") -> LineSite:
    """The LineSite of line `line_no` of `text` (stripped, not chunky)."""
    lines = Lines.of(text)
    raw = lines.lines[line_no]
    position = _position(kind, lines, line_no)
    base = lines.starts[line_no] + len(raw) - len(raw.lstrip())
    return LineSite(raw.strip(), line_no, base, position, _BASE_CONFIDENCE[position],
                    kind in ("header_band", "footer_band", "header", "footer"), False, lines)


def summary(cands: list[Candidate]) -> list[tuple[str, str, str]]:
    """(rule, level, system) of each candidate."""
    return [(c.rule, c.level.label, c.system) for c in cands]
