"""Run one marking system's line grammar on one line, as detector._scan_lines would."""

from __future__ import annotations

from dlp_gateway.detect.markings.grammar import (
    _BASE_CONFIDENCE,
    Candidate,
    Lines,
    LineSite,
    _position,
)


class Ask:
    """SegmentQuestions with fixed answers."""

    def __init__(self, *, prc_script: bool = False, about_latin: bool = False, us_document: bool = False) -> None:
        self._prc, self._about, self._us = prc_script, about_latin, us_document

    def prc_script(self) -> bool:
        return self._prc

    def about_latin(self) -> bool:
        return self._about

    def us_document(self, word: str) -> bool:
        return self._us


def site(text: str, line_no: int = 0, kind: str = "body", *, top_line: bool = False) -> LineSite:
    """The LineSite of line `line_no` of `text` (stripped, not chunky)."""
    lines = Lines.of(text)
    raw = lines.lines[line_no]
    position = _position(kind, lines, line_no)
    base = lines.starts[line_no] + len(raw) - len(raw.lstrip())
    return LineSite(raw.strip(), line_no, base, position, _BASE_CONFIDENCE[position],
                    kind in ("header_band", "footer_band", "header", "footer"), False, lines, top_line)


def summary(cands: list[Candidate]) -> list[tuple[str, str, str]]:
    """(rule, level, system) of each candidate."""
    return [(c.rule, c.level.label, c.system) for c in cands]
