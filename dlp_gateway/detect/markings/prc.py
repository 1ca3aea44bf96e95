"""PRC markings: 绝密★ / 机密★ / 秘密★ with their period, the 密级 field, 工作秘密 and
内部资料 lines, and the script test that tells a simplified-script (PRC) text from a
traditional one (a bare 机密 is PRC 'secret' only in a PRC text).
"""

from __future__ import annotations

import re

from dlp_gateway.detect.markings.grammar import (
    _DECOR,
    _NOT_HAN_AFTER,
    _NOT_HAN_BEFORE,
    _PRC_LEVEL,
    _PRC_PERIOD,
    _ROC_S,
    _ROC_TS,
    _SP,
    TS,
    Candidate,
    Lines,
    LineSite,
    R,
    S,
    SegmentQuestions,
    _han_before,
    _prc_level,
)

_PRC_FIELD = re.compile(
    rf"(?P<label>密\s*[级級]){_SP}[:：]?[ \t\u3000]*\n?[ \t\u3000]*"
    rf"(?:{_PRC_LEVEL}|(?P<roc>{_ROC_TS}|{_ROC_S}))(?P<star>\s*[★☆*]?{_PRC_PERIOD}?)"
    rf"{_NOT_HAN_AFTER}"
)
_PRC_STAR = re.compile(
    rf"{_PRC_LEVEL}\s*(?:[★☆](?P<period>{_PRC_PERIOD})?|\*(?P<period2>{_PRC_PERIOD}))"
)
_STAR = re.compile(r"[★☆*]")
_PRC_BANNER_LINE = re.compile(rf"{_DECOR}*{_PRC_LEVEL}(?:\s*[★☆])?(?:{_PRC_PERIOD})?{_DECOR}*")
_PRC_RESTRICTED_WORD = r"(?:工\s*作\s*秘\s*密|[内內]\s*部\s*[资資]\s*料)"
_PRC_RESTRICTED_TAIL = (
    r"(?:[\s,，、;；]*(?:注意保存|不得外[传傳]|严禁外传|[请請]勿外[传傳]|妥善保管|[内內]部使用"
    r"|注意保密|[严嚴]禁[复複][制製]|用[后後][收]回))*"
)
_PRC_RESTRICTED_LINE = re.compile(
    rf"{_DECOR}*(?P<word>{_PRC_RESTRICTED_WORD})(?:\s*[★☆])?{_PRC_RESTRICTED_TAIL}{_DECOR}*"
)
_PRC_RESTRICTED_BAND = re.compile(
    rf"{_NOT_HAN_BEFORE}(?P<word>{_PRC_RESTRICTED_WORD}){_PRC_RESTRICTED_TAIL}{_NOT_HAN_AFTER}"
)

# Script detection for bare 机密/機密: traditional-only vs simplified-only common characters.
_TRAD_ONLY = "國這說們為發會關於與對時來經過動實現應該進區書長問門見車東開學從當點還體將給沒"
_SIMP_ONLY = "国这说们为发会关于与对时来经过动实现应该进区书长问门见车东开学从当点还体将给没"
_ROC_YEAR = re.compile(r"(?<!\d)1[0-2]\d[ \t]*年")
_PRC_YEAR = re.compile(r"(?<!\d)20\d\d[ \t]*年")
_TRAD_RE = re.compile(f"[{_TRAD_ONLY}]")
_SIMP_RE = re.compile(f"[{_SIMP_ONLY}]")


def _is_simplified_jimi(m: re.Match[str]) -> bool:
    return "机" in (m.group("c") or "")


def _is_simplified_restricted(word: str) -> bool:
    # 工作秘密 is PRC by its wording; 内部资料 only counts in simplified script, since
    # 內部資料 is an everyday label of Taiwanese company papers.
    return "工" in word or ("资" in word)


def _prc_script_quick(text: str) -> bool:
    return len(_SIMP_RE.findall(text)) > len(_TRAD_RE.findall(text))


def line_candidates(site: LineSite, ask: SegmentQuestions, out: list[Candidate]) -> bool:
    """PRC grammar of one line: a banner without star (only in a PRC document; with a star
    anywhere) or a 工作秘密 / 内部资料 line. True when the line was taken."""
    line, line_no, base, position, conf = site.line, site.line_no, site.base, site.position, site.conf
    m = _PRC_BANNER_LINE.fullmatch(line)
    if m and ("★" in line or "☆" in line or ask.prc_script()):
        out.append(Candidate("prc_banner", _prc_level(m), "PRC", line, conf, line_no, base,
                             base + len(line), position, family="PRC"))
        return True
    m = _PRC_RESTRICTED_LINE.fullmatch(line) or (
        _PRC_RESTRICTED_BAND.search(line) if site.band else None
    )
    if m and _is_simplified_restricted(m.group("word")):
        out.append(Candidate("prc_restricted", R, "PRC", line, conf, line_no, base,
                             base + len(line), position, family="PRC-R"))
        return True
    return False


def scan_fields(text: str, lines: Lines, out: list[Candidate]) -> None:
    """The 密级 field (「密级：机密★1年」) and levels hanging on a star (机密★, 秘密★长期)."""
    for m in _PRC_FIELD.finditer(text):
        if _han_before(text, m.start()):
            continue
        if m.group("roc"):
            level = TS if "對" in m.group("roc") or "对" in m.group("roc") else S
        else:
            level = _prc_level(m)
        out.append(Candidate("prc_field", level, "PRC", m.group(0), 0.95, lines.line_of(m.start()),
                             m.start(), m.end(), "field", family="FIELD"))
    seen_star: set[int] = set()
    for star in _STAR.finditer(text):  # the PRC grammar hangs on the star: look around each one
        m = _PRC_STAR.search(text, max(0, star.start() - 8), star.end() + 24)
        if m is None or m.start() in seen_star or _han_before(text, m.start()):
            continue
        seen_star.add(m.start())
        out.append(Candidate("prc_star", _prc_level(m), "PRC", m.group(0), 0.92,
                             lines.line_of(m.start()), m.start(), m.end(), "field", family="STAR"))
