"""Reusable helpers for end-to-end tests: a recording SMTP sink and the real gateway process.

`Sink` — an aiosmtpd server on a free loopback port, in its own thread, that records
every envelope and the exact bytes it received. Tell it how to answer:

    with Sink() as sink:                      # accepts everything
        sink.mode = "tempfail"                # 451 at end of DATA ("reject": 550, "hang": no answer)
        sink.refuse_rcpt = {"bad@x.test"}     # 550 for those recipients at RCPT
        sink.wait_for(1)                      # block until one message arrived
        sink.messages[0].data                 # bytes as received (dot-unstuffed)
        sink.wire                             # every byte the clients sent, as on the wire

`start_gateway(tmp_path, upstream=..., config={...})` — runs `python -m dlp_gateway serve`
as a subprocess with a fresh data dir and config under tmp_path, on free ports (SMTP and
metrics), waits until it listens, and returns a `GatewayProcess` (`.port`,
`.metrics_port`, `.data_dir`, `.log()`, `.stop()` (SIGTERM + wait), `.kill()`,
`.hup()`). Use it as a context manager so it is always stopped.

`send(port, ...)` — one message through smtplib, returning (code, text) of the end of
DATA instead of raising, so tests can assert on refusals. `make_message(...)` builds a
small RFC 5322 message as bytes with CRLF line ends.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiosmtpd.smtp import SMTP

REPO = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- sink


@dataclass
class ReceivedMessage:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    mail_options: list[str]
    tls: bool


@dataclass
class Sink:
    """A recording next hop on 127.0.0.1 (see the module docstring)."""

    tls_context: ssl.SSLContext | None = None
    mode: str = "accept"  # accept | tempfail | reject | hang
    refuse_rcpt: set[str] = field(default_factory=set)
    hang_seconds: float = 30.0
    delay_seconds: float = 0.0  # wait this long before answering DATA (mode "accept")
    pipelining: bool = True  # advertise PIPELINING (aiosmtpd reads pipelined commands in order)
    hangup_after_data: bool = False  # close the connection right after answering DATA
    messages: list[ReceivedMessage] = field(default_factory=list)
    wire: bytearray = field(default_factory=bytearray)  # all bytes received from clients, unparsed
    connections: int = 0
    port: int = 0

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._arrived = threading.Condition()
        self.data_started = threading.Event()  # set when a message's DATA has been received

    # aiosmtpd hooks ---------------------------------------------------------
    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address in self.refuse_rcpt:
            return f"550 5.1.1 <{address}>: recipient unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_started.set()
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if self.mode == "hang":
            await asyncio.sleep(self.hang_seconds)
            return "451 4.4.2 sink hung"
        if self.mode == "tempfail":
            return "451 4.3.0 sink says try later"
        if self.mode == "reject":
            return "550 5.7.1 sink refuses this message"
        with self._arrived:
            self.messages.append(
                ReceivedMessage(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    bytes(envelope.original_content),
                    list(envelope.mail_options),
                    session.ssl is not None,
                )
            )
            self._arrived.notify_all()
        if self.hangup_after_data and server.transport is not None:
            self._loop.call_later(0.05, server.transport.close)
        return "250 2.0.0 queued by sink"

    # lifecycle --------------------------------------------------------------
    def _factory(self) -> SMTP:
        self.connections += 1
        wire = self.wire

        class RecordingSMTP(SMTP):
            def data_received(self, data: bytes) -> None:
                wire.extend(data)
                super().data_received(data)

        return RecordingSMTP(self, enable_SMTPUTF8=True, hostname="sink.test", tls_context=self.tls_context, loop=self._loop)

    def start(self) -> Sink:
        self._thread.start()

        async def make() -> asyncio.Server:
            return await self._loop.create_server(self._factory, "127.0.0.1", 0)

        self._server = asyncio.run_coroutine_threadsafe(make(), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def wait_for(self, count: int, timeout: float = 15.0) -> list[ReceivedMessage]:
        """Block until at least `count` messages arrived; fail the test otherwise."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"sink got {len(self.messages)} message(s), expected {count}")
                self._arrived.wait(left)
            return list(self.messages)

    def __enter__(self) -> Sink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- gateway process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_config(data_dir: Path) -> dict[str, Any]:
    """A small config suited to tests: one worker, short timeouts, decision log in the data dir."""
    return {
        "data_dir": str(data_dir),
        "smtp": {"listen": "127.0.0.1:0", "hostname": "gateway.test", "idle_timeout": 30},
        "delivery": {"tls": "none", "connect_timeout": 5, "command_timeout": 10},
        "log": {"decision_log": str(data_dir / "decisions.jsonl")},
        "workers": {"processes": 1, "shutdown_grace_seconds": 10},
    }


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


@dataclass
class GatewayProcess:
    proc: subprocess.Popen[bytes]
    data_dir: Path
    config_path: Path
    log_path: Path
    port: int = 0
    metrics_port: int | None = None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def decisions(self) -> list[dict[str, Any]]:
        import json

        path = self.data_dir / "decisions.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def wait_listening(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log()
            match = re.search(r"SMTP listening on [^\s:]+:(\d+)", text)
            if match:
                self.port = int(match.group(1))
                metrics = re.search(r"metrics on http://[^\s]+:(\d+)/metrics", text)
                self.metrics_port = int(metrics.group(1)) if metrics else None
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"gateway exited with {self.proc.returncode}:\n{text}")
            time.sleep(0.05)
        raise AssertionError(f"gateway did not start listening within {timeout}s:\n{self.log()}")

    def hup(self) -> None:
        self.proc.send_signal(signal.SIGHUP)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def kill(self) -> None:
        """kill -9, the way a crash looks (the worker processes die with the parent's socket)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def __enter__(self) -> GatewayProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_gateway(
    tmp_path: Path,
    *,
    upstream: str | None = None,
    config: dict[str, Any] | None = None,
    metrics: bool = True,
    data_dir: Path | None = None,
    name: str = "gw",
) -> GatewayProcess:
    """Start the real gateway (see the module docstring); reuse `data_dir` to test restarts."""
    data_dir = data_dir or tmp_path / f"{name}-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    cfg = deep_merge(base_config(data_dir), config or {})
    if upstream:
        cfg = deep_merge(cfg, {"delivery": {"upstream": upstream}})
    config_path = tmp_path / f"{name}-config.yaml"
    config_path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    log_path = tmp_path / f"{name}-{int(time.time() * 1000)}.log"
    args = [sys.executable, "-m", "dlp_gateway", "serve", "--config", str(config_path)]
    if metrics:
        args += ["--metrics", "127.0.0.1:0"]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(args, cwd=REPO, stdout=log_file, stderr=subprocess.STDOUT, env=env)
    gw = GatewayProcess(proc, data_dir, config_path, log_path)
    try:
        gw.wait_listening()
    except BaseException:
        gw.kill()
        raise
    return gw


# --------------------------------------------------------------------------- test PKI


@dataclass
class PKI:
    """A throwaway CA and a server certificate for `localhost` / 127.0.0.1 (PEM files)."""

    ca_cert: Path
    server_cert: Path
    server_key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.server_cert, self.server_key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Verifies the server against this CA and the name `localhost`."""
        return ssl.create_default_context(cafile=str(self.ca_cert))


def make_pki(directory: Path, name: str = "localhost") -> PKI:
    """Generate a CA and a server certificate signed by it (ECDSA P-256, valid one day)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dlp-gateway test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pki = PKI(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    pki.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.server_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return pki


# --------------------------------------------------------------------------- client side


def make_message(
    subject: str = "hello",
    body: str = "Just a normal message.\r\n",
    sender: str = "alice@example.test",
    to: str = "bob@example.test",
    extra_headers: str = "",
) -> bytes:
    text = (
        f"From: <{sender}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
        f"Message-ID: <{time.time_ns()}@example.test>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n{extra_headers}\r\n{body}"
    )
    return text.encode("utf-8")


def send(
    port: int,
    data: bytes,
    sender: str = "alice@example.test",
    rcpts: list[str] | tuple[str, ...] = ("bob@example.test",),
    *,
    starttls: ssl.SSLContext | None = None,
    mail_options: tuple[str, ...] = (),
    timeout: float = 60.0,
) -> tuple[int, str]:
    """Send one message; return the (code, text) that ended the transaction."""
    with smtplib.SMTP("127.0.0.1", port, timeout=timeout) as client:
        client.ehlo("client.test")
        if starttls is not None:
            client.starttls(context=starttls)
            client.ehlo("client.test")
        code, text = client.mail(sender, list(mail_options))
        if code != 250:
            return code, text.decode("utf-8", "replace")
        for rcpt in rcpts:
            code, text = client.rcpt(rcpt)
            if code not in (250, 251):
                return code, text.decode("utf-8", "replace")
        code, text = client.data(data)
        return code, text.decode("utf-8", "replace")


def body_of(data: bytes) -> bytes:
    """Strip the trace headers the gateway prepends (Received / X-DLP-*) from a received message."""
    lines = data.split(b"\r\n")
    index = 0
    while index < len(lines) and (
        lines[index].startswith(b"Received:") or lines[index].startswith(b"X-DLP-") or lines[index][:1] in (b" ", b"\t")
    ):
        index += 1
    return b"\r\n".join(lines[index:])


def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


__all__ = [
    "GatewayProcess",
    "PKI",
    "make_pki",
    "ReceivedMessage",
    "Sink",
    "base_config",
    "body_of",
    "free_port",
    "make_message",
    "send",
    "start_gateway",
    "wait_until",
]
