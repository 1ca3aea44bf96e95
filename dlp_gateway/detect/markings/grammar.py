"""The shared marking grammar: levels, declassification conditions, copy notes, page
numbers, the candidate and line model, and the normalisation hooks every system uses.

Each marking system (roc.py, prc.py, latin.py, office.py, declassified.py) builds its
patterns from the pieces here, so a level is spelled one way for all of them: the ROC
ladder (絕對機密 / 極機密 / 機密 / 密, simplified forms accepted, spaced characters
allowed), the PRC ladder (绝密 / 机密 / 秘密, one step lower per word), the ROC
declassification condition (「（本件至…解密）」), and the decoration a banner line may
carry. `Candidate` is what a system's scanner proposes; mentions.py decides which
candidates are markings and detector.py turns the kept ones into findings.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from dlp_gateway.model import Level

TS, S, C, R = Level.TOP_SECRET, Level.SECRET, Level.CONFIDENTIAL, Level.RESTRICTED


_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SP = r"[ \t\u3000]*"  # white space allowed between the characters of a level


def _spaced(chars: Iterable[str]) -> str:
    """`["[機机]", "密"]` -> a pattern allowing blanks between the characters."""
    return _SP.join(chars)


# ROC levels, longest first; simplified variants accepted (the ROC ladder applies).
_ROC_TS = _spaced(["[絕绝]", "[對对]", "[機机]", "密"])
_ROC_S = _spaced(["[極极]", "[機机]", "密"])
_ROC_C = _spaced(["[機机]", "密"])
_ROC_R_LONG = _spaced(["一", "般", "公", "[務务]", "[機机]", "密"])
_ROC_R = "密"
_ROC_LEVEL = (
    rf"(?:(?P<ts>{_ROC_TS})|(?P<s>{_ROC_S})|(?P<rl>{_ROC_R_LONG})|(?P<c>{_ROC_C})|(?P<r>{_ROC_R}))"
    rf"(?:{_SP}件)?"
)
# PRC levels (simplified; traditional look-alikes tolerated).
_PRC_LEVEL = r"(?:(?P<pts>[绝絕]\s*密)|(?P<ps>[机機]\s*密)|(?P<pc>秘\s*密))"
_PRC_PERIOD = (
    r"(?:\s*(?:\d+\s*(?:年|个月|個月)|[一二三四五六七八九十]+\s*年|[长長]\s*期|[启啟]\s*用\s*前"
    r"|[解][密]\s*[时時]\s*[间間][^\n]{0,12}))"
)

_NOT_HAN_BEFORE = rf"(?<![{_HAN}])"
_HAN_CHAR = re.compile(f"[{_HAN}]")
_NOT_HAN_AFTER = rf"(?![{_HAN}])"

_OPEN = "【[(（〔<＜《〈"
_CLOSE = "】])）〕>＞》〉"
_QUOTE_OPEN = "「『“\"‘'"
_QUOTE_CLOSE = "」』”\"’'"
_DECOR = r"[\s【】\[\]()（）〔〕<>＜＞《》〈〉*＊\-—–_=|·•.:：~～#]"

# Declassification conditions (國家機密保護法 art. 11 wording seen on documents).
_DECLASS_INNER = (
    r"(?:[^()（）\n]{0,40}?(?:解\s*密|保\s*密\s*期\s*限[^()（）\n]{0,20})[^()（）\n]{0,10}?)"
)
_DECLASS_BARE = (
    r"(?:(?:本件|本案|本文|附件|保存年限|保密期限)[^()（）\n，。；]{0,30}?(?:解\s*密|年|[屆届]滿))"
)
_DECLASS = rf"(?:[（(]{_DECLASS_INNER}[)）]|{_DECLASS_BARE})"
# In a banner line the opening bracket is taken by the decoration run before it.
_DECLASS_LINE = rf"(?:{_DECLASS_INNER}[)）]|{_DECLASS_BARE})"
_COPY = r"(?:[複复]\s*[製制]\s*物[^\n]{0,24})"
_PAGE = (
    r"(?:第\s*\d+\s*[頁页](?:\s*[,，/、]?\s*共\s*\d+\s*[頁页])?|共\s*\d+\s*[頁页]"
    r"|\d+\s*/\s*\d+|-\s*\d+\s*-|\d+|Page\s+\d+(?:\s+of\s+\d+)?)"
)

_BAND_KINDS = frozenset({"header_band", "footer_band", "header", "footer"})
_SUBJECT_KINDS = frozenset({"subject", "filename"})
_BANNER_START = re.compile(
    rf"(?:{_DECOR}|[［］])*"
    r"(?:[複复絕绝極极機机秘内內工A-Z\uff21-\uff3a]|一(?=般)|密(?![ \t\u3000]*[等級级碼码切度])"
    r"|\d{1,2}\.|[a-z]\.)"
)
# Full-width Latin letters and digits, full-width square brackets, compatibility ideographs:
# the forms NFKC changes that the line grammar does not already accept as they are.
_NEEDS_NFKC = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff3b\uff3d\uff0f\uf900-\ufaff]")
_MAX_BANNER_CHARS = 80  # longer lines are prose, never a banner
_EDGE_LINES = 3  # first/last non-empty lines of a page or body where banners stand
_LIST_WINDOW = 6  # lines: distinct banner levels this close together form a list of levels
_MAX_FINDINGS_PER_PART = 25
_EVIDENCE_CHARS = 120


def _roc_level(m: re.Match[str]) -> Level:
    if m.group("ts"):
        return TS
    if m.group("s"):
        return S
    if m.group("c"):
        return C
    return R  # rl / r


def _prc_level(m: re.Match[str]) -> Level:
    if m.group("pts"):
        return TS
    if m.group("ps"):
        return S
    return C


def normalize(text: str) -> str:
    """NFKC (full-width forms, ideographic space, compatibility ideographs) and LF lines."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return _lf(text)


def _lf(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\xa0" in text:  # HTML mail lays a letter's top line out with &nbsp;
        text = text.replace("\xa0", " ")
    return text


def _han_before(text: str, start: int) -> bool:
    return start > 0 and _HAN_CHAR.match(text, start - 1) is not None


def _evidence(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _EVIDENCE_CHARS else text[: _EVIDENCE_CHARS - 1] + "…"



@dataclass(slots=True)
class Candidate:
    rule: str
    level: Level
    system: str
    evidence: str
    confidence: float
    line: int  # line index within the segment (for the list-of-levels check)
    start: int  # offsets in the normalised segment text
    end: int
    position: str  # band | edge | middle | field | subject | fact
    tags: tuple[str, ...] = ()
    family: str = ""  # which candidates may form a list of levels together


@dataclass(slots=True)
class Lines:
    text: str
    starts: list[int] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    edge: set[int] = field(default_factory=set)
    register: tuple[list[int], list[int]] | None = None  # table rows: 密等 headings, 普通 cells

    @classmethod
    def of(cls, text: str) -> Lines:
        lines = text.split("\n")
        starts, pos = [], 0
        for line in lines:
            starts.append(pos)
            pos += len(line) + 1
        nonempty = [i for i, line in enumerate(lines) if line.strip()]
        edge = set(nonempty[:_EDGE_LINES]) | set(nonempty[-_EDGE_LINES:])
        return cls(text, starts, lines, edge)

    def line_of(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1


def _position(kind: str, lines: Lines, line_no: int) -> str:
    if kind in _BAND_KINDS:
        return "band"
    return "edge" if line_no in lines.edge else "middle"


_BASE_CONFIDENCE = {"band": 0.9, "edge": 0.85, "middle": 0.7}


@dataclass(slots=True)
class LineSite:
    """One trigger-hit line of a segment as every system's line grammar sees it
    (detector._scan_lines builds it; roc/prc/latin `line_candidates` read it)."""

    line: str  # stripped, reply quoting removed, NFKC applied where a form needs it
    line_no: int
    base: int  # offset of `line` in the normalised segment text
    position: str  # band | edge | middle
    conf: float  # base confidence of a banner at this position
    band: bool  # a header/footer band segment: tokens may share the line
    chunky: bool  # a short edge or block-opening line laid out with gaps
    lines: Lines
    top_line: bool = False  # the first non-empty line of a mail body, page or OCR text


class SegmentQuestions(Protocol):
    """What a system's line grammar may ask about the segment and its part; answered
    lazily (detector._Questions), so a line no system needs context for costs nothing."""

    def prc_script(self) -> bool:
        """The part is in PRC script (a bare 机密 is then the PRC 'secret')."""
        ...

    def about_latin(self) -> bool:
        """The part names three or more US/NATO levels: a text about classification."""
        ...

    def us_document(self, word: str) -> bool:
        """The segment is a US document for `word` (repeated, portion-marked, official)."""
        ...


class MarkingSystem(Protocol):
    """A marking system's module (roc, prc, latin): its line grammar and its label + value
    grammar. detector.SYSTEMS lists them in the order they are asked."""

    def line_candidates(self, site: LineSite, ask: SegmentQuestions, out: list[Candidate]) -> bool:
        """Append the candidates of one line; True when the line was taken (no later
        system looks at it)."""
        ...

    def scan_fields(self, text: str, lines: Lines, out: list[Candidate]) -> None:
        """Append the field candidates (label + value) of a segment's text."""
        ...


def _anchor_positions(text: str, patterns: tuple[re.Pattern[str], ...]) -> list[int]:
    """Start offsets of every pattern's matches, in text order."""
    if len(patterns) == 1:
        return [m.start() for m in patterns[0].finditer(text)]
    return sorted({m.start() for pattern in patterns for m in pattern.finditer(text)})


def _line_openers(text: str, patterns: tuple[re.Pattern[str], ...]) -> list[re.Match[str]]:
    """Matches of the patterns that open their line (only blanks before them)."""
    out = []
    for pattern in patterns:
        for m in pattern.finditer(text):
            line_start = text.rfind("\n", 0, m.start()) + 1
            if not text[line_start:m.start()].strip():
                out.append(m)
    return sorted(out, key=lambda m: m.start())
