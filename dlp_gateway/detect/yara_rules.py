"""YARA rules: administrators' own patterns, run on every part's bytes and extracted text.

Every `*.yar` file of the rule directory is compiled when the gateway starts and again on
reload. Each file is compiled on its own first, so a syntax error is reported as
`FILE:LINE: message`; then all files are compiled together, one namespace per file
(the file name without `.yar`), so two files may use the same rule name. A reload whose
rules do not compile leaves the rules in force untouched (`YaraDetector.reload`).

Rules run twice per part: on `Part.data` (the decoded bytes of the attachment or body,
so byte patterns, Big5 or UTF-16 text of plain-text formats match) and on the part's
extracted text encoded as UTF-8 (so patterns match the text of PDFs, Office files and
OCR output, which is compressed or absent in the bytes). Message headers are scanned as
one more text, `headers`. Rule metadata sets the finding:

- `level`: `top_secret`, `secret`, `confidential` or `restricted` (else no level, a signal)
- `description`: shown to the security officer
- `system` (optional): ROC, US, NATO, PRC, OFFICE, HEADER, EDOC
- `confidence` (optional): a number 0..1 written as a string ("0.9"), default 0.8
- rule tags become finding tags (e.g. `official_document`)
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yara

from dlp_gateway.config import ConfigError
from dlp_gateway.model import Finding, Inspection, Level, Problem, ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.config import Settings

log = logging.getLogger(__name__)

_SYNTAX_LOCATION = re.compile(r"^(?P<file>.*?)\((?P<line>\d+)\):\s*(?P<message>.*)$", re.S)
_SYSTEMS = {"ROC", "US", "NATO", "PRC", "OFFICE", "HEADER", "EDOC"}
_EVIDENCE_BYTES = 80


class YaraRulesError(ConfigError):
    """A rule file does not compile or has bad metadata; the message names file and line."""


@dataclass(frozen=True, slots=True)
class YaraRules:
    """One compiled generation of the rule directory."""

    directory: Path
    files: tuple[Path, ...]
    compiled: yara.Rules | None

    @classmethod
    def load(cls, directory: str | Path) -> YaraRules:
        """Compile every `*.yar` of `directory`; raise YaraRulesError naming file and line."""
        path = Path(directory)
        if not path.is_dir():
            raise YaraRulesError(
                f"YARA rule directory {path} does not exist; create it (it may be empty) "
                "or set detect.yara_dir in the configuration."
            )
        files = tuple(sorted(p for p in path.glob("*.yar") if p.is_file()))
        namespaces: dict[str, str] = {}
        for file in files:
            rules = _compile_one(file)
            _check_metadata(file, rules)
            namespaces[file.stem] = str(file)
        if not namespaces:
            return cls(path, files, None)
        try:
            compiled = yara.compile(filepaths=namespaces)
        except yara.Error as exc:  # e.g. an include that clashes across files
            raise YaraRulesError(f"{path}: the rule files compile alone but not together: {exc}") from exc
        return cls(path, files, compiled)


def _compile_one(file: Path) -> yara.Rules:
    try:
        return yara.compile(filepath=str(file))
    except yara.SyntaxError as exc:
        text = str(exc)
        m = _SYNTAX_LOCATION.match(text)
        where = f"{m.group('file')}:{m.group('line')}" if m else str(file)
        message = m.group("message") if m else text
        raise YaraRulesError(f"{where}: YARA syntax error: {message}. Fix the rule; the rules in force stay unchanged.") from exc
    except yara.Error as exc:
        raise YaraRulesError(f"{file}: cannot compile: {exc}") from exc


def _rule_line(file: Path, rule: str) -> int:
    try:
        for number, line in enumerate(file.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if re.search(rf"\brule\s+{re.escape(rule)}\b", line):
                return number
    except OSError:
        pass
    return 1


def _check_metadata(file: Path, rules: yara.Rules) -> None:
    for rule in rules:
        meta = rule.meta
        level = meta.get("level")
        if level not in (None, ""):
            try:
                Level.parse(str(level))
            except ValueError as exc:
                raise YaraRulesError(f"{file}:{_rule_line(file, rule.identifier)}: rule {rule.identifier}: meta level: {exc}") from exc
        system = meta.get("system")
        if system is not None and str(system).upper() not in _SYSTEMS:
            raise YaraRulesError(
                f"{file}:{_rule_line(file, rule.identifier)}: rule {rule.identifier}: meta system {system!r} "
                f"is not one of {', '.join(sorted(_SYSTEMS))}"
            )
        confidence = meta.get("confidence")
        if confidence is not None:
            try:
                ok = 0.0 <= float(confidence) <= 1.0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise YaraRulesError(f"{file}:{_rule_line(file, rule.identifier)}: rule {rule.identifier}: meta confidence must be a number from 0 to 1")


class YaraDetector:
    """Runs the compiled rule directory on part bytes, extracted text and headers."""

    name = "yara"
    description = "Administrators' YARA rules on every part's bytes and extracted text"

    def __init__(self, rules: YaraRules, timeout_seconds: int = 10, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.rules = rules
        self.timeout_seconds = timeout_seconds
        self.max_bytes = max_bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> YaraDetector:
        return cls(YaraRules.load(settings.yara_dir), settings.detect.yara_timeout_seconds,
                   settings.detect.yara_max_bytes)

    def reload(self) -> str | None:
        """Recompile the directory. On error keep the rules in force and return the message."""
        try:
            new = YaraRules.load(self.rules.directory)
        except YaraRulesError as exc:
            log.error("YARA reload refused, previous rules stay in force: %s", exc)
            return str(exc)
        self.rules = new
        return None

    def detect(self, inspection: Inspection) -> list[Finding]:
        compiled = self.rules.compiled
        if compiled is None:
            return []
        findings: list[Finding] = []
        seen: set[tuple[str, str]] = set()
        texts: dict[str, list[str]] = {}
        for segment in inspection.segments:
            texts.setdefault(segment.part, []).append(segment.text)
        targets: list[tuple[str, bytes, str]] = []
        for part in inspection.parts:
            if part.data:
                targets.append((part.location, part.data, "bytes"))
        for location, chunks in texts.items():
            targets.append((location, "\n".join(chunks).encode("utf-8", "surrogatepass"), "text"))
        if inspection.headers:
            header_text = "\n".join(f"{name}: {value}" for name, values in inspection.headers.items() for value in values)
            targets.append(("headers", header_text.encode("utf-8", "surrogatepass"), "text"))
        for location, data, what in targets:
            if len(data) > self.max_bytes:
                inspection.problems.append(Problem(
                    ProblemKind.LIMIT_EXCEEDED, location,
                    f"YARA scanned only the first {self.max_bytes} of {len(data)} bytes ({what})",
                    limit="yara_max_bytes"))
                data = data[: self.max_bytes]
            try:
                matches = compiled.match(data=data, timeout=self.timeout_seconds)
            except yara.TimeoutError:
                inspection.problems.append(Problem(
                    ProblemKind.TIMEOUT, location,
                    f"YARA rules did not finish within {self.timeout_seconds} s ({what})",
                    limit="yara_timeout_seconds"))
                continue
            except yara.Error as exc:
                inspection.problems.append(Problem(ProblemKind.CORRUPT, location, f"YARA scan failed: {exc}"))
                continue
            for match in matches:
                rule = match.rule if match.namespace in ("default", "") else f"{match.namespace}.{match.rule}"
                if (rule, location) in seen:
                    continue
                seen.add((rule, location))
                findings.append(_finding(rule, location, match))
        return findings


def _decode(data: bytes) -> str:
    """Matched bytes as text: UTF-8, else the legacy CJK code pages rules are written for."""
    for codec in ("utf-8", "big5", "gb18030"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def _finding(rule: str, location: str, match: yara.Match) -> Finding:
    meta = match.meta
    level = Level.parse(str(meta["level"])) if meta.get("level") else None
    system = str(meta["system"]).upper() if meta.get("system") else None
    confidence = float(meta.get("confidence", 0.8))
    matched = b""
    for string in match.strings:
        if string.instances:
            matched = string.instances[0].matched_data[:_EVIDENCE_BYTES]
            break
    text = _decode(matched).strip()
    description = str(meta.get("description", match.rule))
    evidence = f"{description}: {text}" if text else description
    tags = tuple(match.tags)
    signal = meta.get("signal")
    if signal and signal not in tags:
        tags += (str(signal),)
    return Finding("yara", rule, location, " ".join(evidence.split())[:160], level, system, confidence, tags)
