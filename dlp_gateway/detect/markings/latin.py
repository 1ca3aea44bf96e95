"""US, NATO, EU and CUI markings: upper-case banner lines with caveats (also the pre-2008
「SECRET/NOFORN」 forms and spelled-out cable banners), band chunks, and portion marks
at paragraph start ((S//NF), (U//FOUO) = restricted, NATO (NS)).

A lone upper-case level without caveats counts only in a US document (repeated,
portion-marked or with a classification authority), or as the first line of a short
mail or page; the patterns are linear-time (atomic groups).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dlp_gateway.detect.markings.context import PartContext
from dlp_gateway.detect.markings.grammar import (
    TS,
    C,
    Candidate,
    Lines,
    LineSite,
    R,
    S,
    SegmentQuestions,
)
from dlp_gateway.model import Level

# US / NATO banners: upper case, whole line (or a chunk of a band line set off by 2+ blanks).
# Caveat words: one unambiguous way to read "//REL TO USA, TWN//NOFORN" (no run of the
# character class can also match the separators), held in an atomic group so that a line
# that fails later does not make the engine try every split: linear time on any input.
_CAVEAT = r"[A-Z0-9]+(?:(?:, ?| |[./&-])[A-Z0-9]+(?![a-z]))*"
_US_CAVEATS = rf"(?>(?:[ \t]*//[ \t]*{_CAVEAT})*)"
# Before the 2008 register, caveats followed a single slash or a blank: 「SECRET/NOFORN」,
# 「CONFIDENTIAL NOFORN」. Only the dissemination controls themselves are accepted that way.
_OLD_CONTROLS = r"(?:NOFORN|NOCONTRACT|ORCON|PROPIN|WNINTEL|NODIS|EXDIS|LIMDIS|STADIS)(?![A-Za-z])"
_US_BANNER_CAVEATS = rf"(?>(?:[ \t]*//[ \t]*{_CAVEAT}|(?:[ \t]*/[ \t]*|[ \t]+){_OLD_CONTROLS})*)"
_PORTION_CAVEATS = r"(?://[A-Z0-9][A-Z0-9 ,./&-]*|/(?:NF|NOFORN|OC|ORCON|PR|PROPIN|REL[A-Z ,]*|FOUO|SBU|LES))"
_US_WORDS = {"TOPSECRET": TS, "SECRET": S, "CONFIDENTIAL": C}
_NATO_WORDS = {"COSMIC TOP SECRET": TS, "NATO SECRET": S, "NATO CONFIDENTIAL": C, "NATO RESTRICTED": R}
_NATO_SUFFIX = r"(?>(?:[ \t]*[-–/]*[ \t]*(?:ATOMAL|BOHEMIA|BALK))*)"
# Cables spell the banner out: "S E C R E T SECTION 01 OF 02 TAIPEI 001234".
_US_BANNER = (
    r"(?P<us>TOP\s+SECRET|SECRET|CONFIDENTIAL|T ?O ?P {1,3}S E C R E T|S E C R E T|C O N F I D E N T I A L)"
    rf"(?P<caveats>{_US_BANNER_CAVEATS})"
)
_CABLE_TAIL = r"(?P<cable>(?:[ \t]+SECTION[ \t]+\d+[ \t]+OF[ \t]+\d+)?[ \t]+[A-Z]+(?: [A-Z]+){0,3}[ \t]+\d{3,7})?"
_LABEL_PREFIX = r"(?:(?:CLASSIFICATION|Classification)\s*:\s*)?"
_NATO_BANNER = (
    r"(?P<nato>COSMIC\s+TOP\s+SECRET|NATO\s+SECRET|NATO\s+CONFIDENTIAL|NATO\s+RESTRICTED)"
    rf"(?P<suffix>{_NATO_SUFFIX})(?:{_US_CAVEATS})(?>(?:[ \t]+[-–][ \t]+{_CAVEAT}(?=[ \t]*$|\s\s|\t|[\])]))?)"
)
_CUI_BANNER = (
    rf"(?P<cui>CUI{_US_CAVEATS}|CONTROLLED\s+UNCLASSIFIED\s+INFORMATION"
    r"|(?:UNCLASSIFIED\s*//\s*)?(?:FOR\s+OFFICIAL\s+USE\s+ONLY|FOUO|SBU|SENSITIVE\s+BUT\s+UNCLASSIFIED"
    rf"|LIMITED\s+OFFICIAL\s+USE){_US_CAVEATS})"
)
# EU classified information (a mission to the EU meets it): 「RESTREINT UE/EU RESTRICTED」.
_EU_BANNER = (
    r"(?P<eu>(?:TR[ÈE]S\s+SECRET\s+UE|SECRET\s+UE|CONFIDENTIEL\s+UE|RESTREINT\s+UE)\s*/\s*"
    r"EU\s+(?:TOP\s+SECRET|SECRET|CONFIDENTIAL|RESTRICTED)|EU\s+(?:TOP\s+SECRET|SECRET|CONFIDENTIAL|RESTRICTED))"
)
_EU_WORDS = {"TOP SECRET": TS, "SECRET": S, "CONFIDENTIAL": C, "RESTRICTED": R}
_LATIN_DECOR = r"[\s\[\]()*=_\-–—|.]"
_LATIN_PAGE = r"(?:(?:Page|PAGE)\s+\d+(?:\s+(?:of|OF)\s+\d+)?|\d+\s*/\s*\d+|-\s*\d+\s*-|\d+)"
_LATIN_BANNER_LINE = re.compile(
    rf"{_LATIN_DECOR}*+{_LABEL_PREFIX}(?:{_NATO_BANNER}|{_EU_BANNER}|{_US_BANNER}{_CABLE_TAIL}|{_CUI_BANNER})"
    rf"{_LATIN_DECOR}*+(?:{_LATIN_PAGE})?{_LATIN_DECOR}*+"
)
_LATIN_BAND_CHUNK = re.compile(
    rf"(?:^|(?<=\s\s)|(?<=\t))[\[(]?{_LABEL_PREFIX}(?:{_NATO_BANNER}|{_EU_BANNER}|{_US_BANNER}{_CABLE_TAIL}|{_CUI_BANNER})[\])]?(?=\s\s|\t|\s*$)",
    re.M,
)
# Portion marks at paragraph start: (TS), (S//NF), (C), (U), (CUI), (U//FOUO), NATO (NS).
_PORTION = re.compile(
    r"^[ \t]*(?:\d{1,2}\.|[a-z]\.|[-•*])?[ \t]*\((?P<mark>TS|S|C|U|CUI|FOUO|SBU|CTS|NS|NC|NR|NU)(?P<caveats>"
    + _PORTION_CAVEATS + r")?\)"
    r"[ \t]+(?P<rest>\S[^\n]{0,60})",
    re.M,
)
_PORTION_LEVEL: dict[str, tuple[Level | None, str]] = {
    "TS": (TS, "US"), "S": (S, "US"), "C": (C, "US"), "U": (None, "US"),
    "CUI": (R, "US"), "FOUO": (R, "US"), "SBU": (R, "US"),
    "CTS": (TS, "NATO"), "NS": (S, "NATO"), "NC": (C, "NATO"), "NR": (R, "NATO"), "NU": (None, "NATO"),
}
# (U//FOUO), (U//SBU), (U//CUI): unclassified but controlled, as the FOUO banner.
_CONTROLLED_CAVEAT = re.compile(r"//\s*(?:FOUO|SBU|LES|CUI|SENSITIVE)")


def _portion_level(mark: str, caveats: str) -> tuple[Level | None, str]:
    level, system = _PORTION_LEVEL[mark]
    if level is None and mark == "U" and caveats and _CONTROLLED_CAVEAT.match(caveats):
        return R, system
    return level, system


_ENUM_START = re.compile(r"^[ \t]*\((?:A|B|D|E)\)[ \t]", re.M)
_DISCLAIMER_CUE = re.compile(
    r"intended|recipient|privileged|e-?mail|disclos|notify the sender|prohibited|attachments?", re.I
)
_LATIN_TRIGGER = re.compile(r"SECRET|CONFIDENTIAL|S E C R E T|C O N F I D|RESTRICTED|CUI|FOUO|SBU|OFFICIAL USE|UNCLASSIFIED")


def _latin_level(m: re.Match[str]) -> tuple[Level, str]:
    groups = m.groupdict()
    if groups.get("nato"):
        return _NATO_WORDS[re.sub(r"\s+", " ", groups["nato"])], "NATO"
    if groups.get("eu"):
        english = re.sub(r"\s+", " ", groups["eu"]).rsplit("EU ", 1)[1]
        return _EU_WORDS[english], "EU"
    if groups.get("us"):
        return _US_WORDS[re.sub(r"\s+", "", groups["us"])], "US"
    return R, "US"


_CAPS_HEADING = re.compile(r"[A-Z][A-Z0-9&'’ -]{2,40}")


def _caps_headings_elsewhere(lines: list[str], line_no: int) -> bool:
    """Another all-capitals heading line (「SPORTS DAY」): the top line is one section title
    among several, as in a newsletter, not a banner."""
    for index, raw in enumerate(lines):
        line = raw.strip()
        if index != line_no and _CAPS_HEADING.fullmatch(line) and not _LATIN_TRIGGER.search(line):
            return True
    return False


_US_PORTION_ANY = re.compile(r"^[ \t]*(?:\d{1,2}\.[ \t]*)?\((?:TS|S|C|U)(?:/{1,2}[^)\n]*)?\)[ \t]", re.M)


_LABEL_PREFIX_RE = re.compile(r"\W*Classification\s*:", re.I)


def _us_document(text: str, ctx_of: Callable[[], PartContext], word: str) -> bool:
    """US classified documents repeat the banner top and bottom, mark portions, or name an authority."""
    return (text.count(word) >= 2 or bool(_US_PORTION_ANY.search(text))
            or ctx_of().official)


def _disclaimer_follows(lines: Lines, line_no: int) -> bool:
    after = " ".join(lines.lines[line_no + 1:line_no + 3])
    return bool(_DISCLAIMER_CUE.search(after))


def _portion_candidates(text: str, lines: Lines, portions: list[tuple[int, re.Match[str]]],
                        out: list[Candidate]) -> None:
    """Portion marks count when the text is portion-marked, not a lettered list."""
    if not portions:
        return
    lettered = bool(_ENUM_START.search(text))
    for line_no, pm in portions:
        mark, caveats = pm.group("mark"), pm.group("caveats") or ""
        level, system = _portion_level(mark, caveats)
        if level is None:
            continue
        ambiguous = mark in ("S", "C") and not caveats
        if ambiguous and (lettered or len(portions) < 2 or pm.group("rest")[:1].isdigit()
                          or pm.group("rest").lower().startswith("copyright")):
            continue
        start = lines.starts[line_no]
        out.append(Candidate("nato_portion" if system == "NATO" else "us_portion", level, system,
                             pm.group(0).strip(), 0.7 if ambiguous else 0.85, line_no, start,
                             start + len(pm.group(0)), "portion", family="PORTION"))


def line_candidates(site: LineSite, ask: SegmentQuestions, out: list[Candidate]) -> bool:
    """US / NATO / EU / CUI banners of one line (upper case, the whole line or a band chunk).
    True when a banner pattern matched (even if every match was then ruled out).

    A lone level without caveats counts in a US document (`ask.us_document(word)`), or on
    the line that opens a mail body or page (`site.top_line`: a message marked only at its
    top); a CUI line in the middle of a text naming three or more levels
    (`ask.about_latin()`) is a mention."""
    line, line_no, band, position, conf = site.line, site.line_no, site.band, site.position, site.conf
    lines = site.lines
    if not _LATIN_TRIGGER.search(line):
        return False
    m = _LATIN_BANNER_LINE.fullmatch(line)
    matches = [m] if m else (list(_LATIN_BAND_CHUNK.finditer(line)) if band else [])
    for m in matches:
        level, system = _latin_level(m)
        if system == "US" and level != R and not band and _disclaimer_follows(lines, line_no):
            continue
        if (system == "US" and level != R and not band and not m.groupdict().get("caveats")
                and not m.groupdict().get("cable") and not _LABEL_PREFIX_RE.match(line)
                and not ask.us_document("CONFIDENTIAL" if level == C else "SECRET")
                and not (site.top_line and level >= S
                         and not _caps_headings_elsewhere(lines.lines, line_no))):
            continue  # a lone CONFIDENTIAL heading, or TOP SECRET inside a text, is not a US banner
        rule = ("cui_banner" if m.groupdict().get("cui")
                else {"NATO": "nato_banner", "EU": "eu_banner"}.get(system, "us_banner"))
        if m.groupdict().get("cui") and not band and position == "middle" and ask.about_latin():
            continue
        out.append(Candidate(rule, level, system, line, conf, line_no, site.base, site.base + len(line),
                             position, family="LATIN" if rule != "cui_banner" else "CUI"))
    return bool(matches)


def scan_fields(text: str, lines: Lines, out: list[Candidate]) -> None:
    """No label + value grammar: US/NATO markings are banners and portion marks (the
    portion marks are gathered by detector._scan_lines, see `_portion_candidates`)."""
