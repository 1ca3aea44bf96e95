"""The policy file format, as pydantic models.

Every model forbids unknown keys, so a typo (`levle_at_least:`) is an error and not a
rule that silently never matches. Patterns (regular expressions, globs, addresses) are
checked here, at load time, so a policy that loads cannot fail later on a bad pattern.
Lists may be written as a single value (`sender: "*@example.org"`); they are
normalised to lists before validation so errors stay short.

A file looks like this (see policies/default.yaml for a commented example):

    mode: enforce                 # or monitor: record what would happen, deliver unchanged
    default: {action: deliver}    # at most one file in the directory sets the default
    rules:
      - name: national-secret
        when: {level_at_least: confidential}
        action: quarantine
        notify: {sender: true, to: [security@example.org]}
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from string import Template
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ByteSize,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

LevelName = Literal["restricted", "confidential", "secret", "top_secret"]
ProblemName = Literal["encrypted", "corrupt", "unsupported", "limit_exceeded", "timeout", "any"]
DirectionName = Literal["inbound", "outbound", "internal"]
Mode = Literal["enforce", "monitor"]
FallbackName = Literal["deliver", "quarantine", "reject"]
SystemName = Literal["ROC", "US", "NATO", "EU", "PRC", "OFFICE", "HEADER", "EDOC"]

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 field name: printable ASCII except ':'
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")


def _as_list(value: Any) -> Any:
    """Accept one value where a list is expected."""
    return [value] if isinstance(value, str | int | float | dict) else value


def check_glob(pattern: str) -> str:
    """A glob with an unclosed `[` silently matches only itself in fnmatch: refuse it."""
    depth_open = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "[" and not depth_open:
            depth_open = True
            i += 2 if pattern[i + 1 : i + 2] in ("!", "]") else 1
            continue
        if char == "]" and depth_open:
            depth_open = False
        i += 1
    if depth_open:
        raise ValueError(f"glob {pattern!r} has an unclosed '['; write '[[]' for a literal bracket")
    re.compile(fnmatch.translate(pattern))
    return pattern


def check_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"regular expression {pattern!r} is invalid: {exc}") from None
    return pattern


def check_address_pattern(pattern: str) -> str:
    """`user@domain` (globs allowed on both sides) or a bare domain (`example.org`, `*.example.org`)."""
    pattern = pattern.strip().lower()
    if not pattern or any(c.isspace() for c in pattern):
        raise ValueError(f"address pattern {pattern!r} is empty or contains white space")
    if pattern.count("@") > 1:
        raise ValueError(f"address pattern {pattern!r} has more than one '@'")
    return check_glob(pattern)


def check_address(address: str) -> str:
    if not _ADDRESS.match(address.strip()):
        raise ValueError(f"{address!r} is not a mail address (user@domain)")
    return address.strip()


Strs = Annotated[list[str], BeforeValidator(_as_list)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class FindingMatch(Strict):
    """A detector finding: `{detector: yara, rule: "roc_*", tag: classified}`; all given must hold."""

    detector: str | None = Field(None, description="markings | yara | fingerprint | filetype | ...")
    rule: str | None = Field(None, description="glob on the detector's rule name")
    tag: str | None = Field(None, description="glob on a YARA tag")
    min_confidence: float = Field(0.0, ge=0.0, le=1.0)

    _check = field_validator("rule", "tag")(lambda v: None if v is None else check_glob(v))


class FingerprintMatch(Strict):
    """A registered-document match, optionally by label and with a minimum share."""

    label: str | None = Field(None, description="glob on the fingerprint's label")
    min_share: float = Field(
        0.0, ge=0.0, le=1.0,
        description="the larger of share_of_document and share_of_part must reach this",
    )

    _check = field_validator("label")(lambda v: None if v is None else check_glob(v))


class HeaderMatch(Strict):
    """A message header whose decoded value matches a regular expression (searched, case-insensitive)."""

    name: str
    pattern: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _HEADER_NAME.match(value):
            raise ValueError(f"{value!r} is not a header name")
        return value.lower()

    _check = field_validator("pattern")(lambda v: check_regex(v))


class SizeMatch(Strict):
    """The raw message size: `{at_least: 10MB}`, `{below: 1KiB}`, or both."""

    at_least: ByteSize | None = None
    below: ByteSize | None = None

    @model_validator(mode="after")
    def _some(self) -> SizeMatch:
        if self.at_least is None and self.below is None:
            raise ValueError("give at_least and/or below")
        return self


class AddressMatch(Strict):
    """Addresses or domains: a list of patterns and/or a file of them (one a line, # comments).

    A pattern with `@` is matched against the whole address (`*@example.org`,
    `alice@example.org`); one without is a domain (`example.org` exactly,
    `*.example.org` for its subdomains). Matching ignores case.
    """

    match: Strs = Field(default_factory=list)
    file: str | None = Field(None, description="path, relative to the policy file")
    patterns: tuple[str, ...] = Field((), exclude=True, description="(filled at load time)")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str | list):
            return {"match": value}
        return value

    _check = field_validator("match")(lambda v: [check_address_pattern(p) for p in v])

    @model_validator(mode="after")
    def _load(self, info: ValidationInfo) -> AddressMatch:
        patterns = list(self.match)
        if self.file is not None:
            base = Path((info.context or {}).get("base_dir", "."))
            path = Path(self.file) if Path(self.file).is_absolute() else base / self.file
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise ValueError(f"cannot read address file {path}: {exc.strerror}") from None
            for number, line in enumerate(lines, 1):
                text = line.split("#", 1)[0].strip()
                if text:
                    try:
                        patterns.append(check_address_pattern(text))
                    except ValueError as exc:
                        raise ValueError(f"{path}, line {number}: {exc}") from None
        if not patterns:
            raise ValueError("no address patterns: give match and/or a non-empty file")
        object.__setattr__(self, "patterns", tuple(patterns))
        return self


class Condition(Strict):
    """When a rule applies. Several keys in one mapping must all hold; use any/not for the rest."""

    all_: list[Condition] | None = Field(None, alias="all")
    any_: list[Condition] | None = Field(None, alias="any")
    not_: Condition | None = Field(None, alias="not")
    level_at_least: LevelName | None = None
    marking_system: Annotated[list[SystemName] | None, BeforeValidator(_as_list)] = None
    finding: FindingMatch | None = None
    fingerprint: FingerprintMatch | None = None
    problem: Annotated[list[ProblemName] | None, BeforeValidator(_as_list)] = None
    file_type: Annotated[list[str] | None, BeforeValidator(_as_list)] = None
    type_mismatch: bool | None = None
    sender: AddressMatch | None = None
    recipient: AddressMatch | None = None
    direction: Annotated[list[DirectionName] | None, BeforeValidator(_as_list)] = None
    size: SizeMatch | None = None
    header: Annotated[list[HeaderMatch] | None, BeforeValidator(_as_list)] = None
    tls: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _upper_systems(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("marking_system"), str | list):
            systems = _as_list(value["marking_system"])
            value = {**value, "marking_system": [s.upper() if isinstance(s, str) else s for s in systems]}
        return value

    _check = field_validator("file_type")(lambda v: None if v is None else [check_glob(p.lower()) for p in v])

    @model_validator(mode="after")
    def _not_empty(self) -> Condition:
        if not self.model_fields_set:
            raise ValueError("empty condition: give at least one key (level_at_least, sender, any, ...)")
        return self


class Notify(Strict):
    """Also tell people. Notices never contain the message's content, only its id and the reason.

    `template` and `subject` use $placeholders: $gateway_id, $quarantine_id, $rule, $reason, $action,
    $sender, $recipients, $message_id, $date.
    """

    sender: bool = False
    to: Annotated[list[str], BeforeValidator(_as_list)] = Field(default_factory=list)
    subject: str = "Mail security gateway: $action for your message"
    template: str | None = None
    template_file: str | None = None
    template_text: str = Field("", exclude=True, description="(filled at load time)")

    _check = field_validator("to")(lambda v: [check_address(a) for a in v])

    @model_validator(mode="after")
    def _load(self, info: ValidationInfo) -> Notify:
        if not self.sender and not self.to:
            raise ValueError("notify needs sender: true and/or addresses in to")
        if self.template is not None and self.template_file is not None:
            raise ValueError("give template or template_file, not both")
        _check_template(self.subject, "subject")
        text = self.template
        if self.template_file is not None:
            base = Path((info.context or {}).get("base_dir", "."))
            path = Path(self.template_file)
            path = path if path.is_absolute() else base / path
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ValueError(f"cannot read template file {path}: {exc.strerror}") from None
        if text is not None:
            _check_template(text, "template")
        object.__setattr__(self, "template_text", text or "")
        return self


def _check_template(text: str, what: str) -> None:
    template = Template(text)
    if not template.is_valid():
        raise ValueError(f"{what} has a bad $placeholder; write $$ for a literal $")
    unknown = set(template.get_identifiers()) - set(NOTICE_FIELDS)
    if unknown:
        raise ValueError(f"unknown {what} placeholder(s) {sorted(unknown)}; known: {', '.join(NOTICE_FIELDS)}")


NOTICE_FIELDS = ("gateway_id", "quarantine_id", "rule", "reason", "action", "sender", "recipients", "message_id", "date")


class RuleBase(Strict):
    name: str = Field("", pattern=_NAME, description="unique across the directory; shown in logs")
    description: str = ""
    mode: Mode | None = Field(None, description="overrides the file's mode for this rule")
    when: Condition | None = Field(None, description="absent: the rule always applies")
    notify: Notify | None = None
    incident_level: int | None = Field(None, ge=1, le=4, description="override the computed incident level")

    def params(self) -> dict[str, Any]:
        """The action's own parameters (everything but the rule's common keys)."""
        common = set(RuleBase.model_fields)
        return {k: v for k, v in self.model_dump(exclude={"action"}).items() if k not in common}


class DeliverRule(RuleBase):
    """Deliver unchanged."""

    action: Literal["deliver"]


class TagRule(RuleBase):
    """Add headers and/or a Subject prefix, then deliver."""

    action: Literal["tag"]
    headers: dict[str, str] = Field(default_factory=dict)
    subject_prefix: str | None = None

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not a header name")
            if "\n" in text or "\r" in text:
                raise ValueError(f"header {name} value must be one line")
        return value

    @model_validator(mode="after")
    def _some(self) -> TagRule:
        if not self.headers and not self.subject_prefix:
            raise ValueError("tag needs headers and/or subject_prefix")
        return self


class EncryptRule(RuleBase):
    """S/MIME-encrypt to each recipient's certificate; without a usable one, the fallback."""

    action: Literal["encrypt"]
    fallback: FallbackName = "quarantine"
    keep_subject: bool = Field(True, description="false: the outer Subject becomes subject_text")
    subject_text: str = "Encrypted message"


class RequireTlsRule(RuleBase):
    """Deliver only over verified TLS to the next hop; otherwise the fallback."""

    action: Literal["require_tls"]
    fallback: FallbackName = "quarantine"


class QuarantineRule(RuleBase):
    """Hold the message in the quarantine; the client gets 250."""

    action: Literal["quarantine"]


class RejectRule(RuleBase):
    """Refuse with a 5xx and an administrator's text."""

    action: Literal["reject"]
    code: int = Field(550, ge=500, le=599)
    message: str = "Message refused by the mail security policy"

    @field_validator("message")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise ValueError("message must be one line (it becomes the SMTP reply text)")
        return value


class RedirectRule(RuleBase):
    """`redirect`: send to the security mailbox instead; `bcc`: deliver and send a copy there."""

    action: Literal["redirect", "bcc"]
    to: Annotated[list[str], BeforeValidator(_as_list)] = Field(min_length=1)

    _check = field_validator("to")(lambda v: [check_address(a) for a in v])


class WatermarkRule(RuleBase):
    """Deliver with each PDF attachment invisibly marked for each recipient (read back by `trace`)."""

    action: Literal["watermark"]


Rule = Annotated[
    DeliverRule | TagRule | EncryptRule | RequireTlsRule | QuarantineRule | RejectRule | RedirectRule
    | WatermarkRule,
    Field(discriminator="action"),
]
ACTION_NAMES = ("deliver", "tag", "encrypt", "require_tls", "quarantine", "reject", "redirect", "bcc",
                "watermark")


class PolicyFile(Strict):
    """One policy file. Files in a directory are read in name order and their rules chained."""

    name: str | None = None
    description: str = ""
    mode: Mode = "enforce"
    default: Rule | None = Field(None, description="what happens when no rule matches")
    rules: list[Rule] = Field(default_factory=list)
