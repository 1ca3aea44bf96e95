"""Mention suppression: which candidates are a level *named* rather than a document
*marked*. Quoted levels, example cues, lists of distinct levels on neighbouring lines,
definitions and bulleted handling rules after a level heading, grade columns of asset
tables, and texts about classification (see context.py), unless the level stands in a
structural place of an official or laid-out document or is mirrored top and bottom.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dlp_gateway.detect.markings.context import PartContext
from dlp_gateway.detect.markings.grammar import _LIST_WINDOW, Candidate, Lines
from dlp_gateway.model import Level

_EXAMPLE_CUE = re.compile(r"例如|範例|范例|舉例|举例|示例|例\s*[:：]|寫法|写法|格式|標示為|标示为|標註|标注|應標示|应标示|e\.g\.|for example|such as", re.I)


_QUOTE_REACH = 200  # characters


def _quoted(text: str, start: int, end: int) -> bool:
    """A marking inside 「…」, 『…』, “…” or "…" on its line is quoted prose, not a marking.

    Only _QUOTE_REACH characters either side are looked at, so a page-long line with
    thousands of candidates costs linear time, not quadratic."""
    low = max(0, start - _QUOTE_REACH)
    line_start = text.rfind("\n", low, start) + 1 or low
    line_end = text.find("\n", end, end + _QUOTE_REACH)
    head = text[line_start:start]
    tail = text[end:line_end if line_end >= 0 else min(len(text), end + _QUOTE_REACH)]
    for open_, close in (("「", "」"), ("『", "』"), ("“", "”"), ("‘", "’")):
        if head.count(open_) > head.count(close) and close in tail:
            return True
    return head.count('"') % 2 == 1 and '"' in tail


def _example(lines: Lines, line_no: int, start: int) -> bool:
    """An example cue earlier on the line, or ending the line just before (「範例：」)."""
    line_start = max(lines.starts[line_no], start - _QUOTE_REACH)
    head = lines.text[line_start:start]
    if _EXAMPLE_CUE.search(head):
        return True
    if line_no == 0:
        return False
    previous = lines.lines[line_no - 1].rstrip()
    # 「範例：」 introducing the next line; not a cue word somewhere in the previous sentence
    return previous.endswith((":", "：")) and bool(_EXAMPLE_CUE.search(previous[-20:]))


_DEFINITION = re.compile(
    r"[ \t\u3000]*(?:[係是意乃]指|指(?![示導导派定揮挥出正])|適用於|适用于|定義為|定义为|洩漏後|泄露后|泄漏后|means\b|refers to"
    r"|(?:is )?defined as|[Ii]nformation (?:whose|that|the unauthorized))")


# A level heading followed by bulleted handling rules (「機密」 / 「• 應存放於保險櫃」) is a
# training slide's heading; 應邀 / 應美方… (at the invitation of) opens ordinary prose.
_RULES_BULLET = re.compile(
    r"[ \t\u3000]*(?:[•·‧●○◆■□▪\-*–]|\d{1,2}[.、)）]|[（(]?[一二三四五六七八九十]{1,2}[、)）])[ \t\u3000]*"
    r"(?:應(?!邀|[美日英法德韓歐中][^\n]{0,3}方)|不得|須|必須|禁止|嚴禁|严禁|請勿|请勿|勿|应(?!邀)|不可)")


def _defined_next(lines: Lines, line_no: int) -> bool:
    """A level heading followed by its definition (「機密」 / 「指洩漏後…」) or by bulleted
    handling rules (「• 應存放於保險櫃」) is a handout's term."""
    for following in lines.lines[line_no + 1:line_no + 3]:
        if following.strip():
            return _DEFINITION.match(following) is not None or _RULES_BULLET.match(following) is not None
    return False



_ABOUT: dict[str, Callable[[PartContext], bool]] = {
    "ROC": lambda ctx: ctx.about_roc, "US": lambda ctx: ctx.about_latin,
    "NATO": lambda ctx: ctx.about_latin, "PRC": lambda ctx: ctx.about_prc,
}


_MENTION_SYSTEM = {"ROC": "ROC", "PRC": "PRC", "US": "LATIN", "NATO": "LATIN"}


def _never(_ctx: PartContext) -> bool:
    return False


def drop_mentions(cands: list[Candidate], text: str, lines: Lines, ctx: PartContext, kind: str) -> list[Candidate]:
    """Drop mentions: quoted levels, examples, lists of levels, texts about classification."""
    if not cands:
        return cands
    # Lists of levels: distinct levels of one family within a few lines of each other.
    by_family: dict[str, list[Candidate]] = {}
    for cand in cands:
        if cand.position in ("band", "edge", "middle", "field"):
            by_family.setdefault(cand.family, []).append(cand)
    listed: set[int] = set()
    for group in by_family.values():
        listed |= _listed(group)
    kept: list[Candidate] = []
    for cand in cands:
        if cand.position == "subject":
            kept.append(cand)
            continue
        if id(cand) in listed:
            continue
        if _quoted(text, cand.start, cand.end):
            continue
        if cand.position != "band" and _example(lines, cand.line, cand.start):
            continue
        if cand.position in ("edge", "middle") and _defined_next(lines, cand.line):
            continue
        if cand.position in ("edge", "middle") and cand.rule == "roc_banner" and _grade_column(lines, cand.line):
            continue
        if cand.position != "band" and not _mirrored(lines, cand):
            # A text naming three or more levels is about classification; only an official
            # document (or one laid out as a letter, memo or cable) keeps the markings in
            # its structural places.
            kept_in_place = cand.position != "middle" and ctx.structured
            if _ABOUT.get(cand.system, _never)(ctx) and not kept_in_place:
                continue
            # Training, awareness and news texts that name a level more than once: only
            # an official or structured document's markings count.
            if not kept_in_place and ctx.mentions(_MENTION_SYSTEM.get(cand.system, "")) >= 2 and ctx.topical:
                continue
        kept.append(cand)
    # One finding per place: a field also matches the declassification rule, etc.
    kept.sort(key=lambda c: (c.start, -(c.end - c.start), -c.confidence))
    result: list[Candidate] = []
    for cand in kept:
        if result and cand.start < result[-1].end and cand.level == result[-1].level:
            continue
        result.append(cand)
    return result


_GRADE_REACH = 12  # lines: a few table rows of five or six cells
_SPEED_LABEL = re.compile(r"速[ \t\u3000]*[別别]")
_GRADE_WORDS = frozenset({"普通", "一般", "限閱", "限阅", "敏感", "公開", "公开", "非機密", "內部", "内部", "內部使用"})


def _grade_column(lines: Lines, line_no: int) -> bool:
    """A lone level among lines that are grade values (「一般」, 「限閱」, 「普通」): a table's
    grade column read one cell per line (an ISMS asset inventory: 機密 / 限閱 / 一般), not a
    banner. Two such cells within _GRADE_REACH lines either side are asked for, and a 普通
    that is a form's 速別 value (the cell after 「速別」) does not count, so a letter form's
    「機密 … 速別 / 普通」 stays marked. Bounded work per candidate: linear."""
    found = 0
    for index in range(max(0, line_no - _GRADE_REACH), min(len(lines.lines), line_no + _GRADE_REACH + 1)):
        if index == line_no or lines.lines[index].strip(" \t\u3000") not in _GRADE_WORDS:
            continue
        if index and _SPEED_LABEL.fullmatch(lines.lines[index - 1].strip(" \t\u3000:：")):
            continue
        found += 1
        if found >= 2:
            return True
    return False


def _mirrored(lines: Lines, cand: Candidate) -> bool:
    """The same banner is the first and the last non-empty line: how a marked page is laid out."""
    if cand.position != "edge" or not lines.edge:
        return False
    first, last = min(lines.edge), max(lines.edge)
    if first == last or cand.line not in (first, last):
        return False
    return lines.lines[first].strip() == lines.lines[last].strip()


def _listed(group: list[Candidate]) -> set[int]:
    """Candidates with another level within _LIST_WINDOW lines: a sliding window over the
    candidates in line order (linear; a page of 20,000 banner lines must not be quadratic)."""
    ordered = sorted(group, key=lambda c: c.line)
    counts: dict[Level, int] = {}
    out: set[int] = set()
    lo = hi = 0
    for cand in ordered:
        while hi < len(ordered) and ordered[hi].line <= cand.line + _LIST_WINDOW:
            counts[ordered[hi].level] = counts.get(ordered[hi].level, 0) + 1
            hi += 1
        while ordered[lo].line < cand.line - _LIST_WINDOW:
            left = ordered[lo].level
            counts[left] -= 1
            if not counts[left]:
                del counts[left]
            lo += 1
        if len(counts) > 1:
            out.add(id(cand))
    return out
