"""`dlp-gateway quarantine`: list, show, release, delete and expire held messages.

`show` prints envelope, rule, reason and findings; the content only with `--content`,
because an officer's terminal is not the place for a secret document by accident.
`release` delivers the original bytes to the next hop (or the Maildir) for the held
recipients and records time and operator; a refusal by the next hop leaves the message
held and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import getpass
import json
import os
import socket
import sys
import time
from typing import Any

from dlp_gateway.cli import EXIT_FOUND, EXIT_OK, EXIT_USAGE, settings_from_args
from dlp_gateway.config import Settings
from dlp_gateway.policy.reasons import categorise
from dlp_gateway.smtp.delivery import OutboundMessage, header_line
from dlp_gateway.store.quarantine import QuarantineError, QuarantineRecord, QuarantineStore


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("quarantine", parents=[common], help="review held messages",
                                   description="Review, release and delete quarantined messages.")
    sub = parser.add_subparsers(dest="quarantine_command", metavar="ACTION")
    sub.required = True

    p = sub.add_parser("list", parents=[common], help="list held messages")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--all", action="store_true", help="include released messages")
    p.add_argument("--reason", metavar="TEXT",
                   help="only messages whose reason category contains TEXT, e.g. 'encrypted', 'marking', 'max_depth'")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", parents=[common], help="show one message's envelope, reason and findings")
    p.add_argument("id")
    p.add_argument("--json", action="store_true", help="as one JSON object")
    p.add_argument("--content", action="store_true", help="also print the message itself")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("release", parents=[common], help="deliver a held message to its recipients")
    p.add_argument("id")
    p.add_argument("--operator", help="who releases it (default: the login name)")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("delete", parents=[common], help="delete a held message for good")
    p.add_argument("id")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("expire", parents=[common], help="delete messages older than store.quarantine_days")
    p.add_argument("--days", type=int, help="override store.quarantine_days")
    p.set_defaults(func=cmd_expire)


def _store(args: argparse.Namespace) -> tuple[Settings, QuarantineStore]:
    settings = settings_from_args(args)
    return settings, QuarantineStore(settings.data_path)


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) + "Z" if ts else "-"


def record_reason(record: QuarantineRecord) -> str:
    """The hold's category (policy/reasons.py), from what the index row keeps: rule,
    explanation, findings and problems. Derived, not stored, so rows written before
    categories existed get one too."""
    return categorise(record.rule, record.reason, record.findings, record.problems)


def cmd_list(args: argparse.Namespace) -> int:
    _, store = _store(args)
    records = [(r, record_reason(r)) for r in store.list(status=None if args.all else "held")]
    if args.reason:
        wanted = args.reason.casefold()
        records = [(r, reason) for r, reason in records if wanted in reason.casefold()]
    if args.json:
        for record, reason in records:
            print(json.dumps({**record.to_json(), "category": reason}, ensure_ascii=False))
        return EXIT_OK
    if not records:
        if args.reason:
            print(f"no messages held for a reason matching {args.reason!r}")
        else:
            print("no messages held" if not args.all else "the quarantine is empty")
        return EXIT_OK
    print(f"{'ID':<28} {'HELD SINCE':<21} {'LEVEL':<13} {'RULE':<20} {'REASON':<30} {'STATUS':<9} FROM -> TO")
    for r, reason in records:
        print(f"{r.id:<28} {_when(r.created):<21} {r.level or '-':<13} {r.rule[:20]:<20} {reason[:30]:<30} {r.status:<9} "
              f"{r.mail_from or '<>'} -> {', '.join(r.recipients)}")
    return EXIT_OK


def _describe(record: QuarantineRecord) -> str:
    lines = [
        f"id:          {record.id}",
        f"status:      {record.status}",
        f"held since:  {_when(record.created)}",
        f"gateway id:  {record.gateway_id}",
        f"message-id:  {record.message_id or '-'}",
        f"subject:     {record.subject or '-'}",
        f"from:        <{record.mail_from}>",
        f"to:          {', '.join(f'<{r}>' for r in record.recipients)}",
        f"client:      {record.peer or '-'}",
        f"size:        {record.size} bytes",
        f"rule:        {record.rule}",
        f"reason:      {record.reason}",
        f"level:       {record.level or '-'}",
    ]
    if record.status == "released":
        lines.append(f"released:    {_when(record.released_at)} by {record.released_by} ({record.release_result})")
    lines.append(f"findings:    {len(record.findings)}")
    for f in record.findings:
        lines.append(f"  - {f.get('detector')}/{f.get('rule')} level={f.get('level')} at {f.get('location')}: {f.get('evidence')}")
    if record.problems:
        lines.append(f"problems:    {len(record.problems)}")
        for p in record.problems:
            lines.append(f"  - {p.get('kind')} at {p.get('location')}: {p.get('detail')}")
    return "\n".join(lines)


def cmd_show(args: argparse.Namespace) -> int:
    _, store = _store(args)
    try:
        record = store.require(args.id)
        content = store.content(args.id) if args.content else None
    except QuarantineError as exc:
        print(f"dlp-gateway: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        out: dict[str, Any] = record.to_json()
        if content is not None:
            out["content"] = content.decode("utf-8", "replace")
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(_describe(record))
    if content is not None:
        print("\n--- message ---")
        sys.stdout.flush()
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
    return EXIT_OK


def _operator(args: argparse.Namespace) -> str:
    if args.operator:
        return args.operator
    for name in ("SUDO_USER", "USER", "LOGNAME"):
        if os.environ.get(name):
            return os.environ[name]
    try:
        return getpass.getuser()
    except Exception:
        return f"uid{os.getuid()}"


async def _deliver(settings: Settings, message: OutboundMessage) -> Any:
    from dlp_gateway.gateway import build_delivery

    delivery = build_delivery(settings, settings.smtp.hostname or socket.getfqdn())
    try:
        return await delivery.deliver(message)
    finally:
        await delivery.close()


def cmd_release(args: argparse.Namespace) -> int:
    settings, store = _store(args)
    try:
        record = store.require(args.id)
        raw = store.content(args.id)
    except QuarantineError as exc:
        print(f"dlp-gateway: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if record.status == "released":
        print(f"dlp-gateway: {record.id} was already released {_when(record.released_at)} by {record.released_by}",
              file=sys.stderr)
        return EXIT_USAGE
    operator = _operator(args)
    date = email.utils.formatdate(localtime=False)
    data = header_line("X-DLP-Released", f"{record.id} by {operator}; {date}") + raw
    message = OutboundMessage(
        mail_from=record.mail_from,
        recipients=tuple(record.recipients),
        data=data,
        mail_options=tuple(record.mail_options),
        rcpt_options=tuple(tuple(o) for o in record.rcpt_options),
    )
    result = asyncio.run(_deliver(settings, message))
    accepted = [r.recipient for r in result.results if 200 <= r.code < 300]
    if accepted:  # the trace index records releases like deliveries
        from dlp_gateway.model import Envelope
        from dlp_gateway.trace import record_raw_delivery

        record_raw_delivery(settings, raw, Envelope(record.mail_from, tuple(record.recipients),
                                                    gateway_id=record.gateway_id), accepted)
    summary = "; ".join(f"<{r.recipient}> {r.code} {' '.join(r.message.split())}" for r in result.results)
    if result.all_accepted:
        store.mark_released(record.id, operator, summary)
        print(f"released {record.id} by {operator}: {summary}")
        return EXIT_OK
    print(f"dlp-gateway: {record.id} not released, it stays held: {summary}", file=sys.stderr)
    return EXIT_FOUND


def cmd_delete(args: argparse.Namespace) -> int:
    _, store = _store(args)
    try:
        store.delete(args.id)
    except QuarantineError as exc:
        print(f"dlp-gateway: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"deleted {args.id}")
    return EXIT_OK


def cmd_expire(args: argparse.Namespace) -> int:
    settings, store = _store(args)
    days = args.days or settings.store.quarantine_days
    expired = store.expire(days)
    print(f"expired {len(expired)} message(s) older than {days} day(s)")
    return EXIT_OK
