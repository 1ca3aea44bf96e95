"""`dlp-gateway scan [--json] FILE.eml...`: inspect and decide without sending.

Each message goes through exactly the relay's code path: `pipeline.inspect_message`
with a `WorkerContext` built from the settings (extraction, markings, YARA,
fingerprints), then the policy directory's `decide(report, envelope)`. The envelope is
taken from the message's From/To/Cc/Bcc headers unless `--from` / `--rcpt` are given.

The policy decides per recipient with the policy's own action names; scan reports the
contract action (DESIGN.md) of what would happen to the message:

- deliver, tag, bcc, require_tls,
  watermark                           -> deliver (the recipient gets the message;
  require_tls assumes the next hop offers verified TLS, else its fallback applies)
- encrypt                             -> encrypt when the recipient has a usable
  certificate in the certificate directory, else the rule's fallback
- redirect                            -> quarantine (held away from the recipient)
- quarantine, reject, tempfail        -> themselves; any other name -> quarantine
- a rule in monitor mode              -> deliver (monitor only records)

With several recipients, the message's action is the most severe of theirs
(reject > quarantine > tempfail > encrypt > deliver); every recipient's decision is
listed under "recipients". A message not delivered also gets a `reason`: the category of
the hold in an officer's words (policy/reasons.py), e.g. "encrypted content".

`scan --summary DIR...` surveys a collection of messages (every file under the
directories is one message): the count per action and, for those not delivered, per
reason with example files; exit 0 whatever it finds. It runs each file through the same
path, in this process, bounded by the same extraction limits; a file that cannot be read
or breaks the inspection is counted as an `error` with its reason, never fatal. With
`--isolated` the files go to the relay's worker processes instead, which bounds each one
by a hard deadline (a worker that overruns is killed, as in the relay: `tempfail`).
"""

from __future__ import annotations

import argparse
import asyncio
import builtins
import email
import email.policy
import email.utils
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlp_gateway.cli import EXIT_FOUND, EXIT_OK, EXIT_USAGE, settings_from_args
from dlp_gateway.model import Decision, Envelope, InspectionReport
from dlp_gateway.policy.reasons import TIMED_OUT, UNREADABLE_FILE, problem_dicts, reason_for
from dlp_gateway.termsafe import json_text, printable

PLACEHOLDER_RECIPIENT = "unknown@recipient.invalid"
_SEVERITY = {"deliver": 0, "encrypt": 1, "tempfail": 2, "quarantine": 3, "reject": 4}
_DIRECT = {"deliver": "deliver", "tag": "deliver", "bcc": "deliver", "require_tls": "deliver",
           "watermark": "deliver", "encrypt": "encrypt", "redirect": "quarantine", "quarantine": "quarantine",
           "reject": "reject", "tempfail": "tempfail"}
HELD = frozenset({"quarantine", "reject", "tempfail"})

EPILOG = """\
exit status:
  0  every message would be delivered (plainly or encrypted)
  1  at least one message would not be delivered (quarantine, reject or tempfail)
  2  bad usage, a file that cannot be read, or a configuration/policy/rule error
  with --summary: 0 whatever the messages hold; 2 for a path that does not exist

actions reported (the policy's action mapped to the contract):
  deliver, tag, bcc, require_tls -> deliver; encrypt -> encrypt if the recipient has a
  usable certificate, else the rule's fallback; redirect -> quarantine; monitor-mode
  rules -> deliver. With several recipients the most severe action is the message's.
"""


def _count(text: str) -> int:
    """A whole number >= 0, for argparse."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of 0 or more, not {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "scan", parents=[common], help="inspect messages and show the decision, without sending",
        description="Inspect .eml files exactly as the relay would (extraction, detection, policy) and "
                    "print the action, the highest classification level, the rule and the findings.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", metavar="FILE.eml",
                        help="messages as they would arrive (RFC 5322); with --summary also directories")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per message per line (with --summary: one object for all)")
    parser.add_argument("--summary", action="store_true",
                        help="survey: read every file under the given directories as a message and print the "
                             "count per action and, for messages not delivered, per reason with examples; exit 0")
    parser.add_argument("--examples", type=_count, default=3, metavar="N",
                        help="with --summary: example file names per reason (default 3)")
    parser.add_argument("--isolated", action="store_true",
                        help="with --summary: inspect in the relay's worker processes (workers.processes at a time); "
                             "a file that hangs or crashes a reader costs only its own worker and counts as tempfail")
    parser.add_argument("--policy", metavar="DIR", help="policy directory (default: policy.dir of the configuration)")
    parser.add_argument("--from", dest="sender", metavar="ADDR", help="envelope sender (default: the From header)")
    parser.add_argument("--rcpt", action="append", metavar="ADDR",
                        help="envelope recipient, repeatable (default: To, Cc and Bcc of the message)")
    parser.add_argument("--tls", action="store_true", help="treat the inbound session as TLS-protected")
    parser.set_defaults(func=run)


@dataclass(slots=True)
class RecipientResult:
    recipient: str
    action: str  # contract action
    policy_action: str
    rule: str
    reason: str
    mode: str


def envelope_for(raw: bytes, sender: str | None, rcpts: list[str] | None, tls: bool = False) -> Envelope:
    """The envelope the message would arrive with: flags first, else its own headers."""
    if sender is None or not rcpts:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        if sender is None:
            sender = email.utils.parseaddr(str(msg.get("From", "") or ""))[1]
        if not rcpts:
            values = [str(v) for name in ("To", "Cc", "Bcc") for v in msg.get_all(name, [])]
            rcpts = list(dict.fromkeys(addr for _, addr in email.utils.getaddresses(values) if "@" in addr))
    return Envelope(sender or "", tuple(rcpts or [PLACEHOLDER_RECIPIENT]), tls=tls)


def contract_action(decision: Decision, certs_dir: Path) -> str:
    """The DESIGN.md action that would really happen to this recipient."""
    if decision.mode == "monitor":
        return "deliver"
    action = decision.action
    if action == "encrypt":
        from dlp_gateway.actions.smime import find_certificate

        if find_certificate(certs_dir, decision.recipient).certificate is not None:
            return "encrypt"
        fallback = str(decision.param("fallback", "quarantine"))
        return _DIRECT.get(fallback, "quarantine") if fallback != "encrypt" else "quarantine"
    return _DIRECT.get(action, "quarantine")


def summarise(file: str, report: InspectionReport, decisions: list[Decision], certs_dir: Path) -> dict[str, Any]:
    """The JSON result of one message. `reason` is the hold's category in an officer's words
    (policy/reasons.py), null when the message is delivered; `why` the rule's own explanation."""
    results = [RecipientResult(d.recipient, contract_action(d, certs_dir), d.action, d.rule, d.reason, d.mode)
               for d in decisions]
    categories = [None if r.action == "deliver" else reason_for(d, report) for r, d in zip(results, decisions, strict=True)]
    worst_index = max(range(len(results)), key=lambda i: _SEVERITY.get(results[i].action, 3), default=None)
    worst = results[worst_index] if worst_index is not None else None
    level = report.level
    return {
        "file": file,
        "action": worst.action if worst else "deliver",
        "level": level.label if level else None,
        "rule": worst.rule if worst else "default",
        "reason": categories[worst_index] if worst_index is not None else None,
        "why": worst.reason if worst else "no recipient",
        "message_id": report.inspection.message_id or None,
        "findings": [f.summary() for f in report.findings],
        "problems": problem_dicts(report),
        # Defects read through (never a hold on their own): untidy packaging, for the officer.
        "notes": [{"location": n.location, "detail": n.detail} for n in report.inspection.notes],
        "recipients": [{"recipient": r.recipient, "action": r.action, "policy_action": r.policy_action,
                        "rule": r.rule, "reason": category, "why": r.reason, "mode": r.mode}
                       for r, category in zip(results, categories, strict=True)],
    }


def _print_human(result: dict[str, Any]) -> None:
    def print(line: str) -> None:  # file names, addresses, evidence and details come from mail
        builtins.print(printable(line))

    level = result["level"] or "none"
    print(f"{result['file']}: {result['action']} (rule {result['rule']}, level {level})")
    if result["reason"]:
        print(f"  reason: {result['reason']}")
    for r in result["recipients"]:
        print(f"  {r['recipient']}: {r['action']} by {r['rule']} [{r['policy_action']}, {r['mode']}]: {r['why']}")
    for f in result["findings"]:
        tag = f" {f['level']}" if f["level"] else ""
        system = f" {f['system']}" if f["system"] else ""
        print(f"  finding {f['detector']} {f['rule']}{tag}{system} at {f['location']}: {f['evidence']}")
    for p in result["problems"]:
        print(f"  problem {p['kind']} at {p['location']}: {p['detail']}")


def _message_files(paths: list[str]) -> tuple[list[str], list[str]]:
    """Every file under the given directories (recursively, in name order) and the files
    given themselves; and the paths that do not exist. Symbolic links to directories are
    not followed, so a link loop cannot make the walk endless; a dangling link is listed
    (and then counted as unreadable), so nothing is left out of a survey unseen."""
    files: list[str] = []
    missing: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs.sort()
                files.extend(os.path.join(root, name) for name in sorted(names)
                             if os.path.isfile(os.path.join(root, name)) or os.path.islink(os.path.join(root, name)))
        elif os.path.exists(path) or os.path.islink(path):
            files.append(path)
        else:
            missing.append(path)
    return list(dict.fromkeys(os.path.normpath(f) for f in files)), missing  # a file named twice counts once


@dataclass(slots=True)
class FileResult:
    """What a survey keeps of one message."""

    file: str
    action: str
    reason: str | None = None
    problem_kinds: frozenset[str] = frozenset()
    noted: bool = False  # defects were read through (model.Note)
    over_smtp_limits: tuple[str, ...] = ()
    seconds: float = 0.0


@dataclass(slots=True)
class Summary:
    """Counts over many messages: per action, and per reason for those not delivered."""

    examples: int
    total: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)
    noted: int = 0
    reasons: dict[str, list[str]] = field(default_factory=dict)  # category -> files
    over_smtp_limits: dict[str, list[str]] = field(default_factory=dict)  # smtp setting -> files
    slowest: tuple[float, str] = (0.0, "")

    def add(self, result: FileResult) -> None:
        self.total += 1
        self.actions[result.action] += 1
        self.problems.update(result.problem_kinds)
        self.noted += result.noted
        if result.action not in ("deliver", "encrypt"):
            self.reasons.setdefault(result.reason or "unknown", []).append(result.file)
        for setting in result.over_smtp_limits:
            self.over_smtp_limits.setdefault(setting, []).append(result.file)
        self.slowest = max(self.slowest, (result.seconds, result.file))

    def as_json(self) -> dict[str, Any]:
        held = sum(len(files) for files in self.reasons.values())
        ordered = sorted(self.reasons.items(), key=lambda item: (-len(item[1]), item[0]))
        return {
            "total": self.total,
            "actions": dict(sorted(self.actions.items())),
            "held": held,
            "held_share": round(held / self.total, 4) if self.total else 0.0,
            "reasons": {reason: {"count": len(files), "examples": files[: self.examples]} for reason, files in ordered},
            "messages_with_problem": dict(sorted(self.problems.items())),
            "messages_with_notes": self.noted,
            "over_smtp_limits": {setting: {"count": len(files), "examples": files[: self.examples]}
                                 for setting, files in sorted(self.over_smtp_limits.items())},
            "slowest": {"file": self.slowest[1], "seconds": round(self.slowest[0], 3)} if self.total else None,
        }


def _print_summary(summary: dict[str, Any]) -> None:
    def print(line: str) -> None:  # file names come from whoever named the files
        builtins.print(printable(line))

    total = summary["total"]
    print(f"messages: {total}")
    for action, count in summary["actions"].items():
        print(f"  {action:<11} {count:>6}  ({count / total:.1%})")
    if summary["reasons"]:
        print(f"not delivered, by reason ({summary['held']}, {summary['held_share']:.1%}):")
        for reason, entry in summary["reasons"].items():
            print(f"  {entry['count']:>6}  {reason}")
            for example in entry["examples"]:
                print(f"            e.g. {example}")
    if summary["messages_with_problem"]:
        kinds = ", ".join(f"{kind} {count}" for kind, count in summary["messages_with_problem"].items())
        print(f"messages with an extraction problem, by kind: {kinds}")
    if summary["messages_with_notes"]:
        print(f"messages read through a defect (notes): {summary['messages_with_notes']}")
    for setting, entry in summary["over_smtp_limits"].items():
        print(f"over smtp.{setting} (the relay refuses these before inspection): {entry['count']}")
        for example in entry["examples"]:
            print(f"            e.g. {example}")
    if summary["slowest"]:
        print(f"slowest: {summary['slowest']['file']} ({summary['slowest']['seconds']:g} s)")


def smtp_limits_exceeded(raw: bytes, settings: Any) -> tuple[str, ...]:
    """The `smtp.` settings this message exceeds as DATA: `scan` inspects what the relay
    would, but a message over these is refused before inspection (552), so a survey names
    them. (Lines of DATA have no limit of their own: smtp.max_line_length is for commands.)"""
    return ("max_message_size",) if len(raw) > settings.smtp.max_message_size else ()


def _survey_one(file: str, args: argparse.Namespace, ctx: Any, policy: Any, settings: Any) -> FileResult:
    """One file of a survey. Never raises: a file that cannot be read or breaks the reader
    or the policy is counted as an `error` with its reason, so one bad file cannot end a
    survey (the relay would answer 451 and keep the message)."""
    from dlp_gateway.pipeline import inspect_message

    try:
        raw = Path(file).read_bytes()
    except OSError as exc:
        print(printable(f"dlp-gateway scan: cannot read {file}: {exc.strerror or exc}"), file=sys.stderr)
        return FileResult(file, "error", UNREADABLE_FILE)
    over = smtp_limits_exceeded(raw, settings)
    try:
        report = inspect_message(raw, ctx)
    except Exception as exc:
        print(printable(f"dlp-gateway scan: {file}: inspection failed: {type(exc).__name__}: {exc}"[:500]), file=sys.stderr)
        return FileResult(file, "error", f"inspection failed ({type(exc).__name__})", over_smtp_limits=over)
    return _decide_one(file, raw, report, args, policy, settings, over)


def _decide_one(file: str, raw: bytes, report: InspectionReport, args: argparse.Namespace, policy: Any,
                settings: Any, over: tuple[str, ...]) -> FileResult:
    """The policy's decision on an inspected file, as a survey keeps it; never raises."""
    try:
        envelope = envelope_for(raw, args.sender, args.rcpt, args.tls)
        result = summarise(file, report, policy.decide(report, envelope), settings.certs_dir)
    except Exception as exc:
        print(printable(f"dlp-gateway scan: {file}: the policy failed: {type(exc).__name__}: {exc}"[:500]), file=sys.stderr)
        return FileResult(file, "error", f"policy failed ({type(exc).__name__})", over_smtp_limits=over)
    return FileResult(file, result["action"], result["reason"], frozenset(p["kind"] for p in result["problems"]),
                      bool(result["notes"]), over)


async def _survey_isolated(files: list[str], args: argparse.Namespace, policy: Any, settings: Any) -> list[FileResult]:
    """Inspect in worker processes, as the relay does: each message within
    limits.max_seconds + workers.timeout_margin_seconds or its worker is killed, and a
    worker that dies costs only its message. Those count as `tempfail`, the relay's 451."""
    from dlp_gateway.inspector import InspectionError, InspectionTimeout, Inspector

    lanes = asyncio.Semaphore(settings.workers.processes)

    async def one(file: str) -> FileResult:
        async with lanes:
            started = time.perf_counter()
            try:
                raw = await asyncio.to_thread(Path(file).read_bytes)
            except OSError as exc:
                print(printable(f"dlp-gateway scan: cannot read {file}: {exc.strerror or exc}"), file=sys.stderr)
                return FileResult(file, "error", UNREADABLE_FILE)
            over = smtp_limits_exceeded(raw, settings)
            try:
                report = await inspector.inspect(raw)
            except InspectionError as exc:
                why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                print(printable(f"dlp-gateway scan: {file}: {why}"), file=sys.stderr)
                reason = TIMED_OUT if isinstance(exc, InspectionTimeout) else "inspection failed (worker)"
                return FileResult(file, "tempfail", reason, over_smtp_limits=over,
                                  seconds=time.perf_counter() - started)
            result = _decide_one(file, raw, report, args, policy, settings, over)
            result.seconds = time.perf_counter() - started
            return result

    async with Inspector(settings) as inspector:
        return list(await asyncio.gather(*(one(file) for file in files)))


def run_summary(args: argparse.Namespace, ctx: Any, policy: Any, settings: Any) -> int:
    files, missing = _message_files(args.files)
    for path in missing:
        print(printable(f"dlp-gateway scan: {path}: no such file or directory"), file=sys.stderr)
    if missing:
        return EXIT_USAGE
    summary = Summary(examples=args.examples)
    if args.isolated:
        results = asyncio.run(_survey_isolated(files, args, policy, settings))
    else:
        results = []
        for file in files:
            started = time.perf_counter()
            result = _survey_one(file, args, ctx, policy, settings)
            result.seconds = time.perf_counter() - started
            results.append(result)
    for result in results:
        summary.add(result)
    out = summary.as_json()
    if args.json:
        print(json_text(out))
    else:
        _print_summary(out)
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    from dlp_gateway.pipeline import WorkerContext, inspect_message
    from dlp_gateway.policy import PolicyError, load_policy

    settings = settings_from_args(args, **({"policy.dir": args.policy} if args.policy else {}))
    try:
        policy = load_policy(settings.policy_dir, settings.policy.internal_domains)
    except PolicyError as exc:
        problems = getattr(exc, "problems", None) or [str(exc)]
        print("\n".join(str(p) for p in problems), file=sys.stderr)
        print(f"dlp-gateway scan: the policy in {settings.policy_dir} cannot be used; fix it (dlp-gateway policy check).",
              file=sys.stderr)
        return EXIT_USAGE
    ctx = WorkerContext.from_settings(settings)  # a rule error is a ConfigError: cli prints it, exit 2
    if args.summary:
        return run_summary(args, ctx, policy, settings)
    status = EXIT_OK
    for file in args.files:
        try:
            raw = Path(file).read_bytes()
        except OSError as exc:
            print(f"dlp-gateway scan: cannot read {file}: {exc.strerror or exc}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        report = inspect_message(raw, ctx)
        envelope = envelope_for(raw, args.sender, args.rcpt, args.tls)
        result = summarise(file, report, policy.decide(report, envelope), settings.certs_dir)
        if args.json:
            print(json_text(result), flush=True)
        else:
            _print_human(result)
        if result["action"] in HELD and status == EXIT_OK:
            status = EXIT_FOUND
    return status
