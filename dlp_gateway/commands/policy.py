"""`dlp-gateway policy check [DIR]` and `dlp-gateway policy test FILE.eml --rcpt ADDR`.

`check` validates every file of a policy directory and prints each problem with its
file, line and field; exit 1 when there is any. `test` runs one message through the
same inspection code as the relay (`pipeline.inspect_message`) and the policy, then
prints the findings, every rule considered with why it did or did not match, and the
decision: the tool to use before a policy change goes live.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dlp_gateway.cli import EXIT_FOUND, EXIT_OK, EXIT_USAGE, settings_from_args
from dlp_gateway.model import Envelope, InspectionReport
from dlp_gateway.termsafe import printable


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("policy", parents=[common], help="check and try out policies",
                                   description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="policy_command", metavar="SUBCOMMAND", required=True)

    check = sub.add_parser("check", parents=[common], help="validate every policy file of a directory")
    check.add_argument("dir", nargs="?", metavar="DIR", help="policy directory (default: policy.dir of the config)")
    check.set_defaults(func=run_check)

    test = sub.add_parser("test", parents=[common], help="show how the policy decides one message")
    test.add_argument("file", metavar="FILE.eml", help="the message, as it would arrive (RFC 5322)")
    test.add_argument("--rcpt", action="append", required=True, metavar="ADDR", help="a recipient (repeat for more)")
    test.add_argument("--from", dest="sender", default="", metavar="ADDR", help="envelope sender (default: the From header)")
    test.add_argument("--tls", action="store_true", help="pretend the inbound session used TLS")
    test.add_argument("--policy-dir", metavar="DIR", help="policy directory to try (default: policy.dir of the config)")
    test.set_defaults(func=run_test)


def run_check(args: argparse.Namespace) -> int:
    from dlp_gateway.policy import PolicyError, load_policy

    settings = settings_from_args(args)
    directory = Path(args.dir) if args.dir else settings.policy_dir
    try:
        policy = load_policy(directory, settings.policy.internal_domains)
    except PolicyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s); the policy in {directory} cannot be used.", file=sys.stderr)
        return EXIT_FOUND
    print(f"{directory}: OK, {len(policy.rules)} rule(s) in {len(policy.files)} file(s), default action {policy.default.action}")
    for rule in policy.rules:
        print(f"  {rule.name:<28} {rule.action:<12} {rule.mode:<8} {rule.source}")
    for warning in policy.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


def _sender_from_headers(report: InspectionReport) -> str:
    import email.utils

    values = report.inspection.headers.get("from", [])
    return email.utils.parseaddr(values[0])[1] if values else ""


def describe_findings(report: InspectionReport) -> list[str]:
    lines = [f"Findings ({len(report.findings)}):"]
    for f in report.findings:
        level = f" level={f.level.label}" if f.level else (" level=declassified" if "declassified" in f.tags else "")
        system = f" system={f.system}" if f.system else ""
        extra = f" label={f.label} share={max(f.share_of_document or 0, f.share_of_part or 0):.0%}" if f.document_id else ""
        lines.append(f"  - {f.detector} {f.rule}{level}{system}{extra} at {f.location}: {f.evidence!r}")
    if report.problems:
        lines.append(f"Problems ({len(report.problems)}):")
        lines += [f"  - {p.kind.value} at {p.location}: {p.detail}" for p in report.problems]
    lines.append(f"Highest level: {report.level.label if report.level else 'none'}")
    return lines


def run_test(args: argparse.Namespace) -> int:
    from dlp_gateway.actions.smime import find_certificate
    from dlp_gateway.pipeline import WorkerContext, inspect_message
    from dlp_gateway.policy import PolicyError, load_policy

    settings = settings_from_args(args)
    try:
        raw = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"dlp-gateway: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    directory = Path(args.policy_dir) if args.policy_dir else settings.policy_dir
    try:
        policy = load_policy(directory, settings.policy.internal_domains)
    except PolicyError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return EXIT_FOUND
    report = inspect_message(raw, WorkerContext.from_settings(settings))
    sender = args.sender or _sender_from_headers(report)
    envelope = Envelope(sender, tuple(args.rcpt), tls=args.tls)
    out = [f"Message: {args.file} ({len(raw)} bytes), Message-ID {report.inspection.message_id or '(none)'}",
           f"Envelope: from <{sender}> to {', '.join(args.rcpt)}, inbound TLS {'yes' if args.tls else 'no'}",
           f"Policy: {directory} ({len(policy.rules)} rules)", ""]
    out += describe_findings(report)
    for rcpt in args.rcpt:
        evaluation = policy.evaluate(report, envelope, rcpt)
        out += ["", f"Recipient {rcpt}:"]
        for step in evaluation.steps:
            mark = "[x]" if step.matched else "[ ]"
            mode = " [monitor]" if step.rule.mode == "monitor" else ""
            out.append(f"  {mark} {step.rule.name}{mode} ({step.rule.source}): {step.why}")
        d = evaluation.decision
        if d.rule == "default":
            out.append(f"  [x] default ({policy.default.source}): no rule matched")
        out.append(f"  => action {d.action} by rule {d.rule} (mode {d.mode})")
        out.append(f"     reason: {d.reason}")
        if d.incident_level is not None:
            out.append(f"     incident level: {d.incident_level}")
        params = {k: v for k, v in d.params if k != "notify"}
        if params:
            out.append("     parameters: " + ", ".join(f"{k}={v!r}" for k, v in params.items()))
        if d.param("notify"):
            notify = dict(d.param("notify"))
            who = (["the sender"] if notify.get("sender") else []) + list(notify.get("to", ()))
            out.append(f"     notifies: {', '.join(who)}")
        if d.action == "encrypt":
            lookup = find_certificate(settings.certs_dir, rcpt)
            if lookup.certificate is not None:
                out.append(f"     certificate: {lookup.path} (valid until {lookup.certificate.not_valid_after_utc:%Y-%m-%d})")
            else:
                out.append(f"     certificate: {lookup.reason} -> fallback {d.param('fallback', 'quarantine')}")
        if d.mode == "monitor":
            out.append("     (monitor mode: the message would be delivered unchanged and the decision counted)")
    # Subject-derived ids, evidence, addresses and reasons come from the message.
    print("\n".join(printable(line) for line in out))
    return EXIT_OK
