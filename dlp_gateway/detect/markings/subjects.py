"""Levels in subject lines: a mail's Subject or an attachment's file name (【機密】,
a level as first word, 【机密★】, a US portion mark or banner first) and subject lines
inside a body (a letter's 主旨, a forwarded mail's Subject:). 《機密》 is a title, not a
marking.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dlp_gateway.detect.markings.grammar import (
    _CLOSE,
    _DECLASS,
    _OPEN,
    _PRC_LEVEL,
    _ROC_LEVEL,
    _SP,
    TS,
    C,
    Candidate,
    R,
    S,
    _prc_level,
    _roc_level,
    normalize,
)
from dlp_gateway.detect.markings.latin import (
    _CUI_BANNER,
    _EU_BANNER,
    _NATO_BANNER,
    _PORTION_CAVEATS,
    _US_BANNER,
    _latin_level,
    _portion_level,
)
from dlp_gateway.detect.markings.prc import _PRC_RESTRICTED_WORD, _is_simplified_restricted

# Subject lines: 【機密】 anywhere, a level as first word, US portion mark or banner first.
_SUBJECT_PREFIX = re.compile(r"^(?:\s*(?:RE|FW|FWD|AW|WG|TR|回覆|回复|轉寄|转发|答覆)\s*[:：])+", re.I)
# 《機密》 / 〈機密〉 in a subject are title marks (a book, a film, a news headline).
_SUBJECT_OPEN = _OPEN.replace("《", "").replace("〈", "")
_SUBJECT_CLOSE = _CLOSE.replace("》", "").replace("〉", "")
_SUBJECT_ROC = re.compile(
    rf"(?:(?P<ob>[{re.escape(_SUBJECT_OPEN)}])|^)\s*{_ROC_LEVEL}"
    rf"(?(ob)(?:文件|資料|资料|電報|电报|公文)?\s*[{re.escape(_SUBJECT_CLOSE)}]|(?:{_SP}{_DECLASS})?\s*[:：\-－—|｜/／_])"
)
_SUBJECT_PRC = re.compile(
    rf"[{re.escape(_SUBJECT_OPEN)}]\s*(?:{_PRC_LEVEL}|(?P<prcr>{_PRC_RESTRICTED_WORD}))\s*[★☆]?\s*[{re.escape(_SUBJECT_CLOSE)}]"
)
_SUBJECT_LATIN = re.compile(
    rf"^\s*(?:\((?P<mark>TS|S|C|U|CUI|FOUO|SBU|CTS|NS|NC|NR)(?P<pcaveats>{_PORTION_CAVEATS})?\)"
    rf"|(?P<ob>\[)?(?:{_NATO_BANNER}|{_EU_BANNER}|{_US_BANNER}|{_CUI_BANNER})(?(ob)\]|\s*(?:[:\-–|]|$)))"
)
# Banners that cannot be prose even without a separator after them: a US banner with `//`
# caveats ("SECRET//NOFORN trip report"), a PRC level with its ★ ("绝密★ 会议纪要"), and the
# two highest ROC levels opening the subject ("極機密 會議紀錄"; 機密 alone is ordinary prose).
_SUBJECT_US_CAVEATED = re.compile(rf"^\s*{_US_BANNER}(?=\s)")
_SUBJECT_PRC_STAR = re.compile(rf"^\s*{_PRC_LEVEL}\s*[★☆]")
_SUBJECT_ROC_OPENING = re.compile(r"^\s*(?:(?P<ts>[絕绝]對機密|[絕绝]对机密)|(?P<s>極機密|极机密))(?=\s)")
# Subject lines inside a body (a letter's 主旨, a forwarded mail's Subject:). One regex per
# label: a pattern that opens with a literal is scanned for with a fast substring search,
# an alternation is tried at every position (ten times slower on 100 KB).
BODY_SUBJECT_LINES = tuple(re.compile(p + r"[ \t\u3000]*[:：][ \t\u3000]*(?P<rest>[^\n]+)") for p in (
    r"主[ \t\u3000]*旨", r"主[ \t\u3000]*題", r"Subject", r"SUBJECT"))


def scan_subject(text: str, base_line: int, offset: int, out: list[Candidate], *, prc_script: Callable[[], bool],
                 rule_prefix: str = "subject") -> None:
    subject = _SUBJECT_PREFIX.sub("", normalize(text)).strip()
    m = _SUBJECT_ROC.search(subject)
    if m:
        level, system = _roc_level(m), "ROC"
        if level == C and "机" in (m.group("c") or "") and prc_script():
            level, system = S, "PRC"
        out.append(Candidate(f"{system.lower()}_{rule_prefix}", level, system, subject, 0.88, base_line,
                             offset, offset + len(text), "subject"))
        return
    m = _SUBJECT_PRC.search(subject)
    if m:
        if m.group("prcr"):
            if not _is_simplified_restricted(m.group("prcr")):
                return
            level = R
        else:
            level = _prc_level(m)
        out.append(Candidate(f"prc_{rule_prefix}", level, "PRC", subject, 0.88, base_line, offset,
                             offset + len(text), "subject"))
        return
    m = _SUBJECT_LATIN.match(subject)
    if m:
        if m.group("mark"):
            level, system = _portion_level(m.group("mark"), m.group("pcaveats") or "")
            if level is None:
                return
        else:
            level, system = _latin_level(m)
            if (system == "US" and level != R and not m.group("ob") and not m.group("caveats")
                    and not m.group(0).rstrip().endswith(subject.rstrip())):
                return  # 「TOP SECRET: Friday surprise party」: office banter, not a classified subject
        out.append(Candidate(f"{system.lower()}_{rule_prefix}", level, system, subject, 0.85,
                             base_line, offset, offset + len(text), "subject"))
        return
    _scan_unseparated_banner(subject, base_line, offset, len(text), out, rule_prefix)


def _scan_unseparated_banner(subject: str, base_line: int, offset: int, length: int, out: list[Candidate],
                             rule_prefix: str) -> None:
    """A subject that opens with an unmistakable banner followed only by a space."""
    m = _SUBJECT_US_CAVEATED.match(subject)
    if m and "//" in (m.group("caveats") or ""):
        level, system = _latin_level(m)
        out.append(Candidate(f"{system.lower()}_{rule_prefix}", level, system, subject, 0.85,
                             base_line, offset, offset + length, "subject"))
        return
    m = _SUBJECT_PRC_STAR.match(subject)
    if m:
        out.append(Candidate(f"prc_{rule_prefix}", _prc_level(m), "PRC", subject, 0.88, base_line, offset,
                             offset + length, "subject"))
        return
    m = _SUBJECT_ROC_OPENING.match(subject)
    if m:
        out.append(Candidate(f"roc_{rule_prefix}", TS if m.group("ts") else S, "ROC", subject, 0.88, base_line,
                             offset, offset + length, "subject"))
