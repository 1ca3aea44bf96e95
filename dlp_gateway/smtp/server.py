"""Inbound SMTP on aiosmtpd: the envelope and the raw bytes, nothing parsed.

The server enforces the session limits of `smtp:` (allowed client networks → 554,
recipients → 452, message size → 552, line length → 500, idle time → 421, connections
→ 421) and hands every complete message to `Gateway.handle`, whose reply is the answer
to the end of DATA. It advertises SIZE, 8BITMIME, SMTPUTF8, PIPELINING and (with a
certificate) STARTTLS, which can be required.

Two things aiosmtpd does not do the way a relay needs are adjusted in `RelaySMTP`: the
idle timer is reset by any bytes from the client (a large DATA is not idleness) and is
suspended while the gateway works on a message; an idle client is told 421 before the
connection is closed. RCPT options are kept per recipient (aiosmtpd flattens them).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import ssl
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from aiosmtpd.smtp import MISSING, SMTP, Session, syntax
from aiosmtpd.smtp import Envelope as SMTPEnvelope

from dlp_gateway import metrics
from dlp_gateway.config import ConfigError, Settings, parse_hostport
from dlp_gateway.model import Envelope

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
    ("500 Line too long", "line_length"),
    ("530 Must issue a STARTTLS", "tls_required"),
)


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
        # The reader's limit is the longest line: 998 octets + CRLF + a transparency dot.
        self.line_length_limit = inbound.settings.smtp.max_line_length + 1
        super().__init__(handler, **kwargs)
        self.inbound = inbound
        self.busy = False  # the gateway is working on a message of this session
        self._held_replies: list[bytes] = []  # replies to pipelined commands not sent yet

    def data_received(self, data: bytes) -> None:
        if self._timeout_handle is not None:
            self._reset_timeout()
        super().data_received(data)

    def _timeout_cb(self) -> None:
        if self.busy:
            self._reset_timeout()
            return
        peer = self.session.peer if self.session else "?"
        log.info("%s idle for %gs: disconnecting", peer, self._timeout_duration)
        metrics.SMTP_REFUSED.labels(reason="idle_timeout").inc()
        if self.transport is not None:
            with contextlib.suppress(Exception):
                self._flush_held_replies()
                self.transport.write(b"421 4.4.2 idle for too long, closing connection\r\n")
            self.transport.close()

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

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        # aiosmtpd parses each MAIL/RCPT address with the email package's full RFC 5322
        # parser (about 0.2 ms); senders and recipients repeat, so the parsed <address>
        # is cached (the parameters after it, e.g. SIZE=, differ per message).
        head, bracket, tail = arg.partition(">")
        if (bracket and '"' not in head and head.lstrip().startswith("<") and head.strip() != "<"
                and not tail.lstrip(" \t").startswith("(")):
            address, rest = _parse_address(head + ">", self.local_part_limit)
            if address is not None and rest == "":
                return address, tail.lstrip(" \t")
        return super()._getaddr(arg)

    # aiosmtpd reads DATA one line at a time (a coroutine step, a log call and a copy per
    # line): about a third of the gateway process's CPU per message. This reads up to
    # each ".\r\n" instead and checks line lengths, size and dot-stuffing on the whole
    # message, with aiosmtpd's replies and semantics (RFC 5321 4.5.2, 4.5.3.1.6).
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
        try:
            content, refusal = await self._read_data()
        except asyncio.CancelledError:
            log.info("Connection lost during DATA")
            self._writer.close()
            raise
        if refusal:
            await self.push(refusal)
            self._set_post_data_state()
            return
        self.envelope.content = content
        self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)

    async def _read_data(self) -> tuple[bytes, str | None]:
        """The message up to the lone dot, dot-unstuffed; or a refusal after draining it."""
        reader = self._reader
        size_limit = self.data_size_limit or 0
        chunks: list[bytes] = []
        size = 0
        refusal: str | None = None
        at_line_start = True  # the CRLF of the DATA command was just read
        line_limit = self.line_length_limit
        saved_limit = reader._limit  # noqa: SLF001 - the buffer limit, raised while reading DATA
        reader._limit = max(size_limit, 1024 * 1024) + 2 * line_limit  # noqa: SLF001
        try:
            while True:
                try:
                    chunk = await reader.readuntil(b".\r\n")
                except asyncio.LimitOverrunError as exc:
                    chunk = await reader.readexactly(exc.consumed)
                    refusal = refusal or "552 Error: Too much mail data"
                    chunks.clear()
                    at_line_start = chunk.endswith(b"\r\n")
                    continue
                if len(chunk) == 3 and at_line_start or chunk[-5:-3] == b"\r\n":
                    chunk = chunk[:-3]  # the lone dot: end of DATA
                    last = True
                else:
                    last = False
                size += len(chunk)
                if refusal is None:
                    if size_limit and size > size_limit:
                        refusal = "552 Error: Too much mail data"
                        chunks.clear()
                    else:
                        chunks.append(chunk)
                if last:
                    break
                at_line_start = True
        finally:
            reader._limit = saved_limit  # noqa: SLF001
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        if refusal is None and _longest_line_exceeds(data, line_limit):
            refusal = "500 Line too long (see RFC5321 4.5.3.1.6)"
        if refusal is not None:
            return b"", refusal
        data = _normalise_bare_lf(data)
        if data.startswith(b"."):
            data = data[1:]
        return data.replace(b"\r\n.", b"\r\n"), None

    def connection_lost(self, error: Exception | None) -> None:
        envelope = self.envelope
        if envelope is not None and envelope.mail_from and self.session is not None and not self.busy:
            log.info(
                "%s closed the connection with a transaction open (from=<%s>): nothing was accepted",
                self.session.peer,
                envelope.mail_from,
            )
        self.inbound.session_closed(self)
        super().connection_lost(error)


class _AddressLimits:
    def __init__(self, local_part_limit: int) -> None:
        self.local_part_limit = local_part_limit


@lru_cache(maxsize=4096)
def _parse_address(arg: str, local_part_limit: int) -> tuple[str | None, str | None]:
    """aiosmtpd's own address parsing (it reads nothing but the limit from the session)."""
    return SMTP._getaddr(_AddressLimits(local_part_limit), arg)  # type: ignore[arg-type]


_LINE_SCAN_CHUNK = 4 * 1024 * 1024


def _longest_line_exceeds(data: bytes, limit: int) -> bool:
    """True when a line with its line ending is longer than `limit`.

    A bare LF ends a line too (as Postfix's `smtpd_forbid_bare_newline = normalize` reads
    it): clients such as Python's smtplib send bytes with LF endings, and counting only
    CRLF would make a whole message one over-long line. The bytes themselves pass on
    unchanged. The LF positions are found with numpy, a few MB at a time (bounded
    memory): 4x faster than a `bytes.find` per line, and a regular expression like
    `[^\n]{limit}` would retry at every byte.
    """
    size = len(data)
    if size < limit:
        return False
    octets = np.frombuffer(data, dtype=np.uint8)
    previous = -1  # position of the last LF seen
    for start in range(0, size, _LINE_SCAN_CHUNK):
        newlines = np.flatnonzero(octets[start : start + _LINE_SCAN_CHUNK] == 10)
        if not len(newlines):
            continue
        newlines += start
        # A line from previous+1 to its LF at p holds p - previous - 1 bytes before the LF.
        if newlines[0] - previous > limit or (len(newlines) > 1 and int(np.diff(newlines).max()) > limit):
            return True
        previous = int(newlines[-1])
    return size - previous - 1 >= limit


_BARE_LF = re.compile(rb"(?<!\r)\n")


def _normalise_bare_lf(data: bytes) -> bytes:
    """Lines ended by a bare LF get CRLF, as Postfix's `smtpd_forbid_bare_newline = normalize`.

    RFC 5321 forbids bare LF on the wire, and a next hop may refuse it (or read it
    differently from us, the root of SMTP smuggling); compliant input is left untouched.
    The end of DATA itself must still be CRLF.CRLF.
    """
    if data.count(b"\n") == data.count(b"\r\n"):
        return data
    return _BARE_LF.sub(b"\r\n", data)


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
            return f"554 5.7.1 relay access denied: client {session.peer[0]} is not in smtp.allowed_networks"
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

    def _make_protocol(self) -> asyncio.Protocol:
        smtp = self.settings.smtp
        if self.draining:
            return _Refuse(f"421 4.3.2 {self.hostname} is shutting down; try again later\r\n".encode())
        if len(self.sessions) >= smtp.max_connections:
            metrics.SMTP_REFUSED.labels(reason="connections").inc()
            log.warning("refusing a connection: %d connections open (smtp.max_connections)", len(self.sessions))
            return _Refuse(f"421 4.7.0 {self.hostname} too many connections; try again later\r\n".encode())
        protocol = RelaySMTP(
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
        self.sessions.add(protocol)
        metrics.SMTP_CONNECTIONS.set(len(self.sessions))
        return protocol

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
