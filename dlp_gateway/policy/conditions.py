"""Conditions: one small class per kind, each answering "does it hold, and why".

A condition is tested against one `Subject` (the inspection report, the envelope and the
one recipient being decided), because policies decide per recipient. Every test returns
a `Check` with a human-readable reason, which `policy test` prints and the decision log
keeps, so an administrator can see why a rule did or did not match.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass

from dlp_gateway.model import Envelope, InspectionReport, Level
from dlp_gateway.policy import schema


@dataclass(frozen=True, slots=True)
class Subject:
    """What a condition looks at: one message, one recipient."""

    report: InspectionReport
    envelope: Envelope
    recipient: str
    internal_domains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Check:
    holds: bool
    why: str


class Cond:
    """A condition: `test(subject) -> Check`."""

    def test(self, subject: Subject) -> Check:  # pragma: no cover - interface
        raise NotImplementedError


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().strip(">").lower()


def address_matches(address: str, pattern: str) -> bool:
    """`pattern` with `@`: the whole address; without: the domain (globs allowed)."""
    address = address.strip().strip("<>").lower()
    if "@" in pattern:
        return fnmatch.fnmatchcase(address, pattern)
    return fnmatch.fnmatchcase(domain_of(address), pattern)


def is_internal(address: str, internal_domains: Iterable[str]) -> bool:
    """A domain is internal if it is, or is a subdomain of, a configured internal domain."""
    domain = domain_of(address)
    for internal in internal_domains:
        internal = internal.lower().lstrip(".")
        if domain == internal or domain.endswith("." + internal) or fnmatch.fnmatchcase(domain, internal):
            return True
    return False


# --- combinators ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AllOf(Cond):
    items: tuple[Cond, ...]

    def test(self, subject: Subject) -> Check:
        reasons = []
        for item in self.items:
            check = item.test(subject)
            if not check.holds:
                return Check(False, check.why)
            reasons.append(check.why)
        return Check(True, " and ".join(reasons))


@dataclass(frozen=True, slots=True)
class AnyOf(Cond):
    items: tuple[Cond, ...]

    def test(self, subject: Subject) -> Check:
        misses = []
        for item in self.items:
            check = item.test(subject)
            if check.holds:
                return check
            misses.append(check.why)
        return Check(False, "none of: " + "; ".join(misses))


@dataclass(frozen=True, slots=True)
class Not(Cond):
    item: Cond

    def test(self, subject: Subject) -> Check:
        check = self.item.test(subject)
        return Check(not check.holds, f"not ({check.why})")


@dataclass(frozen=True, slots=True)
class Always(Cond):
    def test(self, subject: Subject) -> Check:
        return Check(True, "the rule has no condition")


# --- content ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LevelAtLeast(Cond):
    level: Level

    def test(self, subject: Subject) -> Check:
        found = subject.report.level
        if found is not None and found >= self.level:
            where = next(f.location for f in subject.report.findings if f.level == found)
            return Check(True, f"level {found.label} (at {where}) is at least {self.level.label}")
        return Check(False, f"highest level {found.label if found else 'none'} is below {self.level.label}")


@dataclass(frozen=True, slots=True)
class MarkingSystem(Cond):
    systems: frozenset[str]

    def test(self, subject: Subject) -> Check:
        for finding in subject.report.findings:
            if finding.level is not None and (finding.system or "").upper() in self.systems:
                return Check(True, f"{finding.system} marking {finding.evidence!r} at {finding.location}")
        return Check(False, f"no marking of system {', '.join(sorted(self.systems))}")


@dataclass(frozen=True, slots=True)
class FindingIs(Cond):
    detector: str | None
    rule: str | None
    tag: str | None
    min_confidence: float

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in (("detector", self.detector), ("rule", self.rule), ("tag", self.tag)) if v]
        return "finding " + (" ".join(parts) or "(any)")

    def test(self, subject: Subject) -> Check:
        for f in subject.report.findings:
            if self.detector is not None and f.detector != self.detector:
                continue
            if self.rule is not None and not fnmatch.fnmatchcase(f.rule, self.rule):
                continue
            if self.tag is not None and not any(fnmatch.fnmatchcase(t, self.tag) for t in f.tags):
                continue
            if f.confidence < self.min_confidence:
                continue
            return Check(True, f"{f.detector} finding {f.rule!r} at {f.location}")
        return Check(False, f"no {self.describe()}")


@dataclass(frozen=True, slots=True)
class FingerprintIs(Cond):
    label: str | None
    min_share: float

    def test(self, subject: Subject) -> Check:
        for f in subject.report.findings:
            if f.document_id is None and f.detector != "fingerprint":
                continue
            if self.label is not None and not fnmatch.fnmatchcase(f.label or "", self.label):
                continue
            share = max(f.share_of_document or 0.0, f.share_of_part or 0.0)
            if share < self.min_share:
                continue
            return Check(True, f"registered document {f.label or f.document_id!r} ({share:.0%}) at {f.location}")
        label = f" labelled {self.label}" if self.label else ""
        return Check(False, f"no registered document{label} with share >= {self.min_share:.0%}")


@dataclass(frozen=True, slots=True)
class ProblemIs(Cond):
    kinds: frozenset[str]  # empty: any kind

    def test(self, subject: Subject) -> Check:
        for problem in subject.report.problems:
            if not self.kinds or problem.kind.value in self.kinds:
                return Check(True, f"{problem.kind.value} content at {problem.location}: {problem.detail}")
        wanted = ", ".join(sorted(self.kinds)) or "any"
        return Check(False, f"no extraction problem ({wanted})")


@dataclass(frozen=True, slots=True)
class FileType(Cond):
    patterns: tuple[str, ...]

    def test(self, subject: Subject) -> Check:
        for part in subject.report.inspection.parts:
            if any(fnmatch.fnmatchcase(part.true_type.lower(), p) for p in self.patterns):
                return Check(True, f"{part.location} is {part.true_type}")
        return Check(False, f"no part of type {', '.join(self.patterns)}")


@dataclass(frozen=True, slots=True)
class TypeMismatch(Cond):
    expected: bool

    def test(self, subject: Subject) -> Check:
        bad = [p for p in subject.report.inspection.parts if p.type_mismatch]
        if bad:
            p = bad[0]
            why = f"{p.location}: named/declared {p.declared_type or p.filename} but is {p.true_type}"
        else:
            why = "every part's name and declared type agree with its content"
        return Check(bool(bad) == self.expected, why)


# --- envelope and session ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SenderIs(Cond):
    patterns: tuple[str, ...]

    def test(self, subject: Subject) -> Check:
        sender = subject.envelope.mail_from
        for p in self.patterns:
            if address_matches(sender, p):
                return Check(True, f"sender {sender or '<>'} matches {p}")
        return Check(False, f"sender {sender or '<>'} matches none of {len(self.patterns)} pattern(s)")


@dataclass(frozen=True, slots=True)
class RecipientIs(Cond):
    patterns: tuple[str, ...]

    def test(self, subject: Subject) -> Check:
        for p in self.patterns:
            if address_matches(subject.recipient, p):
                return Check(True, f"recipient {subject.recipient} matches {p}")
        return Check(False, f"recipient {subject.recipient} matches none of {len(self.patterns)} pattern(s)")


def direction_of(subject: Subject) -> str:
    """outbound: the recipient is outside; inbound: from outside to inside; internal: both inside.

    With no internal domains configured nothing is inside, so every message is outbound.
    """
    if not is_internal(subject.recipient, subject.internal_domains):
        return "outbound"
    if is_internal(subject.envelope.mail_from, subject.internal_domains):
        return "internal"
    return "inbound"


@dataclass(frozen=True, slots=True)
class Direction(Cond):
    directions: frozenset[str]

    def test(self, subject: Subject) -> Check:
        found = direction_of(subject)
        return Check(found in self.directions, f"direction is {found}")


@dataclass(frozen=True, slots=True)
class MessageSize(Cond):
    at_least: int | None
    below: int | None

    def test(self, subject: Subject) -> Check:
        size = subject.report.size
        holds = (self.at_least is None or size >= self.at_least) and (self.below is None or size < self.below)
        bounds = []
        if self.at_least is not None:
            bounds.append(f">= {self.at_least}")
        if self.below is not None:
            bounds.append(f"< {self.below}")
        return Check(holds, f"size {size} bytes {'is' if holds else 'is not'} {' and '.join(bounds)}")


@dataclass(frozen=True, slots=True)
class HeaderMatches(Cond):
    name: str  # lower case
    pattern: re.Pattern[str]

    def test(self, subject: Subject) -> Check:
        for value in subject.report.inspection.headers.get(self.name, []):
            if self.pattern.search(value):
                return Check(True, f"header {self.name} matches /{self.pattern.pattern}/")
        return Check(False, f"no header {self.name} matching /{self.pattern.pattern}/")


@dataclass(frozen=True, slots=True)
class InboundTls(Cond):
    expected: bool

    def test(self, subject: Subject) -> Check:
        used = subject.envelope.tls
        return Check(used == self.expected, f"inbound session {'used' if used else 'did not use'} TLS")


def walk(cond: Cond):  # noqa: ANN201 - a generator of Cond
    """This condition and every condition inside it."""
    yield cond
    if isinstance(cond, AllOf | AnyOf):
        for item in cond.items:
            yield from walk(item)
    elif isinstance(cond, Not):
        yield from walk(cond.item)


# --- compile from the schema ------------------------------------------------------------


def compile_condition(model: schema.Condition | None) -> Cond:
    """Turn a validated `schema.Condition` into condition objects (several keys: all must hold)."""
    if model is None:
        return Always()
    items: list[Cond] = []
    if model.all_ is not None:
        items.append(AllOf(tuple(compile_condition(c) for c in model.all_)))
    if model.any_ is not None:
        items.append(AnyOf(tuple(compile_condition(c) for c in model.any_)))
    if model.not_ is not None:
        items.append(Not(compile_condition(model.not_)))
    if model.level_at_least is not None:
        items.append(LevelAtLeast(Level.parse(model.level_at_least)))
    if model.marking_system is not None:
        items.append(MarkingSystem(frozenset(model.marking_system)))
    if model.finding is not None:
        f = model.finding
        items.append(FindingIs(f.detector, f.rule, f.tag, f.min_confidence))
    if model.fingerprint is not None:
        items.append(FingerprintIs(model.fingerprint.label, model.fingerprint.min_share))
    if model.problem is not None:
        kinds = frozenset(k for k in model.problem if k != "any")
        items.append(ProblemIs(frozenset() if "any" in model.problem else kinds))
    if model.file_type is not None:
        items.append(FileType(tuple(p.lower() for p in model.file_type)))
    if model.type_mismatch is not None:
        items.append(TypeMismatch(model.type_mismatch))
    if model.sender is not None:
        items.append(SenderIs(model.sender.patterns))
    if model.recipient is not None:
        items.append(RecipientIs(model.recipient.patterns))
    if model.direction is not None:
        items.append(Direction(frozenset(model.direction)))
    if model.size is not None:
        items.append(MessageSize(model.size.at_least, model.size.below))
    for header in model.header or []:
        items.append(HeaderMatches(header.name, re.compile(header.pattern, re.IGNORECASE)))
    if model.tls is not None:
        items.append(InboundTls(model.tls))
    return items[0] if len(items) == 1 else AllOf(tuple(items))
