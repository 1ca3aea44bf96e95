"""Long lines (issue #12): accepted as Postfix accepts them, folded only for the next hop.

A message is never refused for the length of its lines under the size limit; what the
next hop receives is unchanged unless a line is longer than delivery.line_length_limit
(Postfix's smtp_line_length_limit, 999), which is folded by inserting CRLF and a space.
Command lines may be as long as smtp.max_line_length (Postfix's 2048), not aiosmtpd's 512.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gatewayproc import GatewayProcess, Sink, body_of, make_message, send, start_gateway

pytestmark = pytest.mark.slow


def newsletter() -> bytes:
    """An HTML newsletter whose body is one 8,826-character line (as mailing tools send)."""
    cell = '<td style="padding:4px;font-family:Arial">item</td>'
    html = "<html><body><table><tr>" + cell * 150
    html += "x" * (8826 - len(html) - len("</tr></table></body></html>")) + "</tr></table></body></html>"
    assert len(html) == 8826
    return make_message(subject="newsletter", body=html + "\r\n").replace(b"text/plain", b"text/html")


@pytest.fixture(scope="module")
def next_hop() -> Iterator[Sink]:
    with Sink() as sink:
        yield sink


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, next_hop: Sink) -> Iterator[GatewayProcess]:
    with start_gateway(Path(tmp_path_factory.mktemp("long")), upstream=next_hop.address) as gw:
        yield gw


@pytest.fixture(autouse=True)
def fresh_sink(next_hop: Sink) -> None:
    next_hop.messages.clear()


def test_a_newsletter_with_an_8826_character_line_is_accepted_and_folded_for_the_next_hop(
    gateway: GatewayProcess, next_hop: Sink
) -> None:
    message = newsletter()
    assert send(gateway.port, message)[0] == 250
    (got,) = next_hop.wait_for(1)
    body = body_of(got.data)
    assert max(len(line) for line in body.split(b"\r\n")) <= 999
    assert body.replace(b"\r\n ", b"") == message  # folding inserted CRLF SP and nothing else


def test_long_lines_pass_unchanged_when_folding_is_off(tmp_path: Path) -> None:
    config = {"delivery": {"line_length_limit": 0}}
    with Sink(line_length_limit=1_000_000) as lenient, start_gateway(
        tmp_path, upstream=lenient.address, config=config, metrics=False
    ) as gw:
        message = newsletter() + b"y" * 100_000 + b"\r\n"
        assert send(gw.port, message)[0] == 250
        (got,) = lenient.wait_for(1)
    assert body_of(got.data) == message


def test_command_lines_are_taken_up_to_max_line_length_not_512(gateway: GatewayProcess) -> None:
    # Postfix takes a 700-octet MAIL command; aiosmtpd's own limit is 512 octets.
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=30) as client:
        client.ehlo("client.test")
        code, text = client.mail("l" * 3000 + "@example.test")  # beyond smtp.max_line_length (2048)
        assert code == 500 and b"too long" in text
        assert client.mail("l" * 700 + "@example.test")[0] == 250
        assert client.rcpt("bob@example.test")[0] == 250
