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
from collections.abc import Iterable, Mapping

from dlp_gateway.detect.markings.context import _NO_CONTEXT, _part_context, _PartContext
from dlp_gateway.detect.markings.declassified import (
    _declassification_stamp,
    _declassified,
    _struck_banners,
)
from dlp_gateway.detect.markings.grammar import (
    _BAND_KINDS,
    _BANNER_START,
    _BASE_CONFIDENCE,
    _MAX_BANNER_CHARS,
    _MAX_FINDINGS_PER_PART,
    _NEEDS_NFKC,
    _ROC_LEVEL,
    _SUBJECT_KINDS,
    TS,
    C,
    R,
    S,
    _anchor_positions,
    _Candidate,
    _evidence,
    _han_before,
    _lf,
    _line_openers,
    _Lines,
    _position,
    _prc_level,
    _roc_level,
    normalize,
)
from dlp_gateway.detect.markings.latin import (
    _LABEL_PREFIX_RE,
    _LATIN_BAND_CHUNK,
    _LATIN_BANNER_LINE,
    _LATIN_TRIGGER,
    _PORTION,
    _caps_headings_elsewhere,
    _disclaimer_follows,
    _latin_level,
    _portion_candidates,
    _us_document,
)
from dlp_gateway.detect.markings.mentions import _filter, _quoted
from dlp_gateway.detect.markings.office import (
    _HEADER_SYSTEMS,
    _OUTLOOK_SENSITIVITY,
    DEFAULT_LABEL_LEVELS,
    _lookup_label,
    _scan_properties,
    classify_value,
)
from dlp_gateway.detect.markings.prc import (
    _PRC_BANNER_LINE,
    _PRC_FIELD,
    _PRC_RESTRICTED_BAND,
    _PRC_RESTRICTED_LINE,
    _PRC_STAR,
    _STAR,
    _is_simplified_jimi,
    _is_simplified_restricted,
    _prc_script_quick,
)
from dlp_gateway.detect.markings.roc import (
    _CHECKED_BOX_CHAR,
    _DECLASS_ANCHORS,
    _FIELD_ANCHORS,
    _LIST_AFTER,
    _OCR_LEVEL_BREAK,
    _ROC_BAND_TOKEN,
    _ROC_DECLASS,
    _ROC_FIELD,
    _block_start,
    _checkbox_field,
    _layout_chunks,
    _roc_banner_match,
    _spaced_prose,
    _table_cells,
    _unticked,
)
from dlp_gateway.detect.markings.subjects import _BODY_SUBJECT_LINES, _scan_subject
from dlp_gateway.detect.textnorm import normalize_markings_many
from dlp_gateway.model import Fact, Finding, Inspection, Level, Segment

# Cheap trigger: a segment without any of these has no marking.
_TRIGGER = re.compile(
    r"密|★|SECRET|CONFIDENTIAL|S E C R E T|C O N F I D|RESTRICTED|CUI|FOUO|SBU|OFFICIAL USE|UNCLASSIFIED|内部|內部|\((?:TS|S|C|U|CTS|NS|NC|NR)[)/]"
    r"|ＳＥＣ|ＣＯＮ|ＣＵＩ|ＲＥＳ|ＦＯＵ|（Ｔ|（Ｓ|（Ｃ|（Ｎ"  # full-width Latin, normalised per line
)


def _scan_lines(segment: Segment, text: str, lines: _Lines, ctx_of, out: list[_Candidate]) -> None:
    """Whole-line grammar (banners, band tokens, portion marks) on the lines a trigger hit."""
    kind = segment.kind
    band = kind in _BAND_KINDS
    portions: list[tuple[int, re.Match[str]]] = []
    us_documents: dict[str, bool] = {}

    def us_document(word: str) -> bool:  # once per segment, not once per banner line
        if word not in us_documents:
            us_documents[word] = _us_document(text, ctx_of, word)
        return us_documents[word]

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
        conf = _BASE_CONFIDENCE[position]
        # ROC banner: the whole line is a level (+ declassification, copy note, page number)
        m = _roc_banner_match(line)
        if m:
            level = _roc_level(m)
            system, rule = "ROC", "roc_banner"
            if level == C and not (m.group("declass") or m.group("copy") or m.group("copy0")) and _is_simplified_jimi(m) and ctx_of().prc_script:
                level, system, rule = S, "PRC", "prc_banner"
            tags = ("copy",) if m.group("copy") or m.group("copy0") else ()
            if m.group("declass"):
                conf = max(conf, 0.9)
            out.append(_Candidate(rule, level, system, line, conf, line_no, base, base + len(line),
                                  position, tags, family=system))
            continue
        if band:
            found = False
            for m in _ROC_BAND_TOKEN.finditer(line):
                if (_quoted(line, m.start(), m.end()) or _spaced_prose(line, m.start(), m.end())
                        or _unticked(line, m.start())):
                    continue
                out.append(_Candidate("roc_banner", _roc_level(m), "ROC", line, 0.88, line_no,
                                      base + m.start(), base + m.end(), "band", family="ROC"))
                found = True
            if found:
                continue
        elif chunky and _layout_chunks(line, line_no, base, position, out):
            continue
        # PRC banner without star (only in PRC documents) and 工作秘密 / 内部资料 lines
        m = _PRC_BANNER_LINE.fullmatch(line)
        if m and ("★" in line or "☆" in line or ctx_of().prc_script):
            out.append(_Candidate("prc_banner", _prc_level(m), "PRC", line, conf, line_no, base,
                                  base + len(line), position, family="PRC"))
            continue
        m = _PRC_RESTRICTED_LINE.fullmatch(line) or (
            _PRC_RESTRICTED_BAND.search(line) if band else None
        )
        if m and _is_simplified_restricted(m.group("word")):
            out.append(_Candidate("prc_restricted", R, "PRC", line, conf, line_no, base,
                                  base + len(line), position, family="PRC-R"))
            continue
        # US / NATO / CUI banners (upper case, whole line or band chunk)
        if _LATIN_TRIGGER.search(line):
            m = _LATIN_BANNER_LINE.fullmatch(line)
            matches = [m] if m else (list(_LATIN_BAND_CHUNK.finditer(line)) if band else [])
            for m in matches:
                level, system = _latin_level(m)
                if system == "US" and level != R and not band and _disclaimer_follows(lines, line_no):
                    continue
                if (system == "US" and level != R and not band and not m.groupdict().get("caveats")
                        and not m.groupdict().get("cable") and not _LABEL_PREFIX_RE.match(line)
                        and not us_document("CONFIDENTIAL" if level == C else "SECRET")
                        and not (opens_text and line_no == first_line and level >= S
                                 and not _caps_headings_elsewhere(lines.lines, line_no))):
                    continue  # a lone CONFIDENTIAL heading, or TOP SECRET inside a text, is not a US banner
                rule = ("cui_banner" if m.groupdict().get("cui")
                        else {"NATO": "nato_banner", "EU": "eu_banner"}.get(system, "us_banner"))
                if m.groupdict().get("cui") and not band and position == "middle" and ctx_of().about_latin:
                    continue
                out.append(_Candidate(rule, level, system, line, conf, line_no, base, base + len(line),
                                      position, family="LATIN" if rule != "cui_banner" else "CUI"))
            if matches:
                continue
        if "(" in line[:6]:
            pm = _PORTION.match(line)
            if pm:
                portions.append((line_no, pm))
    _portion_candidates(text, lines, portions, out)
_REPLY_QUOTE = re.compile(r"^(?:>[ \t]?)+")


def _hit_lines(text: str, lines: _Lines) -> list[int]:
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


def _scan_fields(text: str, lines: _Lines, out: list[_Candidate]) -> None:
    """Label + value grammar: the 密等 field, PRC 密级, and levels before a declassification phrase."""
    if "密" not in text:
        return
    boxes = _CHECKED_BOX_CHAR.search(text) is not None
    for pos in _anchor_positions(text, _FIELD_ANCHORS):
        if pos > 0 and text[pos - 1] in "機机":  # 「機密等級」
            pos -= 1
        m = _ROC_FIELD.match(text, pos)
        if m is None:
            if boxes:
                _checkbox_field(text, pos, lines, out)
            continue
        if _han_before(text, m.start()) or _LIST_AFTER.match(text, m.end("lvl")):
            continue
        if m.group("grade") and text[lines.starts[lines.line_of(m.start())]:m.start()].strip():
            continue  # 等級 is a field label only where it opens the line
        out.append(_Candidate("roc_field", _roc_level(m), "ROC", m.group(0), 0.95,
                              lines.line_of(m.start()), m.start(),
                              m.end(), "field", family="FIELD"))
    done = -1
    for pos in _anchor_positions(text, _DECLASS_ANCHORS):
        if pos > 0 and text[pos - 1] in "及或":
            continue  # inside the field label 「密等及解密條件或保密期限」
        line_no = lines.line_of(pos)
        if line_no == done:
            continue
        done = line_no
        start = lines.starts[line_no]
        end = lines.starts[line_no + 1] - 1 if line_no + 1 < len(lines.starts) else len(text)
        for m in _ROC_DECLASS.finditer(text, start, end):
            if _han_before(text, m.start()):
                continue
            out.append(_Candidate("roc_declassification", _roc_level(m), "ROC", m.group(0), 0.9,
                                  line_no, m.start(), m.end(), "field", family="FIELD"))
    for m in _PRC_FIELD.finditer(text):
        if _han_before(text, m.start()):
            continue
        if m.group("roc"):
            level = TS if "對" in m.group("roc") or "对" in m.group("roc") else S
        else:
            level = _prc_level(m)
        out.append(_Candidate("prc_field", level, "PRC", m.group(0), 0.95, lines.line_of(m.start()),
                              m.start(), m.end(), "field", family="FIELD"))
    seen_star: set[int] = set()
    for star in _STAR.finditer(text):  # the PRC grammar hangs on the star: look around each one
        m = _PRC_STAR.search(text, max(0, star.start() - 8), star.end() + 24)
        if m is None or m.start() in seen_star or _han_before(text, m.start()):
            continue
        seen_star.add(m.start())
        out.append(_Candidate("prc_star", _prc_level(m), "PRC", m.group(0), 0.92,
                                  lines.line_of(m.start()), m.start(), m.end(), "field", family="STAR"))



class MarkingDetector:
    """Classification markings of ROC, US, NATO and PRC documents, Office labels and headers."""

    name = "markings"
    description = "Classification markings (ROC, US, NATO, PRC grammar), e-document 密等, Office labels, classification headers"

    def __init__(self, label_levels: Mapping[str, str | None] | None = None,
                 classification_headers: Iterable[str] = _HEADER_SYSTEMS) -> None:
        labels = dict(DEFAULT_LABEL_LEVELS)
        for key, value in (label_levels or {}).items():
            labels[normalize(key).strip().casefold()] = value or None
        self.labels = labels
        self.headers = tuple(h.lower() for h in classification_headers)

    def detect(self, inspection: Inspection) -> list[Finding]:
        findings: list[Finding] = []
        findings.extend(self._facts(inspection.facts))
        findings.extend(self._headers(inspection, findings))
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
        context: list[_PartContext] = []

        # The text as a reader sees it: invisible characters, homoglyphs, spaced-out and
        # compatibility-form banners undone (textnorm.normalize_markings).
        texts = normalize_markings_many([_lf(s.text) for s in segments])

        def ctx_of() -> _PartContext:
            if not context:
                context.append(_part_context("\n".join(texts)))
            return context[0]

        findings: list[Finding] = []
        for segment, text in zip(segments, texts, strict=True):
            if not text:
                continue
            findings.extend(_struck_banners(segment, text))
            if segment.kind == "ocr" and "\n" in text:
                text = _OCR_LEVEL_BREAK.sub(r"\1", text)
            if not _TRIGGER.search(text):
                continue
            lines = _Lines.of(text)
            cands: list[_Candidate] = []
            if segment.kind in _SUBJECT_KINDS:
                _scan_subject(text, 0, 0, cands, prc_script=lambda text=text: _prc_script_quick(text),
                              rule_prefix="subject" if segment.kind == "subject" else "filename")
            else:
                for m in _line_openers(text, _BODY_SUBJECT_LINES):
                    _scan_subject(m.group("rest"), lines.line_of(m.start()), m.start("rest"), cands,
                                  prc_script=lambda: ctx_of().prc_script)
                _scan_lines(segment, text, lines, ctx_of, cands)
                _scan_fields(text, lines, cands)
                if segment.kind == "metadata":
                    _scan_properties(text, lines, cands, self.labels)
            if not cands:
                continue
            ctx = ctx_of() if segment.kind not in _SUBJECT_KINDS else _NO_CONTEXT
            for cand in _filter(cands, text, lines, ctx, segment.kind):
                tags = cand.tags + (("official_document",) if ctx.official else ())
                confidence = min(1.0, cand.confidence + (0.05 if ctx.official else 0.0))
                findings.append(Finding("markings", cand.rule, segment.location, _evidence(cand.evidence),
                                        cand.level, cand.system, confidence, tags))
        stamp = _declassification_stamp(segments, texts)
        if stamp is not None:
            findings = [_declassified(f, stamp) if f.level is not None else f for f in findings]
        return _dedupe(findings)[:_MAX_FINDINGS_PER_PART]

    # ----------------------------------------------------------------- facts and headers

    def _facts(self, facts: list[Fact]) -> list[Finding]:
        out: list[Finding] = []
        for fact in facts:
            name = fact.name.lower()
            if name == "edoc.secrecy":
                value = normalize(fact.value).strip()
                m = re.fullmatch(_ROC_LEVEL, value)
                if m:
                    out.append(Finding("markings", "edoc_secrecy", fact.location, f'<密等 代碼="{value}">',
                                       _roc_level(m), "EDOC", 0.99, ("official_document",)))
            elif name == "office.sensitivity_label":
                level, known = _lookup_label(fact.value, self.labels)
                result = (level, "OFFICE") if level else (None if known else classify_value(fact.value, self.labels))
                if result:
                    out.append(Finding("markings", "office_label", fact.location,
                                       _evidence(f"sensitivity label: {fact.value}"), result[0], "OFFICE", 0.9))
            elif name.startswith("mail.header."):
                if name == "mail.header.sensitivity" and fact.value.strip().lower() in _OUTLOOK_SENSITIVITY:
                    continue  # Outlook's own flag (RFC 2156), set by the sender, not a classification
                result = classify_value(fact.value, self.labels)
                if result:
                    header = name.removeprefix("mail.header.")
                    out.append(Finding("markings", "classification_header", fact.location,
                                       _evidence(f"{header}: {fact.value}"), result[0],
                                       "OFFICE" if result[1] == "OFFICE" else "HEADER", 0.9))
        return out

    def _headers(self, inspection: Inspection, seen: list[Finding]) -> list[Finding]:
        have = {f.evidence for f in seen if f.rule == "classification_header"}
        out: list[Finding] = []
        for name in self.headers:
            for value in inspection.headers.get(name, []):
                evidence = _evidence(f"{name}: {value}")
                if evidence in have:
                    continue
                result = classify_value(value, self.labels)
                if result:
                    have.add(evidence)
                    out.append(Finding("markings", "classification_header", "headers", evidence,
                                       result[0], "OFFICE" if result[1] == "OFFICE" else "HEADER", 0.9))
        return out


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, Level | None, str]] = set()
    out = []
    for f in findings:
        key = (f.rule, f.location, f.level, f.evidence)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
