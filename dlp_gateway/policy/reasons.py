"""Why a message was held, in words a security officer understands.

A decision's own `reason` is the policy's explanation ("corrupt content at a.pdf ›
page 3: page unreadable: ..."): exact, but too varied to count or filter by. This module
turns a decision and the report behind it into one *reason category* from a small,
bounded set, e.g. ``classified marking (secret)``, ``registered document``, ``encrypted
content``, ``password-protected file``, ``damaged file``, ``unsupported format``,
``limit exceeded: max_depth``, ``inspection timed out``, ``message/partial (incomplete
message)``, ``executable``. The set is bounded on purpose: the category is a label of
the `dlp_holds_total{reason}` metric and the `--reason` filter of `quarantine list`.

The category follows the condition that made the rule match (the decision's
explanation names it, see policy/conditions.py), so a rule on encrypted content that
fires on a message which also has a damaged part reports "encrypted content". When the
explanation names nothing this module knows (sender, recipient, header, size rules...),
the category is ``policy rule: <rule name>``, bounded by the number of rules.

Pure functions over plain data: the same mapping serves a live decision (`reason_for`)
and a quarantine index row, which stores the rule, the explanation, the findings
summaries and the problems (`categorise`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dlp_gateway.model import Decision, InspectionReport, Level, Outcome

# Categories that do not depend on the details.
REGISTERED_DOCUMENT = "registered document"
ENCRYPTED = "encrypted content"
PASSWORD_PROTECTED = "password-protected file"
DAMAGED_FILE = "damaged file"
MALFORMED_MESSAGE = "malformed message structure"
UNSUPPORTED_FORMAT = "unsupported format"
UNKNOWN_ENCODING = "unknown transfer encoding"
UNKNOWN_CHARSET = "unknown character set"
SIGNED_NOT_UNPACKED = "signed content not unpacked"
PARTIAL_MESSAGE = "message/partial (incomplete message)"
EXTERNAL_BODY = "message/external-body (content not in the message)"
TIMED_OUT = "inspection timed out"
EXECUTABLE = "executable"
BLOCKED_FILE_TYPE = "blocked file type"
DISGUISED_FILE = "file type disguised (name or declared type does not match content)"
CONTENT_RULE = "content rule match"
UNREADABLE_FILE = "unreadable file"
NO_DECISION = "no decision (internal error)"

# True types (libmagic, after filetype.normalise) of programs and scripts a recipient could run.
EXECUTABLE_TYPES = frozenset({
    "application/x-dosexec", "application/x-executable", "application/x-pie-executable",
    "application/x-sharedlib", "application/x-mach-binary", "application/x-msi",
    "application/x-ms-installer", "application/x-elf", "application/x-msdownload",
    "application/vnd.microsoft.portable-executable", "application/x-ms-shortcut",
    "application/java-archive", "application/x-java-applet", "application/vnd.android.package-archive",
    "text/x-shellscript", "application/x-shellscript", "text/x-msdos-batch",
})


def is_executable(true_type: str) -> bool:
    """A program or script by its true type (`text/x-script.python` and friends included)."""
    true_type = true_type.lower()
    return true_type in EXECUTABLE_TYPES or true_type.startswith("text/x-script.")


# What the conditions of policy/conditions.py say when they hold (their `Check.why`).
_MONITOR = re.compile(r"^monitor: would (?:have )?[\w-]+: ")
_LEVEL = re.compile(r"\blevel (top_secret|secret|confidential|restricted) \(at ")
_MARKING = re.compile(r"^(\S+) marking '")
_PROBLEM = re.compile(r"\b(encrypted|corrupt|unsupported|limit_exceeded|timeout) content at (.*?): (.*)$", re.S)
_FILE_TYPE = re.compile(r" is ([\w.+-]+/[\w.+-]+)$")
_FINDING = re.compile(r"^(\w+) finding '")


def marking_category(level: str | Level | None) -> str:
    """``classified marking (secret)``; the level in its contract name."""
    label = level.label if isinstance(level, Level) else (level or "unknown level")
    return f"classified marking ({label.replace('_', ' ')})"


def problem_category(kind: str, detail: str = "", limit: str | None = None) -> str:
    """The category of one extraction problem (kind as in `ProblemKind`, its detail, its limit)."""
    low = detail.lower()
    if "message/partial" in low:
        return PARTIAL_MESSAGE
    if "message/external-body" in low:
        return EXTERNAL_BODY
    if "mime structure" in low:  # malformed, or parts outside the parsed structure
        return MALFORMED_MESSAGE
    if kind == "encrypted":
        # S/MIME and OpenPGP encrypt for a recipient; anything else is a file someone locked.
        if "s/mime" in low or "openpgp" in low or "pgp" in low:
            return ENCRYPTED
        return PASSWORD_PROTECTED
    if kind == "timeout":
        return TIMED_OUT
    if kind == "limit_exceeded":
        if limit == "max_seconds":
            return TIMED_OUT
        return f"limit exceeded: {limit}" if limit else "limit exceeded"
    if kind == "corrupt":
        return DAMAGED_FILE
    if kind == "unsupported":
        if "opaque-signed" in low:
            return SIGNED_NOT_UNPACKED
        if "transfer encoding" in low:
            return UNKNOWN_ENCODING
        if "charset" in low or "code page" in low:
            return UNKNOWN_CHARSET
        return UNSUPPORTED_FORMAT
    return UNSUPPORTED_FORMAT


# The order in which one problem tells more than another of the same kind.
_PROBLEM_RANK = (PARTIAL_MESSAGE, EXTERNAL_BODY, ENCRYPTED, PASSWORD_PROTECTED, TIMED_OUT)


def _telling_problem(problems: Sequence[Mapping[str, Any]], kind: str, location: str, detail: str) -> str:
    """The category for the problem the explanation names, or a telling one of its kind."""
    same_kind = [p for p in problems if str(p.get("kind")) == kind]
    categories = [problem_category(kind, str(p.get("detail") or ""), p.get("limit")) for p in same_kind]
    for ranked in _PROBLEM_RANK:
        if ranked in categories:
            return ranked
    for p, category in zip(same_kind, categories, strict=True):
        # The explanation may have been cut at a "; " inside the detail: match its start.
        if p.get("location") == location and str(p.get("detail") or "").startswith(detail):
            return category
    if categories:
        return categories[0]
    return problem_category(kind, detail)


def _highest_level(findings: Iterable[Mapping[str, Any]]) -> str | None:
    levels = []
    for f in findings:
        try:
            levels.append(Level.parse(str(f["level"])))
        except (KeyError, ValueError):
            continue
    return max(levels).label if levels else None


def categorise(rule: str, why: str, findings: Sequence[Mapping[str, Any]],
               problems: Sequence[Mapping[str, Any]]) -> str:
    """The reason category from a rule name, its explanation and the report's summaries.

    `findings` are `Finding.summary()` dicts, `problems` dicts with kind, location, detail
    and limit: what `scan --json` prints and the quarantine index stores.
    """
    if rule == "(none)":
        return NO_DECISION
    first = why.split("; ", 1)[0]  # the quarantine joins several recipients' explanations
    first = _MONITOR.sub("", first)
    for clause in first.split(" and "):
        category = _clause_category(clause, findings, problems)
        if category:
            return category
    # An `and` inside a detail may have split a problem clause: try the whole text.
    category = _clause_category(first, findings, problems)
    return category or f"policy rule: {rule}"


def _clause_category(clause: str, findings: Sequence[Mapping[str, Any]],
                     problems: Sequence[Mapping[str, Any]]) -> str | None:
    if clause.startswith("registered document "):
        return REGISTERED_DOCUMENT
    if m := _LEVEL.search(clause):
        return marking_category(_highest_level(findings) or m.group(1))
    if _MARKING.match(clause):
        return marking_category(_highest_level(findings))
    if m := _PROBLEM.search(clause):
        return _telling_problem(problems, m.group(1), m.group(2), m.group(3))
    if ": named/declared " in clause and " but is " in clause:
        return DISGUISED_FILE
    if m := _FILE_TYPE.search(clause):
        return EXECUTABLE if is_executable(m.group(1)) else BLOCKED_FILE_TYPE
    if m := _FINDING.match(clause):
        detector = m.group(1)
        if detector == "fingerprint":
            return REGISTERED_DOCUMENT
        if detector == "markings":
            level = _highest_level(findings)
            return marking_category(level) if level else CONTENT_RULE
        return f"{CONTENT_RULE} ({detector})"
    return None


def problem_dicts(report: InspectionReport) -> list[dict[str, Any]]:
    """The report's problems as the quarantine index and `scan --json` store them."""
    return [{"kind": p.kind.value, "location": p.location, "detail": p.detail, "limit": p.limit}
            for p in report.problems]


def reason_for(decision: Decision, report: InspectionReport) -> str:
    """The reason category of one decision about the message behind `report`."""
    return categorise(decision.rule, decision.reason, [f.summary() for f in report.findings], problem_dicts(report))



def hold_reason(action: str, decisions: Sequence[Decision], outcomes: Sequence[Outcome],
                report: InspectionReport | None) -> str | None:
    """The category of a message the gateway held (quarantined or rejected), else None.

    The message's action comes from its outcomes; the decision behind the first outcome
    with that action (same rule, one of its recipients) gives the category. A rule whose
    action fell back (encrypt without a certificate -> quarantine) counts under the
    content that triggered it.
    """
    if action not in ("quarantine", "reject") or report is None:
        return None
    for outcome in outcomes:
        if outcome.action.value != action:
            continue
        for decision in decisions:
            if decision.mode != "monitor" and decision.rule == outcome.rule and decision.recipient in outcome.recipients:
                return reason_for(decision, report)
    enforced = [d for d in decisions if d.mode != "monitor" and d.action != "deliver"]
    return reason_for(enforced[0], report) if enforced else None
