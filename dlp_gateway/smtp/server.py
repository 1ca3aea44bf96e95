"""Inbound SMTP on aiosmtpd: the envelope and the raw bytes, nothing parsed.

The server enforces the session limits of `smtp:` (allowed client networks → 554 at
connect, recipients → 452, message size → 552, command line length → 500, deadlines →
421, connections → 421) and hands every complete message to `Gateway.handle`, whose
reply is the answer to the end of DATA. It advertises SIZE, 8BITMIME, SMTPUTF8,
PIPELINING and (with a certificate) STARTTLS, which can be required.

What aiosmtpd does not do the way a relay on a hostile network needs is adjusted in
`RelaySMTP`, modelled on Postfix's smtpd:
- the client's network is checked when it connects, before it takes a connection slot;
- deadlines run from the start of each wait (a command line: `idle_timeout`; the DATA
  phase: `data_timeout` plus time earned at `data_min_rate`; the session:
  `session_timeout`), so dribbling a byte at a time does not extend them; under
  connection pressure the short `stress_` timeouts apply (Postfix's stress-dependent
  smtpd_timeout), and when every slot is taken the session that has waited longest (or
  sends DATA slowest) is shed to admit the new client;
- DATA is read in bounded pieces, and the bytes of unfinished messages of all sessions
  count against `max_unfinished_data_bytes`; lines have no length limit of their own;
  a bare CR or LF is normalised to CRLF (or refused), never passed on;
- MAIL/RCPT addresses are parsed with a strict RFC 5321 grammar (smtp/address.py) and
  control characters in commands are refused;
- an exception never reaches the client as text (aiosmtpd would answer `500 Error: (X) text`).
RCPT options are kept per recipient (aiosmtpd flattens them).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import ssl
import time
from collections import defaultdict
from typing import TYPE_CHECKING, Any, cast

from aiosmtpd.smtp import MISSING, SMTP, Session, syntax
from aiosmtpd.smtp import Envelope as SMTPEnvelope

from dlp_gateway import metrics
from dlp_gateway.config import ConfigError, Settings, parse_hostport
from dlp_gateway.model import Envelope
from dlp_gateway.smtp.address import CONTROL, AddressError, parse_path

if TYPE_CHECKING:
    from dlp_gateway.gateway import Gateway

log = logging.getLogger(__name__)


def server_tls_context(cert: str, key: str) -> ssl.SSLContext:
    """The STARTTLS context for inbound connections; errors say which file is wrong."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot load the STARTTLS certificate {cert} / key {key}: {exc}. "
            "Check smtp.tls_cert and smtp.tls_key (PEM files readable by the gateway)."
        ) from exc
    return context


def parse_networks(values: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError as exc:
            raise ConfigError(f"smtp.allowed_networks: {value!r} is not a network ({exc}); use e.g. 10.0.0.0/8") from exc
    return networks


_AIOSMTPD_REFUSALS = (
    ("552 Error: message size", "size"),
    ("552 Error: Too much mail data", "size"),
    ("500 Command line too long", "line_length"),
    ("530 Must issue a STARTTLS", "tls_required"),
)

# DATA is read in pieces of at most this many bytes (a piece ends early at each ".\r\n"):
# a client that never sends the final dot holds no more than this in the stream's buffer.
DATA_PIECE = 256 * 1024


class _Refuse(asyncio.Protocol):
    """Answers one line and hangs up (too many connections, shutting down)."""

    def __init__(self, line: bytes) -> None:
        self.line = line

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP transport (uvloop's is not an asyncio.WriteTransport subclass).
        transport = cast(asyncio.WriteTransport, transport)
        transport.write(self.line)
        transport.close()  # after the line is sent


class RelaySMTP(SMTP):
    """aiosmtpd's SMTP with the adjustments described in the module docstring."""

    def __init__(self, handler: RelayHandler, inbound: InboundServer, **kwargs: Any) -> None:
        smtp = inbound.settings.smtp
        # The reader's limit while reading commands: the longest command line.
        self.line_length_limit = smtp.max_line_length
        super().__init__(handler, **kwargs)
        self.command_size_limit = smtp.max_line_length
        self.command_size_limits = defaultdict(lambda: smtp.max_line_length)
        self.inbound = inbound
        self.busy = False  # the gateway is working on a message of this session
        self.refused = False  # answered at connect (network, no slot) and closed
        self.phase = "command"  # command | data
        now = time.monotonic()
        self.started = now
        self.waiting_since = now  # start of the current wait for a command line
        self.data_started = now
        self.data_bytes = 0  # bytes of the DATA being received
        self._held_replies: list[bytes] = []  # replies to pipelined commands not sent yet
        self._parsed_path: tuple[str, str] | None = None

    # ------------------------------------------------------------------ connect
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._original_transport is not None or self.transport is not None:
            super().connection_made(transport)  # the same session after STARTTLS
            return
        peer = transport.get_extra_info("peername")
        reply = None
        if not self.inbound.handler.peer_allowed(peer):
            metrics.SMTP_REFUSED.labels(reason="network").inc()
            log.warning("refusing %s at connect: not in smtp.allowed_networks", peer)
            reply = f"554 5.7.1 {self.inbound.hostname} no SMTP service for your network\r\n"
        elif not self.inbound.admit_session(self):
            reply = f"421 4.7.0 {self.inbound.hostname} too many connections; try again later\r\n"
        if reply is not None:
            self.refused = True
            with contextlib.suppress(Exception):
                cast(asyncio.WriteTransport, transport).write(reply.encode())
            transport.close()
            return
        super().connection_made(transport)

    def eof_received(self) -> bool | None:
        if self.refused:
            return False
        return super().eof_received()

    # ------------------------------------------------------------------ deadlines
    def _reset_timeout(self, duration: float | None = None) -> None:
        """Arm the deadline for the next command line (aiosmtpd calls this when a command
        arrives). Only a complete command re-arms it: bytes alone do not."""
        self.phase = "command"
        self.waiting_since = time.monotonic()
        if duration is None:
            duration = self.inbound.idle_timeout()
        left = self.session_left()
        super()._reset_timeout(max(0.01, min(duration, left)))

    def session_left(self) -> float:
        return self.started + self.inbound.settings.smtp.session_timeout - time.monotonic()

    def _timeout_cb(self) -> None:
        if self.busy:
            self._reset_timeout()
            return
        peer = self.session.peer if self.session else "?"
        if self.session_left() <= 0:
            log.info("%s connected for %gs (smtp.session_timeout): disconnecting", peer, self.inbound.settings.smtp.session_timeout)
            self.hang_up("session_timeout", "421 4.4.2 connection open too long, closing connection")
            return
        log.info("%s sent no complete command in %.1fs: disconnecting", peer, time.monotonic() - self.waiting_since)
        self.hang_up("idle_timeout", "421 4.4.2 idle for too long, closing connection")

    def hang_up(self, reason: str, reply: str) -> None:
        """Tell the client why (421) and close; any message not yet answered was not accepted."""
        metrics.SMTP_REFUSED.labels(reason=reason).inc()
        if self._timeout_handle is not None:
            self._timeout_handle.cancel()
        if self.transport is not None:
            with contextlib.suppress(Exception):
                self._flush_held_replies()
                self.transport.write(reply.encode() + b"\r\n")
            self.transport.close()

    def shed_score(self, now: float, shed_after: float, min_rate: int) -> float | None:
        """How much this session deserves to be shed to admit a new client, or None."""
        if self.busy or self.transport is None:
            return None
        if self.phase == "data":
            elapsed = now - self.data_started
            if elapsed >= shed_after and self.data_bytes < elapsed * min_rate:
                return elapsed
            return None
        waited = now - self.waiting_since
        return waited if waited >= shed_after else None

    # ------------------------------------------------------------------ replies
    async def push(self, status: Any) -> None:
        text = status.decode("utf-8", "replace") if isinstance(status, bytes) else str(status)
        if text[:1] in ("4", "5") and self.session is not None:
            log.info("%s << %s", self.session.peer, text)
            # Refusals aiosmtpd itself makes (ours count where they are made).
            for prefix, reason in _AIOSMTPD_REFUSALS:
                if text.startswith(prefix):
                    metrics.SMTP_REFUSED.labels(reason=reason).inc()
                    break
        response = status if isinstance(status, bytes) else status.encode("utf-8" if self.enable_SMTPUTF8 else "ascii")
        self._held_replies.append(response + b"\r\n")
        if self._may_hold(text):
            return  # sent with the reply to the last command of the pipelined group
        self._flush_held_replies()
        await self._writer.drain()

    def _may_hold(self, text: str) -> bool:
        """Whether a reply may wait for the next one (RFC 2920 4: a server may buffer the
        replies to a group of pipelined commands and send them together, as Postfix does):
        only while another complete command is already buffered, and never a reply that
        changes the connection (220 before TLS, 221, 421) or one the client must await
        before it may go on (354)."""
        if text[:3] in ("220", "221", "354", "421"):
            return False
        return b"\n" in self._reader._buffer  # noqa: SLF001 - asyncio.StreamReader's input buffer

    def _flush_held_replies(self) -> None:
        if self._held_replies and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(self._held_replies))
        self._held_replies.clear()

    # ------------------------------------------------------------------ commands
    async def _refuse_controls(self, arg: str | None) -> bool:
        if arg and CONTROL.search(arg):
            metrics.SMTP_REFUSED.labels(reason="syntax").inc()
            await self.push("501 5.5.2 control characters are not allowed in an SMTP command")
            return True
        return False

    @syntax("HELO hostname")
    async def smtp_HELO(self, hostname: str) -> None:
        if not await self._refuse_controls(hostname):
            await super().smtp_HELO(hostname)

    @syntax("EHLO hostname")
    async def smtp_EHLO(self, hostname: str) -> None:
        if not await self._refuse_controls(hostname):
            await super().smtp_EHLO(hostname)

    @syntax("VRFY <address>")
    async def smtp_VRFY(self, arg: str) -> None:
        # aiosmtpd echoes the argument in its reply; nothing of a client's text is echoed.
        await self.push("252 2.5.2 cannot VRFY user, but will accept message and attempt delivery")

    @syntax("MAIL FROM: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_MAIL(self, arg: str | None) -> None:
        if await self._parse_path(arg, "FROM:"):
            await super().smtp_MAIL(arg)

    @syntax("RCPT TO: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_RCPT(self, arg: str | None) -> None:
        if await self._parse_path(arg, "TO:"):
            await super().smtp_RCPT(arg)

    async def _parse_path(self, arg: str | None, keyword: str) -> bool:
        """Parse the path strictly (smtp/address.py) before aiosmtpd sees it; False when
        the command was answered with a refusal. aiosmtpd's own checks (order of
        commands, parameters) still run, and its `_getaddr` returns this result."""
        self._parsed_path = None
        if await self._refuse_controls(arg):
            return False
        if arg is None or arg[: len(keyword)].upper() != keyword:
            return True  # aiosmtpd answers the syntax error
        rest = arg[len(keyword) :]
        mail = keyword == "FROM:"
        if mail:
            _, _, params = rest.partition(">")
            utf8 = "SMTPUTF8" in params.upper().split()
        else:
            utf8 = bool(self.envelope is not None and self.envelope.smtp_utf8)
        try:
            self._parsed_path = parse_path(rest, utf8=utf8, null_ok=mail, postmaster_ok=not mail)
        except AddressError as exc:
            metrics.SMTP_REFUSED.labels(reason="syntax").inc()
            await self.push(exc.reply)
            return False
        return True

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        parsed, self._parsed_path = self._parsed_path, None
        if parsed is None:
            return None, None  # never aiosmtpd's lenient parser
        return parsed

    # ------------------------------------------------------------------ DATA
    # aiosmtpd reads DATA one line at a time (a coroutine step, a log call and a copy per
    # line, and no deadline but the idle timer). This reads pieces up to each ".\r\n"
    # (or DATA_PIECE bytes) against the DATA deadline and the shared budget of
    # unfinished bytes, and unstuffs the whole message at the end (RFC 5321 4.5.2).
    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        if await self.check_helo_needed():
            return
        if await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        if self._timeout_handle is not None:
            self._timeout_handle.cancel()  # the DATA deadline applies instead
        self.phase = "data"
        self.data_started = time.monotonic()
        self.data_bytes = 0
        try:
            content, refusal = await self._read_data()
        except TimeoutError:
            peer = self.session.peer if self.session else "?"
            log.info("%s: DATA not finished in %.1fs (%d bytes): disconnecting", peer,
                     time.monotonic() - self.data_started, self.data_bytes)
            self.hang_up("data_timeout", "421 4.4.2 message data too slow, closing connection")
            return
        except asyncio.CancelledError:
            log.info("Connection lost during DATA")
            self._writer.close()
            raise
        if refusal:
            self._reset_timeout()
            await self.push(refusal)
            self._set_post_data_state()
            return
        self.envelope.content = content
        self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        self._reset_timeout()
        await self.push("250 OK" if status is MISSING else status)

    def _data_deadline(self) -> float:
        smtp = self.inbound.settings.smtp
        base = smtp.stress_data_timeout if self.inbound.under_stress() else smtp.data_timeout
        deadline = self.data_started + base + self.data_bytes / smtp.data_min_rate
        return min(deadline, self.started + smtp.session_timeout)

    async def _read_data(self) -> tuple[bytes, str | None]:
        """The message up to the lone dot, dot-unstuffed and with CRLF line ends; or a
        refusal after draining it. Raises TimeoutError past the DATA deadline."""
        reader = self._reader
        inbound = self.inbound
        budget = inbound.settings.smtp.max_unfinished_data_bytes
        size_limit = self.data_size_limit or 0
        chunks: list[bytes] = []
        held = 0  # bytes of `chunks`, counted in inbound.unfinished_bytes
        refusal: str | None = None
        tail = b"\r\n"  # the last two bytes read: the CRLF of the DATA command
        saved_limit = reader._limit  # noqa: SLF001 - the buffer limit, set to the piece size while reading DATA
        reader._limit = DATA_PIECE  # noqa: SLF001
        try:
            while True:
                timeout = self._data_deadline() - time.monotonic()
                if timeout <= 0:
                    raise TimeoutError
                try:
                    chunk = await asyncio.wait_for(reader.readuntil(b".\r\n"), timeout)
                    # The lone dot (end of DATA): ".\r\n" right after a CRLF.
                    last = (chunk if len(chunk) >= 5 else tail + chunk)[-5:-3] == b"\r\n"
                except asyncio.LimitOverrunError as exc:
                    # No ".\r\n" within a piece: take what cannot be part of one.
                    chunk = await reader.readexactly(exc.consumed)
                    last = False
                except asyncio.IncompleteReadError:
                    raise asyncio.CancelledError from None  # the client went away
                if not chunk:
                    continue
                tail = chunk[-2:] if len(chunk) >= 2 else (tail + chunk)[-2:]
                self.data_bytes += len(chunk)
                if last:
                    chunk = chunk[:-3]
                if refusal is None:
                    if size_limit and self.data_bytes > size_limit + 3:
                        refusal = "552 Error: Too much mail data"
                    elif inbound.unfinished_bytes + len(chunk) > budget:
                        metrics.SMTP_REFUSED.labels(reason="overload_bytes").inc()
                        log.warning("%s: unfinished DATA of all sessions over smtp.max_unfinished_data_bytes (%d); "
                                    "discarding this message", self.session.peer if self.session else "?", budget)
                        refusal = "451 4.3.1 too much mail being received now; try again later"
                    if refusal is not None:
                        chunks.clear()
                        inbound.unfinished_bytes -= held
                        held = 0
                    else:
                        chunks.append(chunk)
                        held += len(chunk)
                        inbound.unfinished_bytes += len(chunk)
                if last:
                    break
                if len(chunk) > DATA_PIECE // 2:
                    await asyncio.sleep(0)  # let other sessions run between large pieces
        finally:
            reader._limit = saved_limit  # noqa: SLF001
            inbound.unfinished_bytes -= held
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        if refusal is not None:
            return b"", refusal
        bare = _has_bare_line_ending(data)
        if bare and inbound.settings.smtp.bare_line_endings == "reject":
            metrics.SMTP_REFUSED.labels(reason="bare_line_ending").inc()
            return b"", "550 5.6.11 bare CR or LF in the message (RFC 5321 2.3.8); end every line with CRLF"
        if bare:
            data = _BARE_LF.sub(b"\r\n", data)  # a bare LF ends a line, as Postfix reads it
        if data.startswith(b"."):
            data = data[1:]
        data = data.replace(b"\r\n.", b"\r\n")
        if bare:
            # A bare CR is content, not a line end, to the client; after unstuffing it
            # becomes CRLF so no next hop can read "<CR>.<CR>" as the end of DATA.
            data = _BARE_CR.sub(b"\r\n", data)
        return data, None

    def connection_lost(self, error: Exception | None) -> None:
        if self.refused:
            return
        envelope = self.envelope
        if envelope is not None and envelope.mail_from and self.session is not None and not self.busy:
            log.info(
                "%s closed the connection with a transaction open (from=<%s>): nothing was accepted",
                self.session.peer,
                envelope.mail_from,
            )
        self.inbound.session_closed(self)
        super().connection_lost(error)


_BARE_LF = re.compile(rb"(?<!\r)\n")
_BARE_CR = re.compile(rb"\r(?!\n)")


def _has_bare_line_ending(data: bytes) -> bool:
    """True when a CR or LF is not part of a CRLF (three C-speed counts, no copy)."""
    crlf = data.count(b"\r\n")
    return data.count(b"\r") != crlf or data.count(b"\n") != crlf


class RelayHandler:
    """aiosmtpd hooks: limits at MAIL/RCPT, and the message to the gateway at DATA."""

    def __init__(self, inbound: InboundServer) -> None:
        self.inbound = inbound
        self.settings = inbound.settings.smtp
        self.networks = parse_networks(self.settings.allowed_networks)

    def peer_allowed(self, peer: Any) -> bool:
        host = peer[0] if isinstance(peer, tuple) else str(peer)
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)

    async def handle_exception(self, error: Exception) -> str:
        """An unexpected error in a session: the detail goes to the log, never to the client
        (aiosmtpd would answer `500 Error: (ExceptionName) text`)."""
        log.error("SMTP session error: %s: %s", type(error).__name__, error, exc_info=error)
        return "451 4.3.0 internal error in the gateway; try again later"

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: SMTPEnvelope, hostname: str, responses: list[str]) -> list[str]:
        session.host_name = hostname
        kept = [r for r in responses if not r[4:].upper().startswith("AUTH")]
        kept.insert(len(kept) - 1, "250-PIPELINING")
        return kept

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: SMTPEnvelope, address: str, mail_options: list[str]) -> str:
        if self.inbound.draining:
            metrics.SMTP_REFUSED.labels(reason="shutting_down").inc()
            if server.transport is not None:
                asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 4.3.2 the gateway is shutting down; try again later"
        if not self.peer_allowed(session.peer):
            metrics.SMTP_REFUSED.labels(reason="network").inc()
            return "554 5.7.1 relay access denied"
        gateway = self.inbound.gateway
        if gateway.inflight_messages >= self.inbound.settings.workers.max_inflight_messages:
            # Overloaded: refuse before the client sends the data, which would cost the
            # reading and then be refused anyway at the end of DATA.
            metrics.SMTP_REFUSED.labels(reason="overload_messages").inc()
            return f"451 4.3.2 too many messages in progress ({gateway.inflight_messages}); try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        envelope.rcpt_options_each = []  # type: ignore[attr-defined]
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: SMTPEnvelope, address: str, rcpt_options: list[str]) -> str:
        if address == "<>":
            return "501 5.1.3 the null address <> is not a recipient"
        if len(envelope.rcpt_tos) >= self.settings.max_recipients:
            metrics.SMTP_REFUSED.labels(reason="recipients").inc()
            return f"452 4.5.3 too many recipients (at most {self.settings.max_recipients} per message)"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        each = getattr(envelope, "rcpt_options_each", None)
        if each is None:
            each = envelope.rcpt_options_each = []  # type: ignore[attr-defined]
        each.append(tuple(rcpt_options))
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: SMTPEnvelope) -> str:
        raw = envelope.original_content or b""
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer or "")
        env = Envelope(
            mail_from="" if envelope.mail_from in (None, "<>") else envelope.mail_from,  # "" is the null sender
            rcpt_tos=tuple(envelope.rcpt_tos),
            mail_options=tuple(envelope.mail_options),
            rcpt_options=tuple(getattr(envelope, "rcpt_options_each", ())),
            peer=peer,
            helo=session.host_name or "",
            tls=session.ssl is not None,
        )
        assert isinstance(server, RelaySMTP)
        server.busy = True
        try:
            # Shielded: if the client hangs up, the message is still finished (and logged);
            # the client got no 250, so it retries — a duplicate at worst, never a loss.
            task = self.inbound.track(self.inbound.gateway.handle(env, raw))
            reply = await asyncio.shield(task)
        finally:
            server.busy = False
        return str(reply)


class InboundServer:
    """The listening socket and its sessions."""

    def __init__(self, settings: Settings, gateway: Gateway) -> None:
        self.settings = settings
        self.gateway = gateway
        self.handler = RelayHandler(self)
        smtp = settings.smtp
        if smtp.require_tls and not (smtp.tls_cert and smtp.tls_key):
            raise ConfigError("smtp.require_tls is set but smtp.tls_cert / smtp.tls_key are not: give both PEM files.")
        if bool(smtp.tls_cert) != bool(smtp.tls_key):
            raise ConfigError("STARTTLS needs both smtp.tls_cert and smtp.tls_key.")
        self.tls_context = server_tls_context(smtp.tls_cert, smtp.tls_key) if smtp.tls_cert and smtp.tls_key else None
        self.hostname = gateway.hostname
        self.sessions: set[RelaySMTP] = set()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.server: asyncio.Server | None = None
        self.draining = False
        self.unfinished_bytes = 0  # bytes of DATA read but not finished, all sessions

    def _make_protocol(self) -> asyncio.Protocol:
        """A session for a new connection; its network and a slot are checked in
        `RelaySMTP.connection_made`, where the peer is known."""
        smtp = self.settings.smtp
        if self.draining:
            return _Refuse(f"421 4.3.2 {self.hostname} is shutting down; try again later\r\n".encode())
        return RelaySMTP(
            self.handler,
            self,
            data_size_limit=smtp.max_message_size,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=self.hostname,
            ident="dlp-gateway ESMTP",
            tls_context=self.tls_context,
            require_starttls=smtp.require_tls,
            timeout=smtp.idle_timeout,
        )

    def under_stress(self) -> bool:
        """Connection pressure (Postfix's stress): most slots are taken."""
        smtp = self.settings.smtp
        return len(self.sessions) >= smtp.stress_threshold * smtp.max_connections

    def idle_timeout(self) -> float:
        smtp = self.settings.smtp
        return smtp.stress_idle_timeout if self.under_stress() else smtp.idle_timeout

    def admit_session(self, protocol: RelaySMTP) -> bool:
        """Give `protocol` a slot; when none is free, shed the session that has waited
        longest on its current command (or sends DATA slowest) first. False: no slot."""
        smtp = self.settings.smtp
        if len(self.sessions) >= smtp.max_connections:
            now = time.monotonic()
            scored = [(score, s) for s in self.sessions
                      if (score := s.shed_score(now, smtp.shed_after, smtp.data_min_rate)) is not None]
            if not scored:
                metrics.SMTP_REFUSED.labels(reason="connections").inc()
                log.warning("refusing a connection: %d connections open (smtp.max_connections), none to shed",
                            len(self.sessions))
                return False
            score, victim = max(scored, key=lambda pair: pair[0])
            peer = victim.session.peer if victim.session else "?"
            log.warning("all %d connections taken: shedding %s (waiting %.1fs in %s) for a new client",
                        len(self.sessions), peer, score, victim.phase)
            self.session_closed(victim)
            victim.hang_up("shed", "421 4.7.0 too many connections; closing the slowest, try again later")
        self.sessions.add(protocol)
        metrics.SMTP_CONNECTIONS.set(len(self.sessions))
        return True

    def session_closed(self, protocol: RelaySMTP) -> None:
        self.sessions.discard(protocol)
        metrics.SMTP_CONNECTIONS.set(len(self.sessions))

    def track(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def start(self) -> tuple[str, int]:
        host, port = parse_hostport(self.settings.smtp.listen)
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(self._make_protocol, host=host, port=port, reuse_address=True)
        sockname = self.server.sockets[0].getsockname()
        return str(sockname[0]), int(sockname[1])

    async def stop_accepting(self) -> None:
        """Close the listening socket; open sessions may finish their message."""
        self.draining = True
        if self.server is not None:
            self.server.close()

    async def drain(self, grace: float) -> bool:
        """Wait up to `grace` seconds until no message is being worked on and its reply is sent."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self.gateway.inflight_messages or any(s.busy for s in self.sessions) or self.tasks:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def close_sessions(self) -> None:
        """Hang up on every client (after the grace time); their messages were not 250'd."""
        for protocol in list(self.sessions):
            if protocol.transport is not None:
                with contextlib.suppress(Exception):
                    protocol.transport.write(b"421 4.3.2 the gateway is shutting down\r\n")
                protocol.transport.close()
        if self.server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 2.0)
