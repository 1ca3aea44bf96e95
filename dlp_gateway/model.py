"""The plain dataclasses that move forward through the stages.

smtp/server builds an `Envelope`; content/ turns raw bytes into an `Inspection`;
detect/ turns that into `Finding`s; policy/ turns findings plus the envelope into one
`Decision` per recipient; actions/ carry decisions out and report `Outcome`s.
A later stage never calls back into an earlier one, and these types hold no behaviour
beyond small derived views, so they pickle cheaply across the worker-process boundary.
"""

from __future__ import annotations

import enum
import time
import uuid
from dataclasses import dataclass, field
from typing import Any


class Level(enum.IntEnum):
    """Classification levels of DESIGN.md, ordered so that `max()` gives the highest."""

    RESTRICTED = 1
    CONFIDENTIAL = 2
    SECRET = 3
    TOP_SECRET = 4

    @property
    def label(self) -> str:
        """The contract name: `top_secret`, `secret`, `confidential`, `restricted`."""
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Level:
        """Accept the contract name (`top_secret`) case-insensitively."""
        try:
            return cls[value.strip().upper()]
        except KeyError:
            names = ", ".join(level.label for level in cls)
            raise ValueError(f"unknown level {value!r}; expected one of: {names}") from None


class ProblemKind(enum.StrEnum):
    """Why some content could not be (fully) read. Counted per kind in metrics."""

    ENCRYPTED = "encrypted"
    CORRUPT = "corrupt"
    UNSUPPORTED = "unsupported"
    LIMIT_EXCEEDED = "limit_exceeded"
    TIMEOUT = "timeout"


class Action(enum.StrEnum):
    """What the gateway finally does with a message for one recipient (DESIGN.md `action`)."""

    DELIVER = "deliver"
    ENCRYPT = "encrypt"
    QUARANTINE = "quarantine"
    REJECT = "reject"
    TEMPFAIL = "tempfail"


def new_message_id() -> str:
    """The gateway's own id for a message: sortable by time, unique across nodes."""
    return f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True, slots=True)
class Envelope:
    """The SMTP envelope exactly as the client gave it, plus session facts policies use."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    mail_options: tuple[str, ...] = ()
    rcpt_options: tuple[tuple[str, ...], ...] = ()
    peer: str = ""
    helo: str = ""
    tls: bool = False
    gateway_id: str = field(default_factory=new_message_id)
    received_at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of extracted text and where it came from.

    `location` is human-readable ("report.zip › a.pdf › page 3 › header"); `part` is the
    location of the file or MIME part the text belongs to ("report.zip › a.pdf"), so text
    can be grouped per attachment; `kind` tells detectors what sort of text this is.
    """

    text: str
    location: str
    part: str
    kind: str  # subject | header | body | page | header_band | footer_band | ocr | metadata | comment | cell | note | xml | filename


@dataclass(frozen=True, slots=True)
class Fact:
    """A structured fact found while reading, e.g. an e-document's 密等 代碼 or an Office label."""

    name: str  # e.g. "edoc.secrecy", "office.sensitivity_label", "mail.header.x-classification"
    value: str
    location: str
    part: str


@dataclass(frozen=True, slots=True)
class Problem:
    """Something that could not be read; the policy can hold the message because of it."""

    kind: ProblemKind
    location: str
    detail: str
    limit: str | None = None  # which limit, for LIMIT_EXCEEDED (e.g. "max_depth")


@dataclass(frozen=True, slots=True)
class Note:
    """A defect met while reading that did not stop the content from being read.

    Untidy packaging (a missing MIME boundary, a misspelt transfer encoding, a PDF whose
    cross-reference table had to be rebuilt) is read the way a mail client reads it and
    recorded here for the security officer, instead of as a `Problem`, because a
    `Problem` means that something could not be inspected and may hold the message.
    """

    location: str
    detail: str


@dataclass(slots=True)
class Part:
    """One file or MIME leaf that was read: the unit that YARA, fingerprints and trace see.

    `data` holds the part's decoded bytes while inside the worker process; it is dropped
    (set to None) before the report crosses back to the event loop.
    """

    location: str
    filename: str | None
    declared_type: str | None
    true_type: str  # MIME type by libmagic
    size: int
    sha256: str
    depth: int
    type_mismatch: bool = False
    data: bytes | None = None


@dataclass(slots=True)
class Inspection:
    """What content/ read from one message."""

    segments: list[Segment] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)  # defects read through; never a hold on their own
    headers: dict[str, list[str]] = field(default_factory=dict)  # lower-case name -> decoded values
    subject: str = ""
    message_id: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a detector recognised."""

    detector: str  # markings | yara | fingerprint | filetype
    rule: str  # the detector's rule or pattern name
    location: str
    evidence: str  # short, for the security officer; never a whole document
    level: Level | None = None
    system: str | None = None  # ROC | US | NATO | EU | PRC | OFFICE | HEADER | EDOC
    confidence: float = 1.0
    tags: tuple[str, ...] = ()
    # fingerprint matches only
    document_id: str | None = None
    label: str | None = None
    share_of_part: float | None = None  # how much of the message part comes from the document
    share_of_document: float | None = None  # how much of the document is in the message part

    def summary(self) -> dict[str, Any]:
        """The JSON form used by `scan --json`, the decision log and the quarantine index."""
        out: dict[str, Any] = {
            "detector": self.detector,
            "rule": self.rule,
            "location": self.location,
            "evidence": self.evidence,
            # A declassified marking has no current Level (it must not meet `level_at_least`)
            # but says what it is; a message's own `level` stays one of the four or null.
            "level": self.level.label if self.level else ("declassified" if "declassified" in self.tags else None),
            "system": self.system,
            "confidence": round(self.confidence, 3),
        }
        if self.tags:
            out["tags"] = list(self.tags)
        if self.document_id is not None:
            out.update(
                document_id=self.document_id,
                label=self.label,
                share_of_part=None if self.share_of_part is None else round(self.share_of_part, 3),
                share_of_document=None
                if self.share_of_document is None
                else round(self.share_of_document, 3),
            )
        return out


@dataclass(slots=True)
class PartDigest:
    """What trace keeps of one body or attachment: hashes only, never the text."""

    location: str
    sha256: str
    # The sample of the part's winnowing fingerprints that trace keeps (store/trace.py
    # `sample`), sorted, as signed 64-bit ints (SQLite's INTEGER); computed in the worker
    # so the relay process only writes rows.
    kept: tuple[int, ...] = ()
    cut: int | None = None  # the largest kept value (signed) when the sample was cut short


@dataclass(slots=True)
class InspectionReport:
    """What comes back from a worker: the inspection (without part bytes) and the findings."""

    inspection: Inspection
    findings: list[Finding]
    digests: list[PartDigest] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds
    size: int = 0  # bytes of the raw message, for the policy's message-size condition

    @property
    def level(self) -> Level | None:
        """The highest classification level found, or None."""
        levels = [f.level for f in self.findings if f.level is not None]
        return max(levels) if levels else None

    @property
    def problems(self) -> list[Problem]:
        return self.inspection.problems


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's verdict for one recipient: which rule, which action, and why."""

    recipient: str
    action: str  # an action name from actions/ (deliver, tag, encrypt, quarantine, reject, ...)
    rule: str  # name of the rule that matched, or "default"
    reason: str
    mode: str = "enforce"  # enforce | monitor
    params: tuple[tuple[str, Any], ...] = ()  # action parameters from the policy, frozen
    incident_level: int | None = None  # the incident level it would have been (markings.md)

    def param(self, name: str, default: Any = None) -> Any:
        for key, value in self.params:
            if key == name:
                return value
        return default


@dataclass(frozen=True, slots=True)
class Outcome:
    """What actually happened for a group of recipients, and the SMTP answer it implies."""

    recipients: tuple[str, ...]
    action: Action
    code: int
    message: str
    rule: str = ""
    quarantine_id: str | None = None
    detail: str = ""
