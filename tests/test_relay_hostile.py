"""Hostile clients against the real gateway process over loopback (issue #13).

Each test reproduces an attack on the relay: a client outside the allowed networks,
clients that dribble commands or DATA a byte at a time, slow clients holding every
connection, clients that never finish DATA, SMTP smuggling with a bare CR, control
characters in envelope addresses, and a failure whose reply could show internal paths.
Every wait is bounded, so a regression fails instead of hanging.
"""

from __future__ import annotations

import re
import smtplib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gatewayproc import GatewayProcess, Sink, make_message, send, start_gateway, wait_until

pytestmark = pytest.mark.slow


# ------------------------------------------------------------------ a raw client


class Client:
    """A line-level SMTP client on a plain socket: it sends exactly the bytes it is given."""

    def __init__(self, port: int, source: str | None = None, timeout: float = 20.0) -> None:
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout=timeout, source_address=(source, 0) if source else None
        )
        self.reader = self.sock.makefile("rb")

    def reply(self) -> bytes:
        """The next complete reply; its last line (b"" when the server closed)."""
        while True:
            line = self.reader.readline()
            if not line or line[3:4] != b"-":
                return line

    def command(self, line: bytes) -> bytes:
        self.sock.sendall(line)
        return self.reply()

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


def start_transaction(client: Client) -> None:
    assert client.reply().startswith(b"220")
    assert client.command(b"EHLO client.test\r\n").startswith(b"250")
    assert client.command(b"MAIL FROM:<alice@example.test>\r\n").startswith(b"250")
    assert client.command(b"RCPT TO:<bob@example.test>\r\n").startswith(b"250")
    assert client.command(b"DATA\r\n").startswith(b"354")


def dribble_until_closed(
    client: Client, byte: bytes, interval: float, limit: float, stop: threading.Event | None = None
) -> tuple[bytes, float]:
    """Send `byte` every `interval` s until the server answers; (its reply, seconds)."""
    started = time.monotonic()
    client.sock.settimeout(interval)
    received = b""
    while time.monotonic() - started < limit and not (stop and stop.is_set()):
        try:
            client.sock.sendall(byte)
        except OSError:
            break  # closed under us: what it said was read below
        try:
            chunk = client.sock.recv(4096)
        except TimeoutError:
            continue
        received += chunk
        if not chunk or b"\n" in received:
            break
    return received, time.monotonic() - started


def rss_kib(pid: int) -> int:
    """Resident memory of a process (psutil is not installed: /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]


# ------------------------------------------------------------------ one gateway for the module


@pytest.fixture(scope="module")
def next_hop() -> Iterator[Sink]:
    with Sink() as sink:
        yield sink


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, next_hop: Sink) -> Iterator[GatewayProcess]:
    """Default smtp settings (the deadlines tested are the shipped ones)."""
    with start_gateway(Path(tmp_path_factory.mktemp("hostile")), upstream=next_hop.address) as gw:
        yield gw


@pytest.fixture(autouse=True)
def fresh_sink(request: pytest.FixtureRequest) -> None:
    if "next_hop" in request.fixturenames:
        sink: Sink = request.getfixturevalue("next_hop")
        sink.messages.clear()
        sink.wire.clear()


# ------------------------------------------------------------------ connections


def test_client_outside_the_allowed_networks_gets_554_at_connect_and_takes_no_slot(tmp_path: Path) -> None:
    # 127.0.0.2 is loopback too, but not in the allowed network; one connection slot.
    config = {"smtp": {"allowed_networks": ["127.0.0.1/32"], "max_connections": 1, "shed_after": 600}}
    with start_gateway(tmp_path, config=config, metrics=False) as gw:
        outsiders = [Client(gw.port, source="127.0.0.2") for _ in range(3)]
        try:
            for outsider in outsiders:
                greeting = outsider.reply()
                assert greeting.startswith(b"554 5.7.1"), greeting
                assert outsider.reply() == b""  # closed by the gateway
            # The outsiders' sockets are still open on this side; the one slot is free.
            assert send(gw.port, make_message(), timeout=10)[0] == 250
        finally:
            for outsider in outsiders:
                outsider.close()
        assert "not in smtp.allowed_networks" in gw.log()


def test_a_command_dribbled_a_byte_at_a_time_is_cut_off_at_its_deadline(tmp_path: Path) -> None:
    with start_gateway(tmp_path, config={"smtp": {"idle_timeout": 2}}, metrics=False) as gw:
        client = Client(gw.port)
        try:
            assert client.reply().startswith(b"220")
            answer, seconds = dribble_until_closed(client, b"X", interval=0.25, limit=12)
        finally:
            client.close()
    assert answer.startswith(b"421 4.4.2"), answer
    assert seconds < 4


def test_data_dribbled_a_byte_a_second_is_cut_off_within_a_minute(gateway: GatewayProcess, next_hop: Sink) -> None:
    client = Client(gateway.port, timeout=90)
    try:
        start_transaction(client)
        client.sock.sendall(b"Subject: slow\r\n\r\n")
        answer, seconds = dribble_until_closed(client, b"a", interval=1.0, limit=75)
    finally:
        client.close()
    assert answer.startswith(b"421 4.4.2"), answer
    assert seconds < 60
    assert next_hop.messages == []


def test_slow_clients_on_every_connection_do_not_lock_out_a_normal_client(tmp_path: Path) -> None:
    slots = 25
    stop = threading.Event()
    connected = threading.Semaphore(0)

    def slowloris(port: int) -> None:
        while not stop.is_set():
            try:
                client = Client(port, timeout=5)
            except OSError:
                time.sleep(0.2)
                continue
            try:
                if client.reply().startswith(b"220"):
                    connected.release()
                    dribble_until_closed(client, b"E", interval=1.0, limit=120, stop=stop)
            except OSError:
                pass
            finally:
                client.close()
            time.sleep(0.05)  # and straight back

    with start_gateway(tmp_path, config={"smtp": {"max_connections": slots}}, metrics=False) as gw:
        threads = [threading.Thread(target=slowloris, args=(gw.port,), daemon=True) for _ in range(slots)]
        for thread in threads:
            thread.start()
        try:
            for _ in range(slots):
                assert connected.acquire(timeout=20)
            time.sleep(2)  # every slot held by a client that has not finished a command
            for attempt in range(10):
                started = time.monotonic()
                try:
                    code, _ = send(gw.port, make_message(subject=f"normal {attempt}"), timeout=10)
                except smtplib.SMTPConnectError as exc:
                    pytest.fail(f"attempt {attempt}: locked out: {exc}")
                assert code == 250
                assert time.monotonic() - started < 5
        finally:
            stop.set()
            for thread in threads:
                thread.join(10)
        assert "shedding" in gw.log()


def test_a_new_client_waits_for_a_slot_instead_of_being_refused(tmp_path: Path) -> None:
    # The one session is busy sending a message at a good rate: it cannot be shed.
    config = {"smtp": {"max_connections": 1, "shed_after": 600}}
    with start_gateway(tmp_path, config=config, metrics=False) as gw:
        first = Client(gw.port)
        try:
            assert first.reply().startswith(b"220")
            second = socket.create_connection(("127.0.0.1", gw.port), timeout=1)
            try:
                with pytest.raises(TimeoutError):
                    second.recv(100)  # not greeted while the slot is taken
                first.command(b"QUIT\r\n")
                second.settimeout(10)
                assert second.recv(100).startswith(b"220")
            finally:
                second.close()
        finally:
            first.close()


def test_unfinished_data_of_eight_clients_does_not_grow_memory(tmp_path: Path) -> None:
    clients, size, piece = 8, 40 * 1024 * 1024, b"x" * 1023 + b"\n"
    with start_gateway(tmp_path, metrics=False) as gw:
        assert send(gw.port, make_message())[0] == 250  # warm: workers started, code loaded
        before = rss_kib(gw.proc.pid)
        peak = before
        sent = [0] * clients
        outcome: list[str] = []
        errors: list[BaseException] = []
        block = piece * 1024  # 1 MiB

        def unfinished(n: int) -> None:
            try:
                client = Client(gw.port, timeout=60)
                start_transaction(client)
                try:
                    while sent[n] < size:
                        client.sock.sendall(block)
                        sent[n] += len(block)
                    time.sleep(3)  # and never the final dot
                    outcome.append("held")
                except OSError:  # closed by the gateway: over smtp.max_unfinished_data_bytes
                    try:
                        outcome.append(client.reply().decode(errors="replace"))
                    except OSError:
                        outcome.append("closed")  # reset: the 421 went with the unread input
                client.close()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=unfinished, args=(n,), daemon=True) for n in range(clients)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 120
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            peak = max(peak, rss_kib(gw.proc.pid))
            time.sleep(0.05)
        assert not errors, errors
        assert all(o in ("held", "closed") or o.startswith("421 4.3.1") for o in outcome), outcome
        growth_mib = (peak - before) / 1024
        assert growth_mib < 150, f"RSS grew by {growth_mib:.0f} MiB"
        assert send(gw.port, make_message(), timeout=20)[0] == 250  # still serving


# ------------------------------------------------------------------ nothing smuggled through

SMUGGLED = b"MAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\nsmuggled\r\n"


def test_a_bare_cr_end_of_data_smuggles_nothing_through_the_next_hop(gateway: GatewayProcess, next_hop: Sink) -> None:
    # The "<CR>.<CR>" of CVE-2023-51766, and its bare-LF cousins, followed by commands.
    body = (
        b"first\r.\r" + SMUGGLED.replace(b"\r\n", b"\r") + b".\r"
        + b"second\n.\n" + SMUGGLED.replace(b"\r\n", b"\n") + b".\n"
        + b"third\n.\r\n" + SMUGGLED + b".\n"
        + b"end\r\n"
    )
    client = Client(gateway.port)
    try:
        start_transaction(client)
        client.sock.sendall(b"Subject: smuggling\r\n\r\n" + body + b".\r\n")
        assert client.reply().startswith(b"250")
        assert client.command(b"QUIT\r\n").startswith(b"221")
    finally:
        client.close()
    next_hop.wait_for(1)
    time.sleep(0.5)  # a smuggled second message would arrive right after
    assert [m.mail_from for m in next_hop.messages] == ["alice@example.test"]
    wire = bytes(next_hop.wire)
    assert re.search(rb"\r(?!\n)|(?<!\r)\n", wire) is None, "a bare CR or LF reached the next hop"
    # Read as a next hop that ends lines at any CR or LF would: one transaction.
    commands, in_data = [], False
    for line in re.split(rb"\r\n|\r|\n", wire):
        if in_data:
            in_data = line != b"."
        else:
            commands.append(line.split(b":")[0].split(b" ")[0].upper())
            in_data = line.upper() == b"DATA"
    assert commands.count(b"MAIL") == 1 and commands.count(b"DATA") == 1, commands
    assert b"smuggled" in next_hop.messages[0].data  # the bytes went on as the message's content


def test_bare_line_endings_can_be_refused_instead(tmp_path: Path, next_hop: Sink) -> None:
    config = {"smtp": {"bare_line_endings": "reject"}}
    with start_gateway(tmp_path, upstream=next_hop.address, config=config, metrics=False) as gw:
        client = Client(gw.port)
        try:
            start_transaction(client)
            client.sock.sendall(b"Subject: s\r\n\r\nfirst\r.\rMAIL FROM:<evil@attacker.test>\r\n.\r\n")
            assert client.reply().startswith(b"550 5.6.11")
            # The session goes on, and a clean message passes.
            assert client.command(b"MAIL FROM:<alice@example.test>\r\n").startswith(b"250")
        finally:
            client.close()
    assert next_hop.messages == []


BAD_ADDRESSES = {
    "CR": b"<a\rb@example.test>",
    "LF": b"<a\nb@example.test>",
    "NUL": b"<a\x00b@example.test>",
    "ESC": b"<a\x1bcb@example.test>",  # ESC c: a terminal's full reset
    "BEL": b"<a\x07b@example.test>",
    "DEL": b"<a\x7fb@example.test>",
    "TAB": b"<a\tb@example.test>",
    "unterminated <": b"<a\n",
}


def codes_until_noop(client: Client, line: bytes) -> list[bytes]:
    """Send `line` then NOOP; the reply codes up to NOOP's (a bare LF may make two commands)."""
    client.sock.sendall(line + b"NOOP\r\n")
    codes = []
    while True:
        reply = client.reply()
        assert reply, "connection closed"
        if reply == b"250 OK\r\n":  # NOOP's
            return codes
        codes.append(reply[:3])


@pytest.mark.parametrize("kind", list(BAD_ADDRESSES))
def test_sender_with_a_control_character_is_refused(gateway: GatewayProcess, next_hop: Sink, kind: str) -> None:
    address = BAD_ADDRESSES[kind]
    client = Client(gateway.port)
    try:
        assert client.reply().startswith(b"220")
        assert client.command(b"EHLO client.test\r\n").startswith(b"250")
        line = b"MAIL FROM:" + address + (b"" if address.endswith(b"\n") else b"\r\n")
        codes = codes_until_noop(client, line)
        assert codes[0] in (b"501", b"553"), codes
        assert b"250" not in codes, codes
        # No sender was taken: a recipient now is out of order.
        assert client.command(b"RCPT TO:<bob@example.test>\r\n").startswith(b"503")
    finally:
        client.close()
    assert_nothing_of_it_went_anywhere(gateway, next_hop, address)


@pytest.mark.parametrize("kind", list(BAD_ADDRESSES))
def test_recipient_with_a_control_character_is_refused(gateway: GatewayProcess, next_hop: Sink, kind: str) -> None:
    address = BAD_ADDRESSES[kind]
    client = Client(gateway.port)
    try:
        assert client.reply().startswith(b"220")
        assert client.command(b"EHLO client.test\r\n").startswith(b"250")
        assert client.command(b"MAIL FROM:<alice@example.test>\r\n").startswith(b"250")
        line = b"RCPT TO:" + address + (b"" if address.endswith(b"\n") else b"\r\n")
        codes = codes_until_noop(client, line)
        assert codes[0] in (b"501", b"553"), codes
        assert b"250" not in codes, codes
        assert client.command(b"DATA\r\n").startswith(b"503")  # no recipient was taken
    finally:
        client.close()
    assert_nothing_of_it_went_anywhere(gateway, next_hop, address)


def assert_nothing_of_it_went_anywhere(gateway: GatewayProcess, next_hop: Sink, address: bytes) -> None:
    assert next_hop.messages == [] and bytes(next_hop.wire) == b""
    control = re.sub(rb"[ -~]", b"", address.replace(b"\n", b""))  # the control characters in it
    log = gateway.log_path.read_bytes()
    for char in control:
        assert bytes([char]) not in log, f"{char:#x} written to the log"
    for decision in gateway.decisions():
        assert not any(re.search(r"[\x00-\x1f\x7f]", text) for text in strings_in(decision)), decision


def strings_in(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def test_helo_with_a_control_character_is_refused(gateway: GatewayProcess) -> None:
    # The HELO name goes into the Received header and the decision log.
    client = Client(gateway.port)
    try:
        assert client.reply().startswith(b"220")
        assert client.command(b"EHLO client\x1b[2J.test\r\n").startswith(b"501")
        assert client.command(b"MAIL FROM:<alice@example.test>\r\n").startswith(b"503")  # no EHLO taken
    finally:
        client.close()


def test_an_unknown_command_with_control_characters_reaches_no_log_or_reply_raw(gateway: GatewayProcess) -> None:
    client = Client(gateway.port)
    try:
        assert client.reply().startswith(b"220")
        reply = client.command(b"\x1b]0;owned\x07\x1b[2J\r\n")  # set the title, clear the screen
        assert reply.startswith(b"500"), reply
        assert b"\x1b" not in reply and b"\x07" not in reply
        assert client.command(b"QUIT\r\n").startswith(b"221")
    finally:
        client.close()
    assert wait_until(lambda: "not recognized" in gateway.log())
    log = gateway.log_path.read_bytes()
    assert b"\x1b" not in log and b"\x07" not in log


# ------------------------------------------------------------------ replies


def test_a_failed_delivery_reply_shows_no_path_or_exception_text(tmp_path: Path) -> None:
    with start_gateway(tmp_path, metrics=False) as gw:  # no next hop: into <data-dir>/maildir
        assert send(gw.port, make_message())[0] == 250
        tmp_dir = gw.data_dir / "maildir" / "tmp"
        for leftover in tmp_dir.iterdir():
            leftover.unlink()
        tmp_dir.rmdir()
        tmp_dir.write_text("not a directory")  # the next delivery fails with an OSError
        code, text = send(gw.port, make_message())
        assert wait_until(lambda: "cannot write to the Maildir" in gw.log())
        log = gw.log()
    assert code == 451, text
    assert str(tmp_path) not in text and "/" not in text, text
    assert "Errno" not in text and "Error" not in text, text
    assert str(gw.data_dir) in log  # the detail is in the log
