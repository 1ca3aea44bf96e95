"""Evaluation: ordered rules, first match wins, per recipient, then the default.

Rules in `monitor` mode never change what happens to a message. When one matches it is
recorded and evaluation goes on, so trialling a new rule cannot switch off the rules
after it. If the enforced outcome is a plain `deliver`, the decision handed on is the
monitor rule's (with `mode="monitor"`): the relay delivers unchanged and counts what
would have happened. If an enforced rule does more than deliver, that decision wins and
its reason mentions the monitor rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlp_gateway.model import Decision, Envelope, InspectionReport, Level
from dlp_gateway.policy.conditions import Cond, Direction, Subject, compile_condition, walk
from dlp_gateway.policy.loader import LoadedFile
from dlp_gateway.policy.schema import RuleBase

# markings.md "Incident levels" (資通安全事件通報應變及演練辦法): a slight leak of a general
# official secret (密, our `restricted`) is level 3; any leak of a national secret
# (機密 and above, our `confidential`+) is level 4.
INCIDENT_LEVEL_RESTRICTED = 3
INCIDENT_LEVEL_NATIONAL_SECRET = 4


def incident_level(report: InspectionReport) -> int | None:
    """The incident level a leak of this message would have been, from its highest marking.

    A national secret (confidential, secret, top secret under any marking system) leaking
    at all is level 4; a general official secret (restricted) leaking slightly is level 3.
    Whether a restricted leak is "serious" (level 4) is a judgement the gateway cannot
    make, so it reports 3 and the security officer may raise it. Content without a level
    (e.g. a fingerprint match of an unlabelled document, or unreadable content) gets None:
    the gateway does not know what it would have been.
    """
    level = report.level
    if level is None:
        return None
    return INCIDENT_LEVEL_NATIONAL_SECRET if level >= Level.CONFIDENTIAL else INCIDENT_LEVEL_RESTRICTED


def freeze(value: Any) -> Any:
    """Make policy parameters hashable so decisions can be grouped by them."""
    if isinstance(value, Mapping):
        return tuple((k, freeze(v)) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> dict[str, Any]:
    """The inverse of freeze for one mapping level: ((k, v), ...) -> {k: v}."""
    return dict(value) if value else {}


@dataclass(frozen=True, slots=True)
class CompiledRule:
    name: str
    description: str
    mode: str
    action: str
    params: tuple[tuple[str, Any], ...]
    condition: Cond
    source: str  # "file:line"
    incident_level: int | None = None


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: CompiledRule
    matched: bool
    why: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Everything `policy test` shows: each rule considered, and the decision."""

    recipient: str
    steps: tuple[RuleResult, ...]
    decision: Decision


def compile_rule(rule: RuleBase, file_mode: str, source: str, name: str | None = None) -> CompiledRule:
    params = dict(rule.params())
    if rule.notify is not None:
        n = rule.notify
        params["notify"] = {"sender": n.sender, "to": list(n.to), "subject": n.subject, "template": n.template_text}
    return CompiledRule(
        name=name or rule.name,
        description=rule.description,
        mode=rule.mode or file_mode,
        action=rule.action,  # type: ignore[attr-defined]
        params=freeze(params),
        condition=compile_condition(rule.when),
        source=source,
        incident_level=rule.incident_level,
    )


DEFAULT_RULE = CompiledRule("default", "no policy sets a default: deliver", "enforce", "deliver", (), compile_condition(None), "built in")


@dataclass
class Policy:
    """A loaded policy directory: `decide(report, envelope)` gives one Decision per recipient."""

    rules: list[CompiledRule] = field(default_factory=list)
    default: CompiledRule = DEFAULT_RULE
    internal_domains: tuple[str, ...] = ()
    source: Path | None = None
    files: tuple[Path, ...] = ()

    @classmethod
    def from_files(cls, loaded: Sequence[LoadedFile], internal_domains: Sequence[str] = (), source: Path | None = None) -> Policy:
        rules: list[CompiledRule] = []
        default = DEFAULT_RULE
        for item in loaded:
            mode = item.model.mode
            for index, rule in enumerate(item.model.rules):
                rules.append(compile_rule(rule, mode, f"{item.path}:{item.line_of('rules', index)}"))
            if item.model.default is not None:
                default = compile_rule(item.model.default, mode, f"{item.path}:{item.line_of('default')}", name="default")
        return cls(rules, default, tuple(d.lower() for d in internal_domains), source, tuple(i.path for i in loaded))

    def warnings(self) -> list[str]:
        """Things that load but are probably not what the administrator meant."""
        out = []
        if not self.internal_domains:
            for rule in self.rules:
                if any(isinstance(c, Direction) for c in walk(rule.condition)):
                    out.append(f"{rule.source}: rule {rule.name} uses direction, but policy.internal_domains is empty, "
                               "so every recipient counts as outside (outbound)")
        return out

    def decide(self, report: InspectionReport, envelope: Envelope) -> list[Decision]:
        return [self.evaluate(report, envelope, rcpt).decision for rcpt in envelope.rcpt_tos]

    def evaluate(self, report: InspectionReport, envelope: Envelope, recipient: str) -> Evaluation:
        subject = Subject(report, envelope, recipient, self.internal_domains)
        steps: list[RuleResult] = []
        monitored: list[tuple[CompiledRule, str]] = []
        chosen: tuple[CompiledRule, str] | None = None
        for rule in self.rules:
            check = rule.condition.test(subject)
            steps.append(RuleResult(rule, check.holds, check.why))
            if not check.holds:
                continue
            if rule.mode == "monitor":
                monitored.append((rule, check.why))
                continue
            chosen = (rule, check.why)
            break
        if chosen is None:
            chosen = (self.default, "no rule matched")
        rule, why = chosen
        if monitored and rule.action == "deliver" and rule.mode == "enforce":
            rule, why = monitored[0]
        elif monitored:
            why += "; " + "; ".join(f"monitor rule {r.name} would have: {r.action}" for r, _ in monitored)
        return Evaluation(recipient, tuple(steps), self._decision(rule, why, recipient, report))

    @staticmethod
    def _decision(rule: CompiledRule, why: str, recipient: str, report: InspectionReport) -> Decision:
        level = rule.incident_level
        if level is None and rule.action != "deliver":
            level = incident_level(report)
        reason = f"monitor: would have {rule.action}: {why}" if rule.mode == "monitor" else why
        return Decision(recipient, rule.action, rule.name, reason, rule.mode, rule.params, level)
