"""Declassified documents.

A declassified document still shows its old marking: struck through (a paper copy's
banner crossed out, which OCR or a word processor renders as letters with the combining
overlay U+0336), or left standing beside a stamp 「已解密」 / 「本件已解密」 / 「解密」 or
「DECLASSIFIED ON <date>」 with a date in the past. Such a marking is not a current one:
it is reported as a finding with rule `declassified`, tag `declassified`, no Level (so
`level_at_least` does not hold and the default policy delivers), the old level kept in
the tag `former_level:<level>`; its JSON summary says `"level": "declassified"`.
A site that wants declassified papers reviewed holds on `finding: {rule: declassified}`.

Guarding against a forged stamp: a stamp counts only as a line of its own (decoration,
the old level and a date allowed on it) among the first or last lines of a page or body
(or in a header/footer band); 「DECLASSIFIED」 needs a date, on its line or
on the two lines after it (a NARA stamp's 「Authority NND …」 / 「Date 5/1/2001」), and the
date must lie in the past; a partly struck banner is still a banner; one stamp
declassifies the markings of its own document (part) only, never those of another
attachment; and headers, labels and e-document facts are never declassified by text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dlp_gateway.detect.markings.grammar import (
    _BAND_KINDS,
    _MAX_BANNER_CHARS,
    _ROC_LEVEL,
    _SUBJECT_KINDS,
    _evidence,
    _prc_level,
    _roc_level,
)
from dlp_gateway.detect.markings.latin import _LATIN_BANNER_LINE, _latin_level
from dlp_gateway.detect.markings.prc import _PRC_BANNER_LINE
from dlp_gateway.detect.markings.roc import _roc_banner_match
from dlp_gateway.detect.textnorm import STRIKE_MARKS
from dlp_gateway.model import Finding, Level, Segment

_STAMP_DECOR = r"[\s【】\[\]()（）〔〕<>＜＞《》〈〉*＊\-—–_=|·•.:：~～#/／]"
_DATE_TAIL = r"[\d \t\u3000年月日./\-民國国中華华]{0,24}"
_ROC_STAMP = re.compile(
    rf"{_STAMP_DECOR}*(?:{_ROC_LEVEL}{_STAMP_DECOR}*)?"
    r"(?:(?:本件|本案|本文|此件|全案|原件)[ \t\u3000]*)?"
    r"(?:(?:業[ \t\u3000]*)?已[ \t\u3000]*(?:於[^\n]{1,20}?)?)?"
    rf"解[ \t\u3000]*密{_STAMP_DECOR}*(?:{_DATE_TAIL}{_STAMP_DECOR}*)?"
)
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_LATIN_STAMP = re.compile(
    r"[\s\[\](){}*=_\-–—|.]*DECLASSIFIED(?P<rest>(?:[ \t]*[:;,/\-–][ \t]*|[ \t]+)[^\n]{0,80})?", re.I)
_DATE_PATTERNS = (
    (re.compile(r"(?<!\d)(\d{4})[-./](\d{1,2})[-./](\d{1,2})(?!\d)"), "ymd"),
    (re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)"), "ymd"),
    (re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)"), "mdy"),
    (re.compile(r"(?<!\d)(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?,?\s+(\d{4})(?!\d)"), "dMy"),
    (re.compile(r"(?<![A-Za-z])([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})(?!\d)"), "Mdy"),
    (re.compile(r"(?<!\d)(\d{2,4})[ \t]*年[ \t]*(\d{1,2})[ \t]*月(?:[ \t]*(\d{1,2})[ \t]*日)?"), "cjk"),
    (re.compile(r"(?<![\d.])((?:19|20)\d\d)(?![\d.])"), "y"),
)


def _stamp_date(text: str) -> tuple[int, int, int] | None:
    """The first date in `text` as (year, month, day); ROC years (2-3 digits) converted."""
    for pattern, form in _DATE_PATTERNS:
        m = pattern.search(text)
        if not m:
            continue
        try:
            if form == "ymd":
                y, mo, d = int(m[1]), int(m[2]), int(m[3])
            elif form == "mdy":
                mo, d, y = int(m[1]), int(m[2]), int(m[3])
            elif form == "dMy":
                d, mo, y = int(m[1]), _MONTHS[m[2].lower()], int(m[3])
            elif form == "Mdy":
                mo, d, y = _MONTHS[m[1].lower()], int(m[2]), int(m[3])
            elif form == "cjk":
                y, mo, d = int(m[1]), int(m[2]), int(m[3] or 1)
                if y < 1000:  # 民國 year
                    y += 1911
            else:
                y, mo, d = int(m[1]), 12, 31
        except KeyError:
            continue
        if 1 <= mo <= 12 and 1 <= d <= 31 and 1900 <= y <= 2200:
            return y, mo, d
    return None


def _in_the_past(date: tuple[int, int, int]) -> bool:
    import time

    today = time.gmtime()
    return date < (today.tm_year, today.tm_mon, today.tm_mday)


def _lines_with(text: str, needle: str) -> Iterable[tuple[int, str]]:
    """(start offset, line) of each line holding `needle`, found by substring search."""
    pos = text.find(needle)
    while pos >= 0:
        start = text.rfind("\n", 0, pos) + 1
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        yield start, text[start:end]
        pos = text.find(needle, end)


_STAMP_EDGE_LINES = 5  # a stamp stands among the first or last lines of a page or body


def _at_edge(segment: Segment, text: str, start: int) -> bool:
    """The line starting at `start` is in a band, or among the first or last
    _STAMP_EDGE_LINES non-empty lines of its segment: where a stamp is put. A 「已解密」 in
    the middle of a document (a register's status column, prose) declassifies nothing."""
    if segment.kind in _BAND_KINDS:
        return True
    before = [ln for ln in text[:start].split("\n") if ln.strip()]
    if len(before) < _STAMP_EDGE_LINES:
        return True
    after = [ln for ln in text[start:].split("\n")[1:] if ln.strip()]
    return len(after) < _STAMP_EDGE_LINES


# Where a ROC stamp can be: 已 … 解 on a line, or 解 opening a line (after decoration). Both
# searches start with a literal, so a letter full of 「密等及解密條件」 fields costs little.
_ALREADY_DECLASSIFIED = re.compile("已[^\n]{0,24}?解")
_LINE_OPENS_WITH_DECLASS = re.compile(f"\n[{re.escape(' ' + chr(9) + chr(0x3000))}【\\[(（〔<＜《〈*＊\\-—–_=|·•.:：~～#/／]{{0,8}}解")


def _stamp_lines(text: str) -> Iterable[tuple[int, str]]:
    """(start offset, line) of the lines that may hold a ROC declassification stamp."""
    seen: set[int] = set()
    positions = [m.start() for m in _ALREADY_DECLASSIFIED.finditer(text)]
    positions += [m.start() + 1 for m in _LINE_OPENS_WITH_DECLASS.finditer("\n" + text)]
    for pos in sorted(positions):
        pos = min(pos, len(text) - 1) if text else 0
        start = text.rfind("\n", 0, pos) + 1
        if start in seen:
            continue
        seen.add(start)
        end = text.find("\n", pos)
        yield start, text[start:len(text) if end < 0 else end]


def declassification_stamp(segments: list[Segment], texts: list[str]) -> str | None:
    """The stamp line that declassifies this part, if any (see the section comment)."""
    joined = "\n".join(texts)
    roc = "解" in joined
    latin = "ECLASSIFIED" in joined or "eclassified" in joined
    if not (roc or latin):
        return None
    for segment, text in zip(segments, texts, strict=True):
        if segment.kind in _SUBJECT_KINDS or not text:
            continue
        for start, line in _stamp_lines(text) if roc else ():
            line = line.strip()
            if len(line) > _MAX_BANNER_CHARS:
                continue
            if "已" in line:
                stamp = _ROC_STAMP.fullmatch(line)
            else:
                stamp = line.lstrip(_STAMP_DECOR_CHARS).startswith("解") and _ROC_BARE_STAMP.fullmatch(line)
            if stamp and _at_edge(segment, text, start):
                return line
        for needle in ("ECLASSIFIED", "eclassified") if latin else ():
            for start, line in _lines_with(text, needle):
                m = _LATIN_STAMP.fullmatch(line.strip())
                if not m or len(line) > 2 * _MAX_BANNER_CHARS or not _at_edge(segment, text, start):
                    continue
                following = text[start + len(line):start + len(line) + 2 * _MAX_BANNER_CHARS].split("\n")[1:3]
                date = _stamp_date(" ".join([m.group("rest") or "", *following]))
                if date is not None and _in_the_past(date):
                    return " ".join(line.split())
    return None


_STAMP_DECOR_CHARS = " \t\u3000【】[]()（）〔〕<>＜＞《》〈〉*＊-—–_=|·•.:：~～#/／"


# A stamp that is 「解密」 alone (with decoration or a date): a stamp, not a condition.
_ROC_BARE_STAMP = re.compile(rf"{_STAMP_DECOR}*解[ \t\u3000]*密{_STAMP_DECOR}*(?:{_DATE_TAIL}{_STAMP_DECOR}*)?")


def declassify(finding: Finding, stamp: str) -> Finding:
    """A marking of a declassified document: kept as a record, without a current level."""
    assert finding.level is not None
    return Finding(finding.detector, "declassified", finding.location,
                   _evidence(f"{finding.evidence} [declassified: {stamp}]"), None, finding.system,
                   finding.confidence, ("declassified", f"former_level:{finding.level.label}", "stamp"))


_LEVEL_GROUPS = ("ts", "s", "rl", "c", "r", "us", "nato", "eu", "cui", "pts", "ps", "pc")


def struck_banners(segment: Segment, text: str) -> list[Finding]:
    """Banner lines whose level is struck through, every character of it: declassified
    markings. Caveats after the level (「//NOFORN」) may be left unstruck."""
    if not any(mark in text for mark in STRIKE_MARKS):
        return []
    out = []
    for line in text.split("\n"):
        line = line.strip()
        if not line or len(line) > 2 * _MAX_BANNER_CHARS or not any(m in line for m in STRIKE_MARKS):
            continue
        chars: list[str] = []
        struck: list[bool] = []
        for i, ch in enumerate(line):
            if ch not in STRIKE_MARKS:
                chars.append(ch)
                struck.append(i + 1 < len(line) and line[i + 1] in STRIKE_MARKS)
        plain = "".join(chars)
        level: Level | None = None
        system = ""
        m = _roc_banner_match(plain)
        if m:
            level, system = _roc_level(m), "ROC"
        elif (m := _LATIN_BANNER_LINE.fullmatch(plain)) is not None:
            level, system = _latin_level(m)
        elif (m := _PRC_BANNER_LINE.fullmatch(plain)) is not None:
            level, system = _prc_level(m), "PRC"
        if m is None or level is None:
            continue
        groups = m.groupdict()
        name = next((g for g in _LEVEL_GROUPS if groups.get(g)), None)
        if name is None:
            continue
        span = [i for i in range(*m.span(name)) if not plain[i].isspace()]
        if len(span) >= 2 and all(struck[i] for i in span):
            out.append(Finding("markings", "declassified", segment.location, _evidence(f"{line} (struck through)"),
                               None, system, 0.9, ("declassified", f"former_level:{level.label}", "struck_through")))
    return out
