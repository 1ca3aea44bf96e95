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
from dlp_gateway.termsafe import json_text, printable


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
    p.add_argument("--content", action="store_true",
                   help="also print the message itself (control characters shown as escapes)")
    p.add_argument("--raw", action="store_true",
                   help="with --content: write the exact bytes, to a file or pipe only (never a terminal)")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("release", parents=[common], help="deliver a held message to its recipients")
    p.add_argument("id")
    p.add_argument("--operator", help="who releases it (default: the login name)")
    p.add_argument("--retry-interrupted", action="store_true",
                   help="take over a release that was interrupted (its process died) and deliver again")
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
    records = store.list(status=None)
    if not args.all:  # held, and those an officer is releasing right now
        records = [r for r in records if r.status != "released"]
    with_reasons = [(r, record_reason(r)) for r in records]
    if args.reason:
        wanted = args.reason.casefold()
        with_reasons = [(r, reason) for r, reason in with_reasons if wanted in reason.casefold()]
    if args.json:
        for record, reason in with_reasons:
            print(json_text({**record.to_json(), "category": reason}))
        return EXIT_OK
    if not with_reasons:
        if args.reason:
            print(f"no messages held for a reason matching {args.reason!r}")
        else:
            print("no messages held" if not args.all else "the quarantine is empty")
        return EXIT_OK
    print(f"{'ID':<28} {'HELD SINCE':<21} {'LEVEL':<13} {'RULE':<20} {'REASON':<30} {'STATUS':<9} FROM -> TO")
    for r, reason in with_reasons:
        print(printable(f"{r.id:<28} {_when(r.created):<21} {r.level or '-':<13} {r.rule[:20]:<20} {reason[:30]:<30} "
                        f"{r.status:<9} {r.mail_from or '<>'} -> {', '.join(r.recipients)}"))
    return EXIT_OK


def _describe(record: QuarantineRecord) -> str:
    """The record for a person: every value from the message goes through `printable`."""
    p = printable
    lines = [
        f"id:          {p(record.id)}",
        f"status:      {p(record.status)}",
        f"held since:  {_when(record.created)}",
        f"gateway id:  {p(record.gateway_id)}",
        f"message-id:  {p(record.message_id or '-')}",
        f"subject:     {p(record.subject or '-')}",
        f"from:        <{p(record.mail_from)}>",
        f"to:          {', '.join(f'<{p(r)}>' for r in record.recipients)}",
        f"client:      {p(record.peer or '-')}",
        f"size:        {record.size} bytes",
        f"rule:        {p(record.rule)}",
        f"reason:      {p(record_reason(record))}",
        f"why:         {p(record.reason)}",
        f"level:       {p(record.level or '-')}",
    ]
    if record.status in ("released", "releasing"):
        lines.append(f"{record.status + ':':<13}{_when(record.released_at)} by {p(record.released_by)}"
                     + (f" ({p(record.release_result)})" if record.release_result else ""))
    lines.append(f"findings:    {len(record.findings)}")
    for f in record.findings:
        lines.append(p(f"  - {f.get('detector')}/{f.get('rule')} level={f.get('level')} at {f.get('location')}: "
                       f"{f.get('evidence')}"))
    if record.problems:
        lines.append(f"problems:    {len(record.problems)}")
        for pr in record.problems:
            lines.append(p(f"  - {pr.get('kind')} at {pr.get('location')}: {pr.get('detail')}"))
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
        out: dict[str, Any] = {**record.to_json(), "category": record_reason(record)}
        if content is not None:
            out["content"] = content.decode("utf-8", "replace")
        print(json_text(out, indent=2))
        return EXIT_OK
    if args.raw and content is not None and sys.stdout.isatty():
        print("dlp-gateway: --raw writes the message's exact bytes, which may hold terminal control "
              "sequences; redirect it to a file (> message.eml) or drop --raw", file=sys.stderr)
        return EXIT_USAGE
    print(_describe(record))
    if content is not None:
        print("\n--- message ---")
        sys.stdout.flush()
        if args.raw:
            sys.stdout.buffer.write(content)
            sys.stdout.buffer.flush()
        else:
            print(printable(content.decode("utf-8", "replace"), multiline=True))
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


def _not_claimed(store: QuarantineStore, qid: str) -> str:
    """Why a release could not claim the message (someone else released or is releasing it)."""
    record = store.get(qid)
    if record is None:
        return f"{qid} is no longer in the quarantine (deleted or expired)"
    who = printable(record.released_by or "?")
    if record.status == "released":
        return f"{qid} was already released {_when(record.released_at)} by {who}"
    if record.status == "releasing":
        return (f"{qid} is being released by {who} since {_when(record.released_at)}; if that release was "
                "interrupted (its process is gone), run `dlp-gateway quarantine release --retry-interrupted "
                f"{qid}`")
    return f"{qid} cannot be released from status {printable(record.status)}"


def cmd_release(args: argparse.Namespace) -> int:
    """Deliver a held message once, even if two officers release it at the same moment.

    The release first claims the message in the SQLite index (status held -> releasing in
    one write transaction); only the process whose claim changed the row delivers. A
    delivery that is refused or fails hands the message back (releasing -> held).
    """
    settings, store = _store(args)
    try:
        record = store.require(args.id)
    except QuarantineError as exc:
        print(f"dlp-gateway: {exc}", file=sys.stderr)
        return EXIT_USAGE
    operator = _operator(args)
    if not store.claim_release(record.id, operator, retry_interrupted=args.retry_interrupted):
        print(f"dlp-gateway: {_not_claimed(store, record.id)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        raw = store.content(record.id)
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
    except QuarantineError as exc:
        store.unclaim_release(record.id, str(exc))
        print(f"dlp-gateway: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BaseException as exc:
        store.unclaim_release(record.id, f"release failed: {type(exc).__name__}")
        raise
    summary = "; ".join(f"<{r.recipient}> {r.code} {' '.join(r.message.split())}" for r in result.results)
    # Record the outcome before anything else can fail, so a delivered message is never
    # left claimable again (which would mean a second delivery on --retry-interrupted).
    if result.all_accepted:
        store.mark_released(record.id, operator, summary)
    else:
        store.unclaim_release(record.id, summary)
    accepted = [r.recipient for r in result.results if 200 <= r.code < 300]
    if accepted:  # the trace index records releases like deliveries
        from dlp_gateway.model import Envelope
        from dlp_gateway.trace import record_raw_delivery

        record_raw_delivery(settings, raw, Envelope(record.mail_from, tuple(record.recipients),
                                                    gateway_id=record.gateway_id), accepted)
    if result.all_accepted:
        print(printable(f"released {record.id} by {operator}: {summary}"))
        return EXIT_OK
    print(printable(f"dlp-gateway: {record.id} not released, it stays held: {summary}"), file=sys.stderr)
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
