"""The SMTP server's fast paths (smtp/server.py, performance changes) behave exactly as
aiosmtpd's own code. For CRLF input the DATA reader gives aiosmtpd's replies and message
bytes for dot-stuffing, lone dots, size limits, pipelined commands after the end of DATA,
and any split of the bytes into TCP segments (bare CR/LF and long lines are deliberately
read differently: normalised and accepted, see test_relay_hostile.py and
test_smtp_long_lines.py). Delivery writes large messages in dot-stuffed pieces equal to
`dot_stuff`.
"""

from __future__ import annotations

import asyncio
import random
import types
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP

from dlp_gateway.smtp.server import RelaySMTP

SIZE_LIMIT = 5000

CASES = {
    "empty message": b".\r\n",
    "one line": b"a\r\n.\r\n",
    "stuffed lone dot": b"..\r\n.\r\n",
    "stuffed leading dots": b".a\r\n..b\r\n.\r\n",
    "line ending in a dot": b"end.\r\n.\r\n",
    "empty last line": b"x\r\n\r\n.\r\n",
    "dots everywhere": b"dot.\r\n..\r\n...\r\n.\r\n",
    "8-bit bytes": b"\xff\xfe\r\n.\r\n",
    "a 998-octet line": b"a" * 998 + b"\r\n.\r\n",
    "just under the size limit": (b"y" * 98 + b"\r\n") * 49 + b".\r\n",
    "over the size limit": (b"y" * 98 + b"\r\n") * 60 + b".\r\n",
}

EXPECTED = {"over the size limit": b"552"}


class Recorder:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.original_content)
        return "250 OK"


class ReferenceSMTP(SMTP):
    line_length_limit = 100_000  # aiosmtpd's line limit out of the way: ours has none in DATA


def fake_inbound() -> Any:
    """What RelaySMTP asks of its InboundServer, with the default settings and no pressure."""
    from dlp_gateway.smtp.settings import ServerSettings

    return types.SimpleNamespace(
        settings=types.SimpleNamespace(smtp=ServerSettings()),
        session_closed=lambda protocol: None,
        hostname="test",
        unfinished_bytes=0,
        handler=types.SimpleNamespace(peer_allowed=lambda peer: True),
        admit_session=lambda protocol: True,
        under_stress=lambda: False,
        idle_timeout=lambda: 300.0,
    )


async def start(kind: str, handler: Recorder) -> tuple[asyncio.Server, int]:
    inbound = fake_inbound()
    common = {"hostname": "test", "data_size_limit": SIZE_LIMIT, "decode_data": False, "enable_SMTPUTF8": True}

    def factory() -> SMTP:
        if kind == "gateway":
            return RelaySMTP(handler, inbound, **common)  # type: ignore[arg-type]
        return ReferenceSMTP(handler, **common)

    server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def exchange(port: int, payload: bytes, seed: int) -> list[bytes]:
    """One session: the message, then a second pipelined one; bytes sent in random pieces."""
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    wire = (
        b"EHLO client\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n" + payload
        + b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nsecond\r\n.\r\nQUIT\r\n"
    )
    sent = 0
    while sent < len(wire):
        size = rng.randint(1, 60)
        writer.write(wire[sent:sent + size])
        await writer.drain()
        sent += size
        if rng.random() < 0.3:
            await asyncio.sleep(0)
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return [line[:3] for line in answer.split(b"\r\n") if line[:1].isdigit() and line[3:4] == b" "]


@pytest.mark.parametrize("name", list(CASES))
def test_fast_data_reader_matches_aiosmtpd(name: str) -> None:
    async def main() -> None:
        reference, ours = Recorder(), Recorder()
        ref_server, ref_port = await start("aiosmtpd", reference)
        our_server, our_port = await start("gateway", ours)
        try:
            for seed in range(2):
                expected = await exchange(ref_port, CASES[name], seed)
                got = await exchange(our_port, CASES[name], seed + 100)
                assert got == expected
            assert ours.messages == reference.messages
            first_data_reply = got[4]  # greeting, EHLO, MAIL, RCPT, 354, then this
            assert first_data_reply == EXPECTED.get(name, b"250")
            assert ours.messages[-1] == b"second\r\n"
        finally:
            ref_server.close()
            our_server.close()

    asyncio.run(main())


@pytest.mark.parametrize(
    "data",
    [b"", b".", b".a\r\nb\r\n.c\r\n", b"a\n.b\r\n", b"no final newline", b"x\r\n", b"\r\n.\r\n",
     (b"line\r\n.dot\r\n" * 50_000), b"a" * 3_000_001],
)
def test_delivery_writes_dot_stuffed_pieces_equal_to_dot_stuff(data: bytes) -> None:
    from dlp_gateway.smtp.delivery import dot_stuff, dot_stuffed_pieces

    pieces = list(dot_stuffed_pieces(data, piece=64 * 1024))
    assert b"".join(pieces) == dot_stuff(data)
    assert all(len(p) <= 64 * 1024 for p in pieces)


def test_line_length_check_is_a_linear_scan_equal_to_its_definition() -> None:
    """A line (ended by LF, bare or not) with its ending longer than `limit` is over long."""
    import re

    from dlp_gateway.smtp.delivery import _longest_line_exceeds

    rng = random.Random(7)
    for _ in range(2000):
        limit = rng.choice([5, 10, 1000])
        data = bytes(rng.choice(b"ab\r\n") if rng.random() < 0.2 else 97 for _ in range(rng.randint(0, 3 * limit)))
        expected = re.search(rb"[^\n]{%d}" % limit, data) is not None
        assert _longest_line_exceeds(data, limit) == expected, (limit, data)


def test_line_length_check_finds_lines_that_cross_scan_chunks(monkeypatch) -> None:
    """The scan reads a few MB at a time; a long line split across two reads still counts."""
    import re

    from dlp_gateway.smtp import delivery as server

    monkeypatch.setattr(server, "_LINE_SCAN_CHUNK", 7)
    rng = random.Random(11)
    for _ in range(2000):
        limit = rng.choice([3, 6, 7, 8, 15])
        data = bytes(rng.choice(b"\r\n") if rng.random() < 0.15 else 97 for _ in range(rng.randint(0, 4 * limit)))
        expected = re.search(rb"[^\n]{%d}" % limit, data) is not None
        assert server._longest_line_exceeds(data, limit) == expected, (limit, data)


def test_replies_to_a_pipelined_group_leave_in_one_write() -> None:
    """MAIL, RCPT, RCPT and DATA sent together are answered together (RFC 2920 4)."""
    writes: list[bytes] = []

    class CountingSMTP(RelaySMTP):
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            original = transport.write

            def write(data: bytes) -> None:
                writes.append(bytes(data))
                original(data)

            self._writer.transport.write = write  # type: ignore[method-assign]

    async def main() -> None:
        inbound = fake_inbound()
        handler = Recorder()
        server = await asyncio.get_running_loop().create_server(
            lambda: CountingSMTP(handler, inbound, hostname="test", decode_data=False),  # type: ignore[arg-type]
            "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            await reader.readline()
            writer.write(b"EHLO client\r\n")
            while (await reader.readline())[3:4] == b"-":
                pass
            writes.clear()
            writer.write(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n")
            replies = [await reader.readline() for _ in range(4)]
            assert [r[:3] for r in replies] == [b"250", b"250", b"250", b"354"]
            assert writes == [b"".join(replies)]
            writer.write(b"hello\r\n.\r\n")
            assert (await reader.readline())[:3] == b"250"
            writer.close()
        finally:
            server.close()
        assert handler.messages == [b"hello\r\n"]

    asyncio.run(main())
