"""The marking detector: runs every system's grammar over each part's text and filters
mentions out.

Per part: normalise the text as a reader sees it (textnorm.normalize_markings), look
line by line only where a cheap trigger hits (`_scan_lines`: ROC, PRC and US/NATO/EU/CUI
banners and portion marks), then label + value grammar (`_scan_fields`: ROC and PRC
fields), subject lines and document properties; drop mentions (mentions.py), apply a
declassification stamp (declassified.py). Facts and headers (Office labels,
classification headers, the e-document 密等) are read by office.LabelFindings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from dlp_gateway.detect.markings import latin, prc, roc
from dlp_gateway.detect.markings.context import PartContext, _part_context
from dlp_gateway.detect.markings.declassified import (
    declassification_stamp,
    declassify,
    struck_banners,
)
from dlp_gateway.detect.markings.grammar import (
    _BAND_KINDS,
    _BANNER_START,
    _BASE_CONFIDENCE,
    _MAX_BANNER_CHARS,
    _MAX_FINDINGS_PER_PART,
    _NEEDS_NFKC,
    _SUBJECT_KINDS,
    Candidate,
    Lines,
    LineSite,
    MarkingSystem,
    _evidence,
    _lf,
    _line_openers,
    _position,
    normalize,
)
from dlp_gateway.detect.markings.latin import (
    _PORTION,
    _portion_candidates,
    _us_document,
)
from dlp_gateway.detect.markings.mentions import drop_mentions
from dlp_gateway.detect.markings.office import (
    _HEADER_SYSTEMS,
    LabelFindings,
    scan_properties,
)
from dlp_gateway.detect.markings.prc import (
    _prc_script_quick,
)
from dlp_gateway.detect.markings.roc import (
    _OCR_LEVEL_BREAK,
    _block_start,
    _table_cells,
)
from dlp_gateway.detect.markings.subjects import BODY_SUBJECT_LINES, scan_subject
from dlp_gateway.detect.textnorm import normalize_markings_many
from dlp_gateway.model import Finding, Inspection, Level, Segment

# Cheap trigger: a segment without any of these has no marking.
_TRIGGER = re.compile(
    r"密|★|SECRET|CONFIDENTIAL|S E C R E T|C O N F I D|RESTRICTED|CUI|FOUO|SBU|OFFICIAL USE|UNCLASSIFIED|内部|內部|\((?:TS|S|C|U|CTS|NS|NC|NR)[)/]"
    r"|ＳＥＣ|ＣＯＮ|ＣＵＩ|ＲＥＳ|ＦＯＵ|（Ｔ|（Ｓ|（Ｃ|（Ｎ"  # full-width Latin, normalised per line
)


# The marking systems with a text grammar, in the order they are asked about each line
# (the first that takes a line ends its scan) and for fields.
SYSTEMS: tuple[MarkingSystem, ...] = (roc, prc, latin)


class _Questions:
    """SegmentQuestions of one segment: the part context is built only when asked, and
    the US-document test is answered once per level word, not once per banner line."""

    def __init__(self, text: str, ctx_of: Callable[[], PartContext]) -> None:
        self._text = text
        self._ctx_of = ctx_of
        self._us: dict[str, bool] = {}

    def prc_script(self) -> bool:
        return self._ctx_of().prc_script

    def about_latin(self) -> bool:
        return self._ctx_of().about_latin

    def us_document(self, word: str) -> bool:
        if word not in self._us:
            self._us[word] = _us_document(self._text, self._ctx_of, word)
        return self._us[word]


def _scan_lines(segment: Segment, text: str, lines: Lines, ctx_of: Callable[[], PartContext],
                out: list[Candidate]) -> None:
    """Whole-line grammar (banners, band tokens, portion marks) on the lines a trigger hit."""
    kind = segment.kind
    band = kind in _BAND_KINDS
    portions: list[tuple[int, re.Match[str]]] = []
    ask = _Questions(text, ctx_of)

    # A lone SECRET / TOP SECRET as the very first line of a mail body or page is the
    # banner of a message marked only at its top (short classified e-mails often are).
    first_line = next((i for i, ln in enumerate(lines.lines) if ln.strip()), -1)
    opens_text = kind in ("body", "page", "ocr")

    for line_no in _hit_lines(text, lines):
        raw = lines.lines[line_no]
        line = raw.strip()
        quote = 0
        if line.startswith(">"):  # a reply quoting the marked mail: 「> 機密」, 「>> SECRET//NOFORN」
            quote = len(line) - len(line := _REPLY_QUOTE.sub("", line, count=1))
        if "\t" in line and _table_cells(line, line_no, lines, kind, out):
            continue
        chunky = (not band and len(line) <= _MAX_BANNER_CHARS
                  and ("\u3000" in line or "\t" in line or "  " in line)
                  and (line_no in lines.edge or _block_start(lines, line_no)))
        if not line or not (band or chunky or _BANNER_START.match(line)):
            continue  # prose: a banner or portion mark would open the line
        if len(line) > _MAX_BANNER_CHARS:  # a long paragraph: only a portion mark can open it
            if "(" in line[:6] or "（" in line[:6]:
                pm = _PORTION.match(normalize(line[:40]))
                if pm:
                    portions.append((line_no, pm))
            continue
        if _NEEDS_NFKC.search(line):
            line = normalize(line)
        base = lines.starts[line_no] + (len(raw) - len(raw.lstrip())) + quote
        position = _position(kind, lines, line_no)
        site = LineSite(line, line_no, base, position, _BASE_CONFIDENCE[position], band, chunky, lines,
                        opens_text and line_no == first_line)
        # Each system's line grammar in turn; the first that takes the line ends its scan.
        for system in SYSTEMS:
            if system.line_candidates(site, ask, out):
                break
        else:  # no banner: a portion mark may open the line
            if "(" in line[:6]:
                pm = _PORTION.match(line)
                if pm:
                    portions.append((line_no, pm))
    _portion_candidates(text, lines, portions, out)


_REPLY_QUOTE = re.compile(r"^(?:>[ \t]?)+")


def _hit_lines(text: str, lines: Lines) -> list[int]:
    """Line numbers where the trigger hits, one regex search per hit line (not per hit)."""
    out: list[int] = []
    pos = 0
    search = _TRIGGER.search
    while (m := search(text, pos)) is not None:
        line_no = lines.line_of(m.start())
        out.append(line_no)
        if line_no + 1 >= len(lines.starts):
            break
        pos = lines.starts[line_no + 1]
    return out


def _scan_fields(text: str, lines: Lines, out: list[Candidate]) -> None:
    """Label + value grammar: the ROC 密等 field and levels before a declassification
    phrase, then the PRC 密级 field and starred levels."""
    if "密" not in text:
        return
    for system in SYSTEMS:
        system.scan_fields(text, lines, out)


class MarkingDetector:
    """Classification markings of ROC, US, NATO and PRC documents, Office labels and headers."""

    name = "markings"
    description = "Classification markings (ROC, US, NATO, PRC grammar), e-document 密等, Office labels, classification headers"

    def __init__(self, label_levels: Mapping[str, str | None] | None = None,
                 classification_headers: Iterable[str] = _HEADER_SYSTEMS) -> None:
        self.label_findings = LabelFindings(label_levels, classification_headers)
        self.labels = self.label_findings.labels  # document properties are read with the same map

    def detect(self, inspection: Inspection) -> list[Finding]:
        findings = self.label_findings.detect(inspection)
        by_part: dict[str, list[Segment]] = {}
        for segment in inspection.segments:
            if segment.part == "headers":  # classification headers are read from facts/headers
                continue
            by_part.setdefault(segment.part, []).append(segment)
        for part, segments in by_part.items():
            findings.extend(self._part(part, segments))
        return findings

    # ----------------------------------------------------------------- text

    def _part(self, part: str, segments: list[Segment]) -> list[Finding]:
        context: list[PartContext] = []

        # The text as a reader sees it: invisible characters, homoglyphs, spaced-out and
        # compatibility-form banners undone (textnorm.normalize_markings).
        texts = normalize_markings_many([_lf(s.text) for s in segments])

        def ctx_of() -> PartContext:
            if not context:
                context.append(_part_context("\n".join(texts)))
            return context[0]

        findings: list[Finding] = []
        for segment, text in zip(segments, texts, strict=True):
            if not text:
                continue
            findings.extend(struck_banners(segment, text))
            if segment.kind == "ocr" and "\n" in text:
                text = _OCR_LEVEL_BREAK.sub(r"\1", text)
            if not _TRIGGER.search(text):
                continue
            lines = Lines.of(text)
            cands: list[Candidate] = []
            if segment.kind in _SUBJECT_KINDS:
                scan_subject(text, 0, 0, cands, prc_script=lambda text=text: _prc_script_quick(text),
                             rule_prefix="subject" if segment.kind == "subject" else "filename")
            else:
                for m in _line_openers(text, BODY_SUBJECT_LINES):
                    scan_subject(m.group("rest"), lines.line_of(m.start()), m.start("rest"), cands,
                                 prc_script=lambda: ctx_of().prc_script)
                _scan_lines(segment, text, lines, ctx_of, cands)
                _scan_fields(text, lines, cands)
                if segment.kind == "metadata":
                    scan_properties(text, lines, cands, self.labels)
            if not cands:
                continue
            # A subject line or file name is judged alone: an empty context (made here, not
            # shared at module level, since a context caches what it computes).
            ctx = ctx_of() if segment.kind not in _SUBJECT_KINDS else PartContext("")
            for cand in drop_mentions(cands, text, lines, ctx, segment.kind):
                tags = cand.tags + (("official_document",) if ctx.official else ())
                confidence = min(1.0, cand.confidence + (0.05 if ctx.official else 0.0))
                findings.append(Finding("markings", cand.rule, segment.location, _evidence(cand.evidence),
                                        cand.level, cand.system, confidence, tags))
        stamp = declassification_stamp(segments, texts)
        if stamp is not None:
            findings = [declassify(f, stamp) if f.level is not None else f for f in findings]
        return _dedupe(findings)[:_MAX_FINDINGS_PER_PART]


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, Level | None, str]] = set()
    out = []
    for f in findings:
        key = (f.rule, f.location, f.level, f.evidence)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
