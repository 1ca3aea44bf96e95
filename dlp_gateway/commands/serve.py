"""`dlp-gateway serve`: run the relay until SIGTERM.

SIGTERM (or SIGINT): stop accepting, give messages in flight `workers.shutdown_grace_seconds`
to finish, hang up on the rest (they got no 250, so their clients retry), exit 0.
SIGHUP: reload the policy and the rules (keeping the running ones if the new ones do
not load) and reopen the decision log.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Callable

from dlp_gateway.cli import EXIT_OK, EXIT_USAGE, settings_from_args
from dlp_gateway.config import ConfigError, Settings, parse_hostport
from dlp_gateway.termsafe import printable

log = logging.getLogger("dlp_gateway.serve")


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "serve",
        parents=[common],
        help="run the SMTP relay",
        description="Run the SMTP relay: receive, inspect, decide, deliver or hold. "
        "Without --upstream (and none in the config) mail is delivered into <data-dir>/maildir.",
    )
    parser.add_argument("--listen", metavar="HOST:PORT", help="address to accept mail on (default 127.0.0.1:10025)")
    parser.add_argument("--upstream", metavar="HOST:PORT", help="next hop to deliver to (default: none, Maildir)")
    parser.add_argument("--metrics", metavar="HOST:PORT", help="serve Prometheus /metrics here (default: off)")
    parser.set_defaults(func=run)


class PrintableFormatter(logging.Formatter):
    """Log lines with control characters escaped (dlp_gateway.termsafe).

    Addresses, Subjects and next-hop replies end up in log messages; the message itself is
    kept to one line (a CR/LF in it would forge a log line), a traceback keeps its lines.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        record.message = printable(record.message)
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), multiline=True)


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(PrintableFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler])
    # aiosmtpd logs every command at INFO; our own lines say what matters.
    logging.getLogger("mail.log").setLevel(logging.WARNING)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(
        args,
        **{"smtp.listen": args.listen, "delivery.upstream": args.upstream, "metrics": args.metrics},
    )
    setup_logging(settings.log.level)
    try:
        with asyncio.Runner(loop_factory=event_loop_factory(settings.smtp.event_loop)) as runner:
            return runner.run(serve(settings))
    except ConfigError as exc:
        print(f"dlp-gateway: {exc}", file=sys.stderr)
        return EXIT_USAGE


def event_loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop (the default) or asyncio's own (None: the Runner's default)."""
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return None


async def serve(settings: Settings) -> int:
    from dlp_gateway import metrics
    from dlp_gateway.gateway import Gateway
    from dlp_gateway.inspector import InspectionError
    from dlp_gateway.policy import PolicyError
    from dlp_gateway.smtp.server import InboundServer

    try:
        listen = parse_hostport(settings.smtp.listen)
        metrics_at = parse_hostport(settings.metrics) if settings.metrics else None
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    try:
        gateway = Gateway(settings)
    except OSError as exc:
        raise ConfigError(f"cannot use the data dir {settings.data_dir}: {exc}") from exc

    # Signals are ours from here on: a SIGHUP or SIGTERM during start-up must not hit the
    # default action (which ends the process); a reload asked for then runs once started.
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    reloads: set[asyncio.Task[bool]] = set()
    started = False
    reload_asked = False

    def on_hup() -> None:
        nonlocal reload_asked
        if not started:
            log.info("SIGHUP during start-up: reloading once started")
            reload_asked = True
            return
        log.info("SIGHUP: reloading policy and rules")
        task = loop.create_task(gateway.reload())
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGHUP, on_hup)

    try:
        inbound = InboundServer(settings, gateway)  # checks TLS files and networks first
        await gateway.start()
    except ConfigError:
        await gateway.close()
        raise
    except PolicyError as exc:
        await gateway.close()
        raise ConfigError(f"the policy cannot be loaded: {exc}") from exc
    except InspectionError as exc:
        await gateway.close()
        raise ConfigError(f"the inspection workers cannot start: {exc}") from exc
    # What start-up built (modules, settings, policy, rules) lives as long as the process:
    # set it aside from the collector, so that a full collection during mail flow walks
    # only the objects of messages in progress (measured: 30 ms for a full collection
    # at start, a pause every message in flight would wait out).
    gc.collect()
    gc.freeze()
    try:
        host, port = await inbound.start()
    except OSError as exc:
        await gateway.close()
        raise ConfigError(f"cannot listen on {listen[0]}:{listen[1]}: {exc.strerror or exc}") from exc
    if metrics_at is not None:
        try:
            _server, mport = metrics.serve_metrics(*metrics_at)
        except OSError as exc:
            await gateway.close()
            raise ConfigError(f"cannot serve metrics on {settings.metrics}: {exc.strerror or exc}") from exc
        log.info("metrics on http://%s:%d/metrics", metrics_at[0], mport)
    log.info("delivering to %s", gateway.services.delivery.description)
    log.info("SMTP listening on %s:%d", host, port)
    started = True
    if reload_asked:
        on_hup()
    await stop.wait()

    grace = settings.workers.shutdown_grace_seconds
    log.info("stopping: no new connections; %d message(s) in flight get up to %gs", gateway.inflight_messages, grace)
    await inbound.stop_accepting()
    finished = await inbound.drain(grace)
    if not finished:
        log.warning("grace time over with %d message(s) unfinished; their clients will retry", gateway.inflight_messages)
    await inbound.close_sessions()
    for task in list(inbound.tasks):
        task.cancel()
    await gateway.close()
    log.info("stopped")
    return EXIT_OK
