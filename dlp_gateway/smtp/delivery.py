"""Outbound delivery to the next hop: pooled connections, STARTTLS policy, pipelining.

Why a small SMTP client of our own on asyncio streams rather than aiosmtplib's
`sendmail`: the never-lose and transparency contracts need two things aiosmtplib does
not give. (1) The bytes must reach the next hop unchanged; aiosmtplib rewrites every
bare CR or LF inside a line into CRLF. (2) PIPELINING: aiosmtplib's protocol parses one
reply per read and drops replies that arrive together, so MAIL/RCPT/DATA cannot be sent
in one round trip. Everything else here is plain RFC 5321/3207/2920: EHLO, STARTTLS
through `asyncio.StreamWriter.start_tls`, dot-stuffing, one reply per command.

Results are per recipient (`DeliveryResult`): a connection problem is a 4xx for every
recipient (the gateway answers 451 and the client retries), a refusal by the next hop
keeps the next hop's own code and text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import ssl
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from dlp_gateway.config import parse_hostport
from dlp_gateway.smtp.settings import DeliverySettings

log = logging.getLogger(__name__)

MAX_REPLY_LINES = 100


@dataclass(frozen=True, slots=True)
class RecipientResult:
    """What the next hop (or the Maildir) said about one recipient."""

    recipient: str
    code: int
    message: str

    @property
    def accepted(self) -> bool:
        return 200 <= self.code < 300

    @property
    def temporary(self) -> bool:
        return 400 <= self.code < 500

    @property
    def permanent(self) -> bool:
        return self.code >= 500


@dataclass(slots=True)
class DeliveryResult:
    """Per-recipient results of one delivery attempt."""

    results: list[RecipientResult] = field(default_factory=list)
    next_hop: str = ""
    tls: bool = False

    @property
    def accepted(self) -> list[RecipientResult]:
        return [r for r in self.results if r.accepted]

    @property
    def temporary(self) -> list[RecipientResult]:
        return [r for r in self.results if r.temporary]

    @property
    def permanent(self) -> list[RecipientResult]:
        return [r for r in self.results if r.permanent]

    @property
    def all_accepted(self) -> bool:
        return bool(self.results) and all(r.accepted for r in self.results)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One transaction: envelope as the client gave it, and the bytes to send."""

    mail_from: str
    recipients: tuple[str, ...]
    data: bytes
    mail_options: tuple[str, ...] = ()
    rcpt_options: tuple[tuple[str, ...], ...] = ()  # per recipient, same order; may be shorter

    def options_for(self, index: int) -> tuple[str, ...]:
        return self.rcpt_options[index] if index < len(self.rcpt_options) else ()


class SMTPReplyError(Exception):
    """The next hop answered something unusable (or nothing); carries a 4xx for the client."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


_LINE_SCAN_CHUNK = 4 * 1024 * 1024


def _longest_line_exceeds(data: bytes, limit: int) -> bool:
    """True when a line with its line ending is longer than `limit`.

    The LF positions are found with numpy, a few MB at a time (bounded
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


_BARE_LINE_END = re.compile(rb"\r\n|\r|\n")


def wire_lines(data: bytes, line_limit: int) -> bytes:
    """The message as the next hop must see it: every line ended by CRLF, none longer
    than `line_limit` octets (0: no limit).

    A bare CR or LF is turned into CRLF: RFC 5321 forbids both, and a next hop that
    ends lines at one of them could read `<CR>.<CR>` as the end of DATA and the bytes
    after it as commands (SMTP smuggling). The inbound server already normalises them;
    this also covers content the gateway built itself. A line longer than the limit is
    folded by inserting CRLF and a space, as Postfix's smtp_line_length_limit does, so
    a next hop holding to RFC 5322's 998 octets takes the message. A message with
    neither comes back as the same object (no copy).
    """
    crlf = data.count(b"\r\n")
    if data.count(b"\r") != crlf or data.count(b"\n") != crlf:
        data = _BARE_LINE_END.sub(b"\r\n", data)
    if line_limit and _longest_line_exceeds(data, line_limit + 2):
        limit = max(line_limit, 2)
        data = b"\r\n".join(_fold(line, limit) if len(line) > limit else line for line in data.split(b"\r\n"))
    return data


def _fold(line: bytes, limit: int) -> bytes:
    """`line` as lines of at most `limit` octets, each continuation starting with a space."""
    pieces = [line[:limit]]
    for start in range(limit, len(line), limit - 1):
        pieces.append(b" " + line[start : start + limit - 1])
    return b"\r\n".join(pieces)


def dot_stuff(data: bytes) -> bytes:
    """Escape lines starting with '.', end with CRLF, add the terminating '.'.

    Only lines that start after a CRLF are SMTP lines; a bare LF inside a line is content
    and is left alone so the bytes arrive exactly as received.
    """
    if data.startswith(b"."):
        data = b"." + data
    data = data.replace(b"\r\n.", b"\r\n..")
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def dot_stuffed_pieces(data: bytes, piece: int = 1024 * 1024) -> Iterator[bytes | memoryview]:
    """`dot_stuff(data)` as pieces of at most `piece` bytes, for writing a large message
    without building a second whole copy (none at all when no line starts with a dot)."""
    if len(data) <= piece:
        yield dot_stuff(data)  # one write for a small message
        return
    if data.startswith(b"."):
        yield b"."
    data = data.replace(b"\r\n.", b"\r\n..")  # the same object when there is nothing to escape
    view = memoryview(data)
    for start in range(0, len(data), piece):
        yield view[start : start + piece]
    yield b".\r\n" if data.endswith(b"\r\n") else b"\r\n.\r\n"


# ESMTP keyword of a MAIL parameter -> the extension the next hop must offer for it.
_MAIL_PARAM_EXTENSION = {"BODY": "8BITMIME", "SMTPUTF8": "SMTPUTF8", "RET": "DSN", "ENVID": "DSN", "AUTH": "AUTH"}
_RCPT_PARAM_EXTENSION = {"NOTIFY": "DSN", "ORCPT": "DSN"}


def _param_name(option: str) -> str:
    return option.split("=", 1)[0].upper()


class SMTPConnection:
    """One open, greeted session with the next hop."""

    def __init__(self, host: str, port: int, settings: DeliverySettings, local_hostname: str) -> None:
        self.host = host
        self.port = port
        self.settings = settings
        self.local_hostname = local_hostname
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.extensions: dict[str, str] = {}
        self.tls = False
        self.messages = 0
        self.opened_at = time.monotonic()
        self.last_used = self.opened_at
        self.broken = False
        self.sending_data = False  # set once message content went out: no silent retry after
        self.tls_failed = False  # the STARTTLS handshake failed (opportunistic: retry in plain)

    @property
    def name(self) -> str:
        return f"{self.host}:{self.port}"

    # ----------------------------------------------------------- low level

    async def _read_reply(self, timeout: float) -> tuple[int, str]:
        return (await self._read_replies(1, timeout))[0]

    async def _read_replies(self, count: int, timeout: float) -> list[tuple[int, str]]:
        """`count` replies (a pipelined group shares one deadline: one timer, not one each)."""
        assert self.reader is not None
        replies: list[tuple[int, str]] = []
        with self._session_errors(f"did not answer within {timeout:g} s"):
            async with asyncio.timeout(timeout):
                while len(replies) < count:
                    replies.append(await self._next_reply())
        return replies

    async def _next_reply(self) -> tuple[int, str]:
        assert self.reader is not None
        lines: list[str] = []
        while True:
            raw = await self.reader.readline()
            if not raw:
                raise SMTPReplyError(421, f"4.4.2 next hop {self.name} closed the connection")
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if len(line) < 3 or not line[:3].isdigit():
                raise SMTPReplyError(451, f"4.5.0 next hop {self.name} sent a malformed reply: {line[:80]!r}")
            lines.append(line[4:])
            if line[3:4] != "-" or len(lines) > MAX_REPLY_LINES:
                return int(line[:3]), "\n".join(lines)

    async def _write(self, data: bytes | memoryview, timeout: float) -> None:
        assert self.writer is not None
        with self._session_errors(f"stopped reading for {timeout:g} s"):
            self.writer.write(data)
            transport = self.writer.transport
            # drain() waits only above the high-water mark; below it, skip the timer.
            if transport.get_write_buffer_size() > transport.get_write_buffer_limits()[1]:
                async with asyncio.timeout(timeout):
                    await self.writer.drain()

    @contextlib.contextmanager
    def _session_errors(self, timed_out: str) -> Iterator[None]:
        """A timeout or a broken connection breaks the session: 451 / 421 for the message."""
        try:
            yield
        except TimeoutError:
            self.broken = True
            raise SMTPReplyError(451, f"4.4.2 next hop {self.name} {timed_out}") from None
        except (ConnectionError, OSError, ssl.SSLError) as exc:
            self.broken = True
            log.warning("connection to next hop %s lost: %s", self.name, exc)  # the detail: log only
            raise SMTPReplyError(421, f"4.4.2 connection to next hop {self.name} lost") from None

    async def command(self, line: str, timeout: float | None = None) -> tuple[int, str]:
        await self._write(line.encode("utf-8") + b"\r\n", timeout or self.settings.command_timeout)
        return await self._read_reply(timeout or self.settings.command_timeout)

    # ----------------------------------------------------------- session

    def _tls_context(self) -> ssl.SSLContext:
        policy = self.settings.tls
        if policy == "verified":
            context = ssl.create_default_context(cafile=self.settings.tls_ca_file)
            context.check_hostname = True
            context.verify_mode = ssl.CERT_REQUIRED
        else:  # opportunistic / required: encrypt, do not authenticate (RFC 7435)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    async def _ehlo(self) -> None:
        code, text = await self.command(f"EHLO {self.local_hostname}")
        if code != 250:
            code, text = await self.command(f"HELO {self.local_hostname}")
            if code != 250:
                raise SMTPReplyError(_temp(code), f"4.4.0 next hop {self.name} refused HELO: {code} {text}")
            self.extensions = {}
            return
        self.extensions = {}
        for line in text.splitlines()[1:]:
            keyword, _, params = line.strip().partition(" ")
            self.extensions[keyword.upper()] = params

    async def open(self) -> None:
        """Connect, read the greeting, EHLO, and STARTTLS as the policy says."""
        timeout = self.settings.connect_timeout
        try:
            async with asyncio.timeout(timeout):
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=2**16)
        except TimeoutError:
            raise SMTPReplyError(451, f"4.4.1 next hop {self.name}: no connection within {timeout:g} s") from None
        except (OSError, socket.gaierror) as exc:
            log.warning("next hop %s unreachable: %s", self.name, exc)
            raise SMTPReplyError(451, f"4.4.1 next hop {self.name} unreachable") from None
        code, text = await self._read_reply(timeout)
        if code != 220:
            raise SMTPReplyError(_temp(code), f"4.4.0 next hop {self.name} greeted with {code} {text}")
        await self._ehlo()
        policy = self.settings.tls
        if policy == "none":
            return
        if "STARTTLS" not in self.extensions:
            if policy == "opportunistic":
                return
            raise SMTPReplyError(454, f"4.7.0 next hop {self.name} does not offer STARTTLS (delivery.tls: {policy})")
        code, text = await self.command("STARTTLS")
        if code != 220:
            if policy == "opportunistic":
                return
            raise SMTPReplyError(454, f"4.7.0 next hop {self.name} refused STARTTLS: {code} {text}")
        assert self.writer is not None
        server_name = self.settings.tls_server_name or self.host
        try:
            async with asyncio.timeout(timeout):
                await self.writer.start_tls(self._tls_context(), server_hostname=server_name)
        except (ssl.SSLError, ssl.CertificateError, OSError, TimeoutError) as exc:
            self.broken = True
            self.tls_failed = True
            log.warning("TLS with next hop %s failed: %s", self.name, exc)
            raise SMTPReplyError(454, f"4.7.0 TLS with next hop {self.name} failed") from None
        self.tls = True
        await self._ehlo()

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        """One transaction. Raises SMTPReplyError when the session broke down."""
        self.messages += 1
        self.sending_data = False
        self.last_used = time.monotonic()
        timeout = self.settings.command_timeout
        mail_params = self._mail_params(message)
        rcpt_lines = [
            f"RCPT TO:<{_bare(rcpt)}>" + "".join(" " + o for o in message.options_for(i) if self._rcpt_param_ok(o))
            for i, rcpt in enumerate(message.recipients)
        ]
        mail_line = f"MAIL FROM:<{_bare(message.mail_from)}>" + "".join(" " + p for p in mail_params)
        pipelining = "PIPELINING" in self.extensions
        result = DeliveryResult(next_hop=self.name, tls=self.tls)
        if pipelining:
            batch = "".join(line + "\r\n" for line in [mail_line, *rcpt_lines, "DATA"])
            await self._write(batch.encode("utf-8"), timeout)
            mail_reply, *rcpt_replies, data_reply = await self._read_replies(len(rcpt_lines) + 2, timeout)
        else:
            mail_reply = await self.command(mail_line)
            rcpt_replies = []
            if mail_reply[0] == 250:
                rcpt_replies = [await self.command(line) for line in rcpt_lines]
            data_reply = (503, "not sent")
            if any(200 <= code < 300 for code, _ in rcpt_replies):
                data_reply = await self.command("DATA")
        if mail_reply[0] != 250:
            result.results = [RecipientResult(r, mail_reply[0], f"MAIL FROM: {mail_reply[1]}") for r in message.recipients]
            await self._reset_after_failure(data_reply)
            return result
        accepted = [i for i, (code, _) in enumerate(rcpt_replies) if 200 <= code < 300]
        if not accepted or data_reply[0] != 354:
            data_code = data_reply[0] if data_reply[0] >= 500 else _temp(data_reply[0])
            result.results = [
                RecipientResult(rcpt, code, text)
                if not 200 <= code < 300
                else RecipientResult(rcpt, data_code, f"DATA: {data_reply[1]}")
                for rcpt, (code, text) in zip(message.recipients, rcpt_replies, strict=True)
            ]
            await self._reset_after_failure(data_reply)
            return result
        self.sending_data = True
        data = wire_lines(message.data, self.settings.line_length_limit)
        for piece in dot_stuffed_pieces(data):  # each piece waits for the socket to drain
            await self._write(piece, timeout)
        final_code, final_text = await self._read_reply(timeout)
        for rcpt, (code, text) in zip(message.recipients, rcpt_replies, strict=True):
            if 200 <= code < 300:
                result.results.append(RecipientResult(rcpt, final_code, final_text))
            else:
                result.results.append(RecipientResult(rcpt, code, text))
        return result

    async def _reset_after_failure(self, data_reply: tuple[int, str]) -> None:
        if data_reply[0] == 354:
            # The next hop wants content although nothing was accepted: never send a
            # half transaction; drop the connection instead.
            self.broken = True
            return
        try:
            code, _ = await self.command("RSET")
            if code != 250:
                self.broken = True
        except SMTPReplyError:
            self.broken = True

    def _mail_params(self, message: OutboundMessage) -> list[str]:
        params: list[str] = []
        for option in message.mail_options:
            name = _param_name(option)
            if name == "SIZE":
                continue
            extension = _MAIL_PARAM_EXTENSION.get(name)
            if extension is None or extension in self.extensions:
                params.append(option)
        if "SIZE" in self.extensions:
            params.insert(0, f"SIZE={len(message.data)}")
        return params

    def _rcpt_param_ok(self, option: str) -> bool:
        extension = _RCPT_PARAM_EXTENSION.get(_param_name(option))
        return extension is None or extension in self.extensions

    async def close(self, polite: bool = True) -> None:
        if self.writer is None:
            return
        if polite and not self.broken:
            with contextlib.suppress(Exception):
                await self.command("QUIT", timeout=2.0)
        self.writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer.wait_closed(), 2.0)
        self.writer = None


def _bare(address: str) -> str:
    """An address without the angle brackets some callers include ("<>" is the null sender)."""
    address = address.strip()
    if address.startswith("<") and address.endswith(">"):
        address = address[1:-1]
    return address


def _temp(code: int) -> int:
    """A code to give the client when the next hop misbehaved: keep 4xx, turn others into 451."""
    return code if 400 <= code < 500 else 451


class DeliveryPool:
    """A bounded pool of reused connections to the next hop.

    At most `pool_size` connections exist at once (callers beyond that wait their turn);
    an idle connection is reused if it is younger than `pool_idle_seconds` since its last
    message and has carried fewer than `messages_per_connection` messages. A reused
    connection that turns out dead before any content went out is replaced once,
    transparently; after content went out a failure is a 4xx (a duplicate, never a loss).
    """

    def __init__(self, settings: DeliverySettings, local_hostname: str) -> None:
        if not settings.upstream:
            raise ValueError("DeliveryPool needs delivery.upstream")
        self.settings = settings
        self.host, self.port = parse_hostport(settings.upstream)
        self.local_hostname = local_hostname
        self._slots = asyncio.Semaphore(settings.pool_size)
        self._idle: list[SMTPConnection] = []
        self._closed = False
        self.opened = 0  # connections opened so far (tests and metrics)

    @property
    def description(self) -> str:
        return f"smtp://{self.host}:{self.port} (tls {self.settings.tls})"

    async def deliver(self, message: OutboundMessage, tls: str | None = None) -> DeliveryResult:
        """Send one message; never raises for SMTP or network trouble (4xx results instead).

        `tls` overrides `delivery.tls` for this message only (the `require_tls` action
        asks for "verified"); such a message gets its own connection, never a pooled one.
        """
        if not message.recipients:
            return DeliveryResult(next_hop=f"{self.host}:{self.port}")
        if tls is not None and tls != self.settings.tls:
            return await self._deliver_with_tls(message, tls)
        async with self._slots:
            for attempt in (1, 2):
                conn, reused = await self._take()
                try:
                    if conn is None:
                        conn = SMTPConnection(self.host, self.port, self.settings, self.local_hostname)
                        self.opened += 1
                        await conn.open()
                    result = await conn.send(message)
                except SMTPReplyError as exc:
                    if conn is not None:
                        await conn.close(polite=False)
                    if reused and attempt == 1 and not conn.sending_data:
                        log.info("pooled connection to %s:%s was stale (%s); reconnecting", self.host, self.port, exc)
                        continue
                    if conn.tls_failed and self.settings.tls == "opportunistic":
                        # RFC 7435: opportunistic TLS that cannot be set up falls back to plain.
                        log.warning("%s; delivering without TLS (delivery.tls: opportunistic)", exc.message)
                        break
                    return DeliveryResult(
                        [RecipientResult(r, exc.code, exc.message) for r in message.recipients],
                        next_hop=f"{self.host}:{self.port}",
                    )
                except asyncio.CancelledError:
                    if conn is not None:
                        await conn.close(polite=False)
                    raise
                self._give_back(conn)
                return result
        return await self._deliver_with_tls(message, "none")

    async def _deliver_with_tls(self, message: OutboundMessage, tls: str) -> DeliveryResult:
        settings = self.settings.model_copy(update={"tls": tls})
        async with self._slots:
            conn = SMTPConnection(self.host, self.port, settings, self.local_hostname)
            self.opened += 1
            try:
                await conn.open()
                result = await conn.send(message)
            except SMTPReplyError as exc:
                await conn.close(polite=False)
                return DeliveryResult([RecipientResult(r, exc.code, exc.message) for r in message.recipients],
                                      next_hop=f"{self.host}:{self.port}")
            except asyncio.CancelledError:
                await conn.close(polite=False)
                raise
            await conn.close()
            return result

    async def _take(self) -> tuple[SMTPConnection | None, bool]:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            fresh = now - conn.last_used < self.settings.pool_idle_seconds
            if fresh and not conn.broken and conn.messages < self.settings.messages_per_connection:
                return conn, True
            await conn.close()
        return None, False

    def _give_back(self, conn: SMTPConnection) -> None:
        if self._closed or conn.broken or conn.messages >= self.settings.messages_per_connection:
            asyncio.get_running_loop().create_task(conn.close(polite=not conn.broken))
            return
        conn.last_used = time.monotonic()
        self._idle.append(conn)

    async def close_idle(self) -> None:
        """Close connections idle longer than `pool_idle_seconds` (called periodically)."""
        now = time.monotonic()
        keep: list[SMTPConnection] = []
        stale: list[SMTPConnection] = []
        for conn in self._idle:
            (keep if now - conn.last_used < self.settings.pool_idle_seconds else stale).append(conn)
        self._idle = keep
        await asyncio.gather(*(c.close() for c in stale), return_exceptions=True)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        await asyncio.gather(*(c.close() for c in idle), return_exceptions=True)


def recipients_with_options(
    recipients: Sequence[str], all_recipients: Sequence[str], all_options: Sequence[tuple[str, ...]]
) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Pick a subset of the envelope's recipients together with their own RCPT options."""
    options = {rcpt: (all_options[i] if i < len(all_options) else ()) for i, rcpt in enumerate(all_recipients)}
    chosen = tuple(recipients)
    return chosen, tuple(options.get(r, ()) for r in chosen)


_HEADER_UNSAFE = re.compile(r"[\r\n]+")


def header_line(name: str, value: str) -> bytes:
    """One trace header, CR/LF removed from the value, folded nowhere (values are short)."""
    return f"{name}: {_HEADER_UNSAFE.sub(' ', value)}\r\n".encode()
