"""`dlp-gateway scan [--json] FILE.eml...`: inspect and decide without sending.

Each message goes through exactly the relay's code path: `pipeline.inspect_message`
with a `WorkerContext` built from the settings (extraction, markings, YARA,
fingerprints), then the policy directory's `decide(report, envelope)`. The envelope is
taken from the message's From/To/Cc/Bcc headers unless `--from` / `--rcpt` are given.

The policy decides per recipient with the policy's own action names; scan reports the
contract action (DESIGN.md) of what would happen to the message:

- deliver, tag, bcc, require_tls      -> deliver (the recipient gets the message;
  require_tls assumes the next hop offers verified TLS, else its fallback applies)
- encrypt                             -> encrypt when the recipient has a usable
  certificate in the certificate directory, else the rule's fallback
- redirect                            -> quarantine (held away from the recipient)
- quarantine, reject, tempfail        -> themselves; any other name -> quarantine
- a rule in monitor mode              -> deliver (monitor only records)

With several recipients, the message's action is the most severe of theirs
(reject > quarantine > tempfail > encrypt > deliver); every recipient's decision is
listed under "recipients".
"""

from __future__ import annotations

import argparse
import builtins
import email
import email.policy
import email.utils
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlp_gateway.cli import EXIT_FOUND, EXIT_OK, EXIT_USAGE, settings_from_args
from dlp_gateway.model import Decision, Envelope, InspectionReport
from dlp_gateway.termsafe import json_text, printable

PLACEHOLDER_RECIPIENT = "unknown@recipient.invalid"
_SEVERITY = {"deliver": 0, "encrypt": 1, "tempfail": 2, "quarantine": 3, "reject": 4}
_DIRECT = {"deliver": "deliver", "tag": "deliver", "bcc": "deliver", "require_tls": "deliver",
           "encrypt": "encrypt", "redirect": "quarantine", "quarantine": "quarantine",
           "reject": "reject", "tempfail": "tempfail"}
HELD = frozenset({"quarantine", "reject", "tempfail"})

EPILOG = """\
exit status:
  0  every message would be delivered (plainly or encrypted)
  1  at least one message would not be delivered (quarantine, reject or tempfail)
  2  bad usage, a file that cannot be read, or a configuration/policy/rule error

actions reported (the policy's action mapped to the contract):
  deliver, tag, bcc, require_tls -> deliver; encrypt -> encrypt if the recipient has a
  usable certificate, else the rule's fallback; redirect -> quarantine; monitor-mode
  rules -> deliver. With several recipients the most severe action is the message's.
"""


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "scan", parents=[common], help="inspect messages and show the decision, without sending",
        description="Inspect .eml files exactly as the relay would (extraction, detection, policy) and "
                    "print the action, the highest classification level, the rule and the findings.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", metavar="FILE.eml", help="messages as they would arrive (RFC 5322)")
    parser.add_argument("--json", action="store_true", help="one JSON object per message per line")
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
    results = [RecipientResult(d.recipient, contract_action(d, certs_dir), d.action, d.rule, d.reason, d.mode)
               for d in decisions]
    worst = max(results, key=lambda r: _SEVERITY.get(r.action, 3), default=None)
    level = report.level
    return {
        "file": file,
        "action": worst.action if worst else "deliver",
        "level": level.label if level else None,
        "rule": worst.rule if worst else "default",
        "reason": worst.reason if worst else "no recipient",
        "message_id": report.inspection.message_id or None,
        "findings": [f.summary() for f in report.findings],
        "problems": [{"kind": p.kind.value, "location": p.location, "detail": p.detail, "limit": p.limit}
                     for p in report.problems],
        # Defects read through (never a hold on their own): untidy packaging, for the officer.
        "notes": [{"location": n.location, "detail": n.detail} for n in report.inspection.notes],
        "recipients": [{"recipient": r.recipient, "action": r.action, "policy_action": r.policy_action,
                        "rule": r.rule, "reason": r.reason, "mode": r.mode} for r in results],
    }


def _print_human(result: dict[str, Any]) -> None:
    def print(line: str) -> None:  # file names, addresses, evidence and details come from mail
        builtins.print(printable(line))

    level = result["level"] or "none"
    print(f"{result['file']}: {result['action']} (rule {result['rule']}, level {level})")
    for r in result["recipients"]:
        print(f"  {r['recipient']}: {r['action']} by {r['rule']} [{r['policy_action']}, {r['mode']}]: {r['reason']}")
    for f in result["findings"]:
        tag = f" {f['level']}" if f["level"] else ""
        system = f" {f['system']}" if f["system"] else ""
        print(f"  finding {f['detector']} {f['rule']}{tag}{system} at {f['location']}: {f['evidence']}")
    for p in result["problems"]:
        print(f"  problem {p['kind']} at {p['location']}: {p['detail']}")


def run(args: argparse.Namespace) -> int:
    from dlp_gateway.pipeline import WorkerContext, inspect_message
    from dlp_gateway.policy import PolicyError, load_policy

    settings = settings_from_args(args)
    try:
        policy = load_policy(settings.policy_dir, settings.policy.internal_domains)
    except PolicyError as exc:
        problems = getattr(exc, "problems", None) or [str(exc)]
        print("\n".join(str(p) for p in problems), file=sys.stderr)
        print(f"dlp-gateway scan: the policy in {settings.policy_dir} cannot be used; fix it (dlp-gateway policy check).",
              file=sys.stderr)
        return EXIT_USAGE
    ctx = WorkerContext.from_settings(settings)  # a rule error is a ConfigError: cli prints it, exit 2
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
