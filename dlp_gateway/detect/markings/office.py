"""Office sensitivity labels, classification headers and document properties: the values
that name a classification outright (MSIP label lists, 「SECRET//NOFORN」, 「機密」).

`DEFAULT_LABEL_LEVELS` maps label names to levels (merged with the site's
`detect.label_levels`); `classify_value` reads one header or label value with the same
banner grammar as the text. `LabelFindings` turns an inspection's facts and message
headers into findings (Office labels, classification headers and the e-document 密等
fact, see edoc.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from dlp_gateway.detect.markings.edoc import FACT_NAME as EDOC_FACT
from dlp_gateway.detect.markings.edoc import edoc_finding
from dlp_gateway.detect.markings.grammar import (
    TS,
    C,
    Candidate,
    Lines,
    S,
    _evidence,
    _prc_level,
    _roc_level,
    normalize,
)
from dlp_gateway.detect.markings.latin import _LATIN_BANNER_LINE, _latin_level
from dlp_gateway.detect.markings.prc import _PRC_BANNER_LINE
from dlp_gateway.detect.markings.roc import _ROC_BANNER_LINE
from dlp_gateway.detect.textnorm import normalize_markings
from dlp_gateway.model import Fact, Finding, Inspection, Level

_PROPERTY_LINE = re.compile(r"^[ \t]*(?P<key>[^:：\n]{1,40}?)[ \t]*[:：][ \t]*(?P<value>[^\n]{1,80})$", re.M)
_PROPERTY_KEY = re.compile(
    r"classification|classif|protective[ _-]?marking|security[ _-]?(?:level|label|marking)|"
    r"密[ \t]*等|密[ \t]*[級级]|[機机]密等[級级]|^等[級级]$", re.I)


def scan_properties(text: str, lines: Lines, out: list[Candidate], labels: Mapping[str, str | None]) -> None:
    """Document properties that hold a classification (custom 「密等」, "Classification")."""
    for m in _PROPERTY_LINE.finditer(text):
        if not _PROPERTY_KEY.search(m.group("key").strip()):
            continue
        result = classify_value(m.group("value"), labels)
        if result:
            out.append(Candidate("document_property", result[0], "OFFICE", m.group(0).strip(), 0.9,
                                 lines.line_of(m.start()), m.start(), m.end(), "field", family="PROPERTY"))



DEFAULT_LABEL_LEVELS: dict[str, str | None] = {
    "top secret": "top_secret", "絕對機密": "top_secret", "绝对机密": "top_secret", "绝密": "top_secret",
    "cosmic top secret": "top_secret",
    "secret": "secret", "極機密": "secret", "极机密": "secret", "nato secret": "secret",
    "confidential": "confidential", "highly confidential": "confidential", "機密": "confidential",
    "nato confidential": "confidential",
    "restricted": "restricted", "密": "restricted", "一般公務機密": "restricted", "cui": "restricted",
    "fouo": "restricted", "for official use only": "restricted", "official use only": "restricted",
    "sensitive but unclassified": "restricted", "sbu": "restricted", "nato restricted": "restricted",
    "工作秘密": "restricted", "内部资料": "restricted",
    "general": None, "public": None, "personal": None, "non-business": None, "internal": None,
    "unclassified": None, "普通": None, "一般": None, "公開": None, "非機密": None,
}
_OUTLOOK_SENSITIVITY = frozenset({"personal", "private", "company-confidential", "normal"})
_LABEL_NAME = re.compile(r"MSIP_Label_[0-9A-Za-z-]+_Name\s*=\s*([^;]+)", re.I)
_LABEL_SPLIT = re.compile(r"\s*(?:\\|/|\||-|–|:)\s*")
_HEADER_SYSTEMS = ("x-classification", "x-security-classification", "x-classification-marking",
                   "x-protective-marking", "classification", "x-msip-labels", "msip_labels",
                   "x-sensitivity-label")


def _lookup_label(name: str, labels: Mapping[str, str | None]) -> tuple[Level | None, bool]:
    """(level, known): known=False when the label is not in the map at all."""
    key = normalize(name).strip().casefold()
    if key in labels:
        value = labels[key]
        return (Level.parse(value) if value else None), True
    first = _LABEL_SPLIT.split(key, maxsplit=1)[0]
    if first in labels:
        value = labels[first]
        return (Level.parse(value) if value else None), True
    for word in sorted(labels, key=len, reverse=True):  # "highly confidential" before "confidential"
        if len(word) >= 2 and re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", key):
            value = labels[word]
            return (Level.parse(value) if value else None), True
    return None, False


def classify_value(value: str, labels: Mapping[str, str | None]) -> tuple[Level, str] | None:
    """Level of a header or label value ("SECRET//NOFORN", "機密", MSIP label list…)."""
    text = normalize(normalize_markings(value)).strip()
    if not text:
        return None
    names = _LABEL_NAME.findall(text)
    if names:
        best = None
        for name in names:
            level, _known = _lookup_label(name, labels)
            if level and (best is None or level > best[0]):
                best = (level, "OFFICE")
        return best
    sec = re.search(r"SEC\s*=\s*(TOP[- ]SECRET|SECRET|CONFIDENTIAL)", text, re.I)
    if sec:
        return {"TOP": TS, "SEC": S, "CON": C}[sec.group(1)[:3].upper()], "HEADER"
    upper = text.upper()
    m = _LATIN_BANNER_LINE.fullmatch(upper)
    if m:
        return _latin_level(m)[0], "HEADER"
    m = _ROC_BANNER_LINE.fullmatch(text)
    if m:
        return _roc_level(m), "HEADER"
    m = _PRC_BANNER_LINE.fullmatch(text)
    if m:
        return _prc_level(m), "HEADER"
    level, known = _lookup_label(text, labels)
    return (level, "HEADER") if level else None


def label_map(label_levels: Mapping[str, str | None] | None) -> dict[str, str | None]:
    """The built-in label map with the site's `detect.label_levels` merged over it."""
    labels = dict(DEFAULT_LABEL_LEVELS)
    for key, value in (label_levels or {}).items():
        labels[normalize(key).strip().casefold()] = value or None
    return labels


class LabelFindings:
    """Markings that are values, not text: Office sensitivity labels, classification
    headers (as facts and as message headers) and the e-document 密等 (edoc.py).

    Satisfies the Detector protocol; MarkingDetector runs it first, so its findings come
    before the text findings, as they always have."""

    name = "markings"
    description = "Office sensitivity labels, classification headers, e-document 密等"

    def __init__(self, label_levels: Mapping[str, str | None] | None = None,
                 classification_headers: Iterable[str] = _HEADER_SYSTEMS) -> None:
        self.labels = label_map(label_levels)
        self.headers = tuple(h.lower() for h in classification_headers)

    def detect(self, inspection: Inspection) -> list[Finding]:
        findings = self._facts(inspection.facts)
        findings.extend(self._headers(inspection, findings))
        return findings

    def _facts(self, facts: list[Fact]) -> list[Finding]:
        out: list[Finding] = []
        for fact in facts:
            name = fact.name.lower()
            if name == EDOC_FACT:
                finding = edoc_finding(fact)
                if finding is not None:
                    out.append(finding)
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
