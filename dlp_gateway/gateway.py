"""One message through the gateway: inspect → decide → act → one SMTP reply.

`Gateway.handle(envelope, raw)` is the whole life of a message after DATA. It enforces
the never-lose rule of DESIGN.md in one place:

- 250 only when every recipient's outcome is 2xx, i.e. the next hop said 250 or the
  message is fsync'ed into the quarantine (the actions only report 2xx then);
- 4xx on overload, inspection failure or timeout, policy failure, any internal error,
  and whenever any recipient had a temporary failure (the client retries the whole
  message; recipients that already got it may see a duplicate, which is logged);
- the next hop's (or the policy's) 5xx when every recipient was refused permanently;
- 250 plus a bounce (DSN) to the sender when some recipients were accepted and the
  others refused permanently, because one DATA reply cannot say both.

Every message gets one decision-log line and its metrics, whatever happened.
`Services` is what actions reach through `MessageContext.services`. Its `on_delivered`
callbacks are the single place where "this message was handed to these recipients" is
known (e.g. for the trace index).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import inspect
import logging
import re
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from dlp_gateway import metrics
from dlp_gateway.actions import carry_out
from dlp_gateway.actions.base import MessageContext
from dlp_gateway.audit import DecisionLog
from dlp_gateway.config import Settings
from dlp_gateway.inspector import InspectionError, InspectionTimeout
from dlp_gateway.model import (
    Action,
    Decision,
    Envelope,
    Inspection,
    InspectionReport,
    Outcome,
    Problem,
    ProblemKind,
)
from dlp_gateway.policy import load_policy_from_settings
from dlp_gateway.policy.reasons import hold_reason
from dlp_gateway.policy.reload import PolicyHolder
from dlp_gateway.smtp.delivery import DeliveryPool, OutboundMessage
from dlp_gateway.smtp.maildir import Maildir
from dlp_gateway.store.quarantine import QuarantineStore, count_held

log = logging.getLogger(__name__)

DeliveredHook = Callable[[MessageContext, tuple[str, ...], Outcome], Awaitable[None] | None]

# When outcomes for one message differ, the message-level action (metric, log) is the
# most notable one.
_ACTION_WEIGHT = {Action.QUARANTINE: 4, Action.REJECT: 3, Action.ENCRYPT: 2, Action.DELIVER: 1, Action.TEMPFAIL: 0}


@dataclass(slots=True)
class Reply:
    """The one SMTP reply to the end of DATA."""

    code: int
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.text}"


@dataclass(slots=True)
class Services:
    """What actions can use: settings, delivery, quarantine, hostname, hooks."""

    settings: Settings
    delivery: Any  # DeliveryPool or Maildir: `await deliver(OutboundMessage) -> DeliveryResult`
    quarantine: QuarantineStore
    hostname: str
    decision_log: DecisionLog | None = None
    on_delivered: list[DeliveredHook] = field(default_factory=list)
    metrics: Any = metrics


def build_delivery(settings: Settings, hostname: str) -> DeliveryPool | Maildir:
    """The next hop of the settings, or the Maildir under the data dir when there is none."""
    if settings.delivery.upstream:
        return DeliveryPool(settings.delivery, hostname)
    return Maildir(settings.data_path / "maildir")


def _one_line(text: str) -> str:
    return " ".join(text.split())


# What a reply must not show a client: control characters (a reply is one line of
# printable text), exception detail ("...: [Errno 28] No space left...",
# "...: PermissionError ...") and file paths; the log keeps the full text.
_REPLY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_REPLY_EXCEPTION = re.compile(r":?\s*(?:\[Errno \d+\]|Traceback\b|[A-Z]\w*(?:Error|Exception)\b[:(]).*$")
_REPLY_PATH = re.compile(r"(?<![\w.@:/-])(?:[A-Za-z]:)?(?:[/\\][\w.~+-]+){2,}[/\\]?")


def public_reply_text(text: str) -> str:
    """`text` fit for an SMTP reply: one line, no control characters, no exception
    detail, no internal paths (see the patterns above)."""
    text = _one_line(_REPLY_CONTROL.sub(" ", text))
    text = _REPLY_EXCEPTION.sub("", text)
    text = _REPLY_PATH.sub("[path]", text)
    return text.strip(" :") or "no detail"


class Gateway:
    """The running gateway's message handling; the SMTP server calls `handle`."""

    def __init__(
        self,
        settings: Settings,
        *,
        inspector: Any | None = None,
        policy: Any | None = None,
        delivery: Any | None = None,
        decision_log: DecisionLog | None = None,
    ) -> None:
        self.settings = settings
        self.hostname = settings.smtp.hostname or socket.getfqdn()
        self.inspector = inspector
        self.policy = policy
        self.services = Services(
            settings=settings,
            delivery=delivery or build_delivery(settings, self.hostname),
            quarantine=QuarantineStore(settings.data_path),
            hostname=self.hostname,
            decision_log=decision_log if decision_log is not None else DecisionLog(settings.log.decision_log),
        )
        from dlp_gateway.trace import TraceWriter

        self.trace_writer = TraceWriter(settings)
        self.services.on_delivered.append(self.trace_writer.on_delivered)  # the trace index (trace.py)
        self.inflight_messages = 0
        self.inflight_bytes = 0
        self._background: set[asyncio.Task[Any]] = set()
        self._hook_tasks: set[asyncio.Task[Any]] = set()  # on_delivered hooks still running
        self._holder: PolicyHolder | None = None  # when the policy is ours to load (not injected)

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Load the policy, start the inspection workers, start housekeeping."""
        if self.policy is None:
            self._holder = PolicyHolder.from_settings(self.settings)
            self.policy = self._holder.current
            if self.settings.policy.watch:
                self._spawn(self._holder.watch())
        if self.inspector is None:
            from dlp_gateway.inspector import Inspector

            self.inspector = Inspector(self.settings)
        await self.inspector.start()
        data_dir = self.settings.data_path
        metrics.watch_quarantine(lambda: count_held(data_dir))
        self._spawn(self._housekeeping())

    async def close(self) -> None:
        if self._hook_tasks:
            await asyncio.wait(list(self._hook_tasks), timeout=10)
        await asyncio.to_thread(self.trace_writer.close)
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self.inspector is not None:
            with contextlib.suppress(Exception):
                await self.inspector.close()
        with contextlib.suppress(Exception):
            await self.services.delivery.close()
        self.services.quarantine.close()
        if self.services.decision_log is not None:
            self.services.decision_log.close()

    async def reload(self) -> bool:
        """SIGHUP: reload the policy and the inspector's rules; keep the old ones on error."""
        ok = True
        if self._holder is not None:
            # The holder keeps the running policy on error and counts dlp_policy_reloads_total.
            ok = await asyncio.to_thread(self._holder.reload)
        else:
            try:
                self.policy = await asyncio.to_thread(load_policy_from_settings, self.settings)
                metrics.POLICY_RELOADS.labels(result="success").inc()
            except Exception as exc:
                ok = False
                metrics.POLICY_RELOADS.labels(result="error").inc()
                log.error("policy reload failed, keeping the running policy: %s", exc)
        if self.inspector is not None:
            try:
                await self.inspector.reload()
            except Exception as exc:
                ok = False
                metrics.POLICY_RELOADS.labels(result="error").inc()
                log.error("rule reload failed, keeping the running rules: %s", exc)
        if self.services.decision_log is not None:
            self.services.decision_log.reopen()
        log.info("reload %s", "done" if ok else "failed (see above)")
        return ok

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _housekeeping(self) -> None:
        """Expire old quarantined messages hourly; close idle pooled connections."""
        last_expiry = 0.0
        while True:
            await asyncio.sleep(5)
            close_idle = getattr(self.services.delivery, "close_idle", None)
            if close_idle is not None:
                with contextlib.suppress(Exception):
                    await close_idle()
            if time.monotonic() - last_expiry > 3600:
                last_expiry = time.monotonic()
                try:
                    expired = await asyncio.to_thread(
                        self.services.quarantine.expire, self.settings.store.quarantine_days
                    )
                except Exception:
                    log.exception("quarantine expiry failed")
                else:
                    if expired:
                        log.info("expired %d quarantined messages", len(expired))

    # ------------------------------------------------------------ one message

    def admit(self, size: int) -> Reply | None:
        """Back-pressure: a 451 right away when too many messages or bytes are in flight."""
        workers = self.settings.workers
        if self.inflight_messages >= workers.max_inflight_messages:
            metrics.SMTP_REFUSED.labels(reason="overload_messages").inc()
            return Reply(451, f"4.3.2 too many messages in progress ({self.inflight_messages}); try again later")
        if self.inflight_messages and self.inflight_bytes + size > workers.max_inflight_bytes:
            metrics.SMTP_REFUSED.labels(reason="overload_bytes").inc()
            return Reply(451, "4.3.2 too much mail in progress; try again later")
        return None

    async def handle(self, envelope: Envelope, raw: bytes) -> Reply:
        """Inspect, decide, act, and answer. Never raises: errors become 4xx."""
        busy = self.admit(len(raw))
        if busy is not None:
            self._log_decision(envelope, raw, None, [], [], busy, {}, error="overload")
            return busy
        self.inflight_messages += 1
        self.inflight_bytes += len(raw)
        metrics.INFLIGHT_MESSAGES.set(self.inflight_messages)
        metrics.INFLIGHT_BYTES.set(self.inflight_bytes)
        metrics.MESSAGE_BYTES.observe(len(raw))
        try:
            return await self._handle(envelope, raw)
        finally:
            self.inflight_messages -= 1
            self.inflight_bytes -= len(raw)
            metrics.INFLIGHT_MESSAGES.set(self.inflight_messages)
            metrics.INFLIGHT_BYTES.set(self.inflight_bytes)

    async def _handle(self, envelope: Envelope, raw: bytes) -> Reply:
        seconds: dict[str, float] = {}
        started = time.perf_counter()
        report: InspectionReport | None = None
        decisions: list[Decision] = []
        outcomes: list[Outcome] = []
        try:
            try:
                report = await self.inspector.inspect(raw)
            except InspectionError as exc:
                metrics.INSPECTION_ERRORS.inc()
                why = (str(exc).splitlines() or [type(exc).__name__])[0]
                if isinstance(exc, InspectionTimeout) and self.settings.workers.overrun_action == "policy":
                    log.warning("%s: inspection overran, deciding by policy: %s", envelope.gateway_id, why)
                    report = overrun_report(raw, why)
                else:
                    log.warning("%s: inspection failed, answering 451: %s", envelope.gateway_id, why)
                    reply = Reply(451, "4.3.0 the message could not be inspected now; try again later")
                    self._log_decision(envelope, raw, None, [], [], reply, seconds, error=why)
                    return reply
            seconds["inspect"] = time.perf_counter() - started
            seconds.update({k: round(v, 6) for k, v in report.timings.items()})
            self._count_report(report, seconds["inspect"])

            mark = time.perf_counter()
            policy = self._holder.current if self._holder is not None else self.policy
            decisions = self._complete(policy.decide(report, envelope), envelope)
            seconds["policy"] = time.perf_counter() - mark

            ctx = MessageContext(envelope=envelope, raw=raw, report=report, settings=self.settings, services=self.services)
            mark = time.perf_counter()
            outcomes = await carry_out(ctx, [_enforced(d) for d in decisions])
            seconds["actions"] = time.perf_counter() - mark

            reply, refused = self._combine(envelope, outcomes)
            if refused:
                await self._bounce(ctx, refused)
            if self.services.on_delivered and any(200 <= o.code < 300 for o in outcomes):
                self._notify_delivered(ctx, outcomes)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("%s: internal error, answering 451", envelope.gateway_id)
            reply = Reply(451, "4.3.0 internal error in the gateway; try again later")
            seconds["total"] = time.perf_counter() - started
            self._log_decision(envelope, raw, report, decisions, outcomes, reply, seconds, error=repr(exc))
            return reply
        seconds["total"] = time.perf_counter() - started
        self._log_decision(envelope, raw, report, decisions, outcomes, reply, seconds)
        return reply

    def _complete(self, decisions: list[Decision], envelope: Envelope) -> list[Decision]:
        """Exactly one decision per envelope recipient; a forgotten recipient is a tempfail."""
        by_rcpt: dict[str, Decision] = {}
        for decision in decisions:
            by_rcpt.setdefault(decision.recipient, decision)
        complete = []
        for rcpt in envelope.rcpt_tos:
            decision = by_rcpt.get(rcpt)
            if decision is None:
                log.error("%s: the policy gave no decision for %s; answering 451", envelope.gateway_id, rcpt)
                decision = Decision(rcpt, "tempfail", "(none)", "the policy gave no decision for this recipient")
            complete.append(decision)
        return complete

    def _count_report(self, report: InspectionReport, inspect_seconds: float) -> None:
        metrics.INSPECTION_SECONDS.observe(inspect_seconds)
        for finding in report.findings:
            metrics.FINDINGS.labels(detector=finding.detector, level=finding.level.label if finding.level else "none").inc()
        for problem in report.problems:
            metrics.EXTRACTION_PROBLEMS.labels(kind=problem.kind.value).inc()

    def _combine(self, envelope: Envelope, outcomes: list[Outcome]) -> tuple[Reply, list[Outcome]]:
        """The one reply for the message, and the permanently refused outcomes to bounce."""
        covered = {r for o in outcomes for r in o.recipients}
        missing = [r for r in envelope.rcpt_tos if r not in covered]
        ok = [o for o in outcomes if 200 <= o.code < 300]
        perm = [o for o in outcomes if 500 <= o.code < 600]
        temp = [o for o in outcomes if not (200 <= o.code < 300 or 500 <= o.code < 600)]
        if missing:
            log.error("%s: no outcome for %s; answering 451", envelope.gateway_id, ", ".join(missing))
            return Reply(451, "4.3.0 internal error in the gateway; try again later"), []
        if temp:
            first = temp[0]
            if ok:
                log.warning(
                    "%s: temporary failure for %s after %s already succeeded; answering %s (the retry may duplicate)",
                    envelope.gateway_id,
                    ", ".join(first.recipients),
                    ", ".join(r for o in ok for r in o.recipients),
                    first.code,
                )
            code = first.code if 400 <= first.code < 500 else 451
            return Reply(code, _with_status(first.message, "4.0.0")), []
        if perm and not ok:
            first = perm[0]
            return Reply(first.code, _with_status(first.message, "5.0.0")), []
        summary = ", ".join(sorted({o.message.split(" ", 1)[-1] if o.quarantine_id else o.action.value for o in ok}))
        return Reply(250, f"2.0.0 Ok: {envelope.gateway_id} ({summary})"), perm

    async def _bounce(self, ctx: MessageContext, refused: list[Outcome]) -> None:
        """Tell the sender which recipients were refused (the others got the message)."""
        env = ctx.envelope
        if not env.mail_from:
            log.info("%s: not bouncing a message with the null sender", env.gateway_id)
            return
        data = build_dsn(self.hostname, env, ctx.raw, refused)
        message = OutboundMessage(mail_from="", recipients=(env.mail_from,), data=data)
        try:
            result = await self.services.delivery.deliver(message)
        except Exception:
            log.exception("%s: cannot send the bounce to %s", env.gateway_id, env.mail_from)
            metrics.DSN_SENT.labels(result="error").inc()
            return
        if result.all_accepted:
            metrics.DSN_SENT.labels(result="sent").inc()
        else:
            metrics.DSN_SENT.labels(result="error").inc()
            log.error("%s: the bounce to %s was not accepted: %s", env.gateway_id, env.mail_from, result.results)

    def _notify_delivered(self, ctx: MessageContext, outcomes: list[Outcome]) -> None:
        """Run the on_delivered hooks for every group the next hop accepted.

        A hook must not delay or change the reply: a plain function is expected to
        return at once (the trace writer only queues); a coroutine runs as a task of
        its own, awaited only at shutdown."""
        for outcome in outcomes:
            if not (200 <= outcome.code < 300) or outcome.action == Action.QUARANTINE:
                continue
            for hook in self.services.on_delivered:
                try:
                    result = hook(ctx, outcome.recipients, outcome)
                except Exception:
                    log.exception("%s: on_delivered hook %r failed", ctx.envelope.gateway_id, hook)
                    continue
                if inspect.isawaitable(result):
                    task = asyncio.get_running_loop().create_task(self._await_hook(ctx, hook, result))
                    self._hook_tasks.add(task)
                    task.add_done_callback(self._hook_tasks.discard)

    @staticmethod
    async def _await_hook(ctx: MessageContext, hook: object, result: Any) -> None:
        try:
            await result
        except Exception:
            log.exception("%s: on_delivered hook %r failed", ctx.envelope.gateway_id, hook)

    # ------------------------------------------------------------ the decision log

    def _log_decision(
        self,
        envelope: Envelope,
        raw: bytes,
        report: InspectionReport | None,
        decisions: list[Decision],
        outcomes: list[Outcome],
        reply: Reply,
        seconds: dict[str, float],
        error: str | None = None,
    ) -> None:
        if 200 <= reply.code < 300:
            action = max((o.action for o in outcomes if 200 <= o.code < 300 or o.code >= 500),
                         key=lambda a: _ACTION_WEIGHT.get(a, 1), default=Action.DELIVER)
        elif reply.code >= 500:
            action = Action.REJECT
        else:
            action = Action.TEMPFAIL
        metrics.MESSAGES.labels(action=action.value).inc()
        hold = hold_reason(action.value, decisions, outcomes, report)
        if hold is not None:
            metrics.HOLDS.labels(reason=hold).inc()
        monitored = [d for d in decisions if d.mode == "monitor" and d.action != "deliver"]
        for decision in monitored:
            metrics.MONITOR_DECISIONS.labels(action=decision.action).inc()
        rules = sorted({o.rule for o in outcomes if o.rule and o.action == action} or {d.rule for d in decisions if d.mode != "monitor"})
        record: dict[str, Any] = {
            "id": envelope.gateway_id,
            "message_id": report.inspection.message_id if report else _header_message_id(raw),
            "sender": envelope.mail_from,
            "recipients": list(envelope.rcpt_tos),
            "peer": envelope.peer,
            "tls": envelope.tls,
            "size": len(raw),
            "action": action.value,
            "rule": rules[0] if len(rules) == 1 else (rules or None),
            "reason": hold,  # the hold's category (policy/reasons.py); null when not held
            "reply": str(reply),
            "level": report.level.label if report and report.level else None,
            # what a leak would have been under the incident rules (markings.md), for the security officer
            "incident_level": max((d.incident_level for d in decisions if d.incident_level is not None), default=None),
            "findings": _findings_summary(report),
            "problems": [{"kind": p.kind.value, "location": p.location, "detail": p.detail} for p in report.problems] if report else [],
            # defects read through (untidy MIME, a rebuilt PDF): never a hold, but on the record
            "notes": [{"location": n.location, "detail": n.detail} for n in report.inspection.notes] if report else [],
            "outcomes": [
                {
                    "recipients": list(o.recipients),
                    "action": o.action.value,
                    "code": o.code,
                    "rule": o.rule,
                    **({"quarantine_id": o.quarantine_id} if o.quarantine_id else {}),
                    **({"detail": o.detail} if o.detail else {}),
                }
                for o in outcomes
            ],
            "seconds": {k: round(v, 6) for k, v in seconds.items()},
        }
        if monitored:
            record["monitor"] = [
                {"recipient": d.recipient, "would": d.action, "rule": d.rule, "reason": d.reason} for d in monitored
            ]
        if error:
            record["error"] = error
        log.info("%s from=<%s> to=%s size=%d action=%s reply=%s", envelope.gateway_id, envelope.mail_from,
                 ",".join(envelope.rcpt_tos), len(raw), action.value, reply)
        if self.services.decision_log is not None:
            try:
                self.services.decision_log.write(record)
            except Exception:
                log.exception("cannot write the decision log")


def _enforced(decision: Decision) -> Decision:
    """Monitor-mode decisions are recorded but the message is delivered unchanged."""
    if decision.mode == "monitor" and decision.action != "deliver":
        return Decision(decision.recipient, "deliver", decision.rule, f"monitor: would {decision.action}: {decision.reason}", mode="monitor")
    return decision


def _with_status(text: str, default: str) -> str:
    cleaned = public_reply_text(text)
    if cleaned != _one_line(text):
        log.info("reply text shortened for the client; full text: %s", _one_line(_REPLY_CONTROL.sub(" ", text)))
    text = cleaned
    head = text.split(" ", 1)[0]
    parts = head.split(".")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return text
    return f"{default} {text}"


def _findings_summary(report: InspectionReport | None, limit: int = 50) -> dict[str, Any]:
    if report is None:
        return {"count": 0, "by_detector": {}, "items": []}
    by_detector: dict[str, int] = {}
    for finding in report.findings:
        by_detector[finding.detector] = by_detector.get(finding.detector, 0) + 1
    items = [
        {"detector": f.detector, "rule": f.rule, "level": f.level.label if f.level else None, "location": f.location}
        for f in report.findings[:limit]
    ]
    return {"count": len(report.findings), "by_detector": by_detector, "items": items}


def _header_message_id(raw: bytes) -> str:
    """Message-ID from the header block without parsing the message (for failed inspections)."""
    head = raw.split(b"\r\n\r\n", 1)[0][:65536]
    for line in head.split(b"\r\n"):
        if line[:11].lower() == b"message-id:":
            return line[11:].strip().decode("utf-8", "replace")
    return ""


def build_dsn(hostname: str, envelope: Envelope, raw: bytes, refused: list[Outcome]) -> bytes:
    """A multipart/report delivery status notification (RFC 3464) for refused recipients."""
    boundary = f"dsn-{envelope.gateway_id}"
    date = email.utils.formatdate(localtime=False)
    lines = [
        f"From: Mail Delivery System <MAILER-DAEMON@{hostname}>",
        f"To: <{envelope.mail_from}>",
        "Subject: Undelivered Mail Returned to Sender",
        f"Date: {date}",
        f"Message-ID: <{envelope.gateway_id}.dsn@{hostname}>",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
        "",
        f"--{boundary}",
        "Content-Type: text/plain; charset=utf-8",
        "",
        f"This is the mail gateway at {hostname}.",
        "",
        "Your message could not be delivered to some recipients; the others received it.",
        "",
    ]
    for outcome in refused:
        for rcpt in outcome.recipients:
            lines.append(f"<{rcpt}>: {outcome.code} {_one_line(outcome.message)}")
    lines += ["", f"--{boundary}", "Content-Type: message/delivery-status", "", f"Reporting-MTA: dns; {hostname}",
              f"X-DLP-Gateway-Id: {envelope.gateway_id}", f"Arrival-Date: {email.utils.formatdate(envelope.received_at)}"]
    for outcome in refused:
        status = outcome.message.split(" ", 1)[0]
        if not (len(status.split(".")) == 3 and status[0] in "245"):
            status = "5.0.0"
        for rcpt in outcome.recipients:
            lines += ["", f"Final-Recipient: rfc822; {rcpt}", "Action: failed", f"Status: {status}",
                      f"Diagnostic-Code: smtp; {outcome.code} {_one_line(outcome.message)}"]
    lines += ["", f"--{boundary}", "Content-Type: text/rfc822-headers", "", ""]
    head = raw.split(b"\r\n\r\n", 1)[0]
    text = "\r\n".join(lines).encode("utf-8") + head + f"\r\n\r\n--{boundary}--\r\n".encode()
    return text


def overrun_report(raw: bytes, why: str) -> InspectionReport:
    """What is known of a message whose inspection overran and whose worker was killed: its
    headers, and one `timeout` problem, so that the policy decides (workers.overrun_action)."""
    import email.parser
    import email.policy

    head = raw[: 64 * 1024].split(b"\r\n\r\n", 1)[0]
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)
    inspection = Inspection(problems=[Problem(
        ProblemKind.TIMEOUT, "(message)", f"inspection overran its deadline and was stopped: {why}", "max_seconds")])
    inspection.subject = str(headers.get("Subject", "") or "")
    inspection.message_id = str(headers.get("Message-ID", "") or "")
    return InspectionReport(inspection=inspection, findings=[], size=len(raw))
