"""The real gateway process between a client and a recording next hop, over loopback.

One gateway serves every test in this module (starting one costs ~2 s): STARTTLS inbound
with a certificate from a test CA, verified STARTTLS outbound to a sink signed by the
same CA, and small limits so that the limit tests are cheap.
"""

from __future__ import annotations

import base64
import json
import smtplib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gatewayproc import (
    PKI,
    GatewayProcess,
    Sink,
    body_of,
    make_message,
    make_pki,
    send,
    start_gateway,
    wait_until,
)

pytestmark = pytest.mark.slow

MAX_SIZE = 100_000
MAX_RCPTS = 4
IDLE = 3.0
NEXT_HOP_TIMEOUT = 3.0


@pytest.fixture(scope="module")
def module_pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return make_pki(Path(tmp_path_factory.mktemp("e2e-pki")))


@pytest.fixture(scope="module")
def next_hop(module_pki: PKI) -> Iterator[Sink]:
    with Sink(tls_context=module_pki.server_context()) as sink:
        yield sink


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, module_pki: PKI, next_hop: Sink) -> Iterator[GatewayProcess]:
    config = {
        "smtp": {
            "max_message_size": MAX_SIZE,
            "max_recipients": MAX_RCPTS,
            "idle_timeout": IDLE,
            "tls_cert": str(module_pki.server_cert),
            "tls_key": str(module_pki.server_key),
        },
        "delivery": {
            "tls": "verified",
            "tls_ca_file": str(module_pki.ca_cert),
            "tls_server_name": "localhost",
            "command_timeout": NEXT_HOP_TIMEOUT,
        },
    }
    with start_gateway(Path(tmp_path_factory.mktemp("e2e")), upstream=next_hop.address, config=config) as gw:
        yield gw


@pytest.fixture(autouse=True)
def fresh_sink(next_hop: Sink) -> Sink:
    next_hop.mode, next_hop.refuse_rcpt, next_hop.delay_seconds = "accept", set(), 0.0
    next_hop.messages.clear()
    return next_hop


def delivered(sink: Sink, msg: bytes) -> list:
    """Messages at the sink that carry `msg` (notices to the sender or officer are other mail)."""
    return [m for m in sink.messages if body_of(m.data) == msg]


def quarantine_list(gw: GatewayProcess) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "dlp_gateway", "quarantine", "list", "--json", "--data-dir", str(gw.data_dir)],
        capture_output=True, text=True, check=True,
    )
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_clean_message_arrives_byte_identical_with_starttls_in_and_out(gateway: GatewayProcess, next_hop: Sink, module_pki: PKI) -> None:
    msg = make_message(subject="quarterly figures", body="Figures attached.\r\n.leading dot line\r\n")
    code, _ = send(gateway.port, msg, starttls=module_pki.client_context())
    assert code == 250
    (got,) = next_hop.wait_for(1)
    assert body_of(got.data) == msg
    assert got.tls  # verified STARTTLS to the next hop
    assert got.data.startswith(b"Received: from client.test ([127.0.0.1]) by gateway.test (dlp-gateway) with ESMTPS id ")


def test_8bit_utf8_body_and_longest_allowed_line_arrive_unchanged(gateway: GatewayProcess, next_hop: Sink) -> None:
    body = "外交部 週報，內容一般。\r\n" + "x" * 998 + "\r\n"
    msg = make_message(subject="=?utf-8?b?" + base64.b64encode("週報".encode()).decode() + "?=", body=body)
    code, _ = send(gateway.port, msg, mail_options=("BODY=8BITMIME", "SMTPUTF8"), sender="張三@example.test")
    assert code == 250
    (got,) = next_hop.wait_for(1)
    assert body_of(got.data) == msg
    assert got.mail_from == "張三@example.test"
    assert "BODY=8BITMIME" in got.mail_options


def test_marked_message_is_quarantined_and_not_delivered(gateway: GatewayProcess, next_hop: Sink) -> None:
    msg = make_message(subject="plan", body="SECRET\r\n\r\nThe plan for next week.\r\n")
    code, text = send(gateway.port, msg)
    assert code == 250 and "held for review" in text
    assert delivered(next_hop, msg) == []
    held = [q for q in quarantine_list(gateway) if q["id"] in text]
    assert len(held) == 1 and held[0]["level"] == "secret"


def test_next_hop_refusal_is_passed_back(gateway: GatewayProcess, next_hop: Sink) -> None:
    next_hop.mode = "reject"
    code, text = send(gateway.port, make_message())
    assert code == 550 and "sink refuses" in text


def test_next_hop_temporary_failure_gives_4xx(gateway: GatewayProcess, next_hop: Sink) -> None:
    next_hop.mode = "tempfail"
    code, _ = send(gateway.port, make_message())
    assert code == 451


def test_next_hop_that_times_out_gives_4xx(gateway: GatewayProcess, next_hop: Sink) -> None:
    next_hop.mode, next_hop.hang_seconds = "hang", NEXT_HOP_TIMEOUT + 3
    started = time.monotonic()
    code, text = send(gateway.port, make_message())
    assert 400 <= code < 500 and "did not answer" in text
    assert time.monotonic() - started < NEXT_HOP_TIMEOUT + 3


def test_some_recipients_refused_gives_250_and_a_bounce_to_the_sender(gateway: GatewayProcess, next_hop: Sink) -> None:
    next_hop.refuse_rcpt = {"gone@example.test"}
    code, _ = send(gateway.port, make_message(), rcpts=["bob@example.test", "gone@example.test"])
    assert code == 250
    delivered, bounce = next_hop.wait_for(2)
    assert delivered.rcpt_tos == ["bob@example.test"]
    assert bounce.mail_from == "<>" and bounce.rcpt_tos == ["alice@example.test"]
    assert b"report-type=delivery-status" in bounce.data and b"Final-Recipient: rfc822; gone@example.test" in bounce.data


def test_every_recipient_refused_gives_the_next_hops_5xx(gateway: GatewayProcess, next_hop: Sink) -> None:
    next_hop.refuse_rcpt = {"gone@example.test", "left@example.test"}
    code, text = send(gateway.port, make_message(), rcpts=["gone@example.test", "left@example.test"])
    assert code == 550 and "recipient unknown" in text
    assert next_hop.messages == []


def test_message_over_the_size_limit_gets_552(gateway: GatewayProcess, next_hop: Sink) -> None:
    big = make_message(body=("y" * 900 + "\r\n") * (MAX_SIZE // 900 + 10))
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=30) as client:
        client.ehlo("client.test")
        assert client.esmtp_features["size"] == str(MAX_SIZE)
        assert client.mail("alice@example.test", [f"SIZE={len(big)}"])[0] == 552
    assert send(gateway.port, big)[0] == 552  # without announcing SIZE
    assert next_hop.messages == []


def test_too_many_recipients_get_452(gateway: GatewayProcess) -> None:
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=30) as client:
        client.ehlo("client.test")
        client.mail("alice@example.test")
        codes = [client.rcpt(f"r{i}@example.test")[0] for i in range(MAX_RCPTS + 1)]
    assert codes == [250] * MAX_RCPTS + [452]


def test_ehlo_advertises_the_relay_extensions(gateway: GatewayProcess) -> None:
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=30) as client:
        client.ehlo("client.test")
        for extension in ("size", "8bitmime", "smtputf8", "pipelining", "starttls"):
            assert client.has_extn(extension), extension
        assert not client.has_extn("auth")


def test_idle_client_is_disconnected_with_421(gateway: GatewayProcess) -> None:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=IDLE + 10) as sock:
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"220")
        started = time.monotonic()
        line = reader.readline()
        assert line.startswith(b"421"), line
        assert reader.readline() == b""  # closed
        assert IDLE - 0.5 <= time.monotonic() - started < IDLE + 5


def test_bare_lf_line_endings_are_normalised_to_crlf_not_refused_as_one_long_line(gateway: GatewayProcess, next_hop: Sink) -> None:
    # Python's smtplib sends bytes as they are: LF endings, no CR. Each LF ends a line,
    # and the next hop gets proper CRLF (as Postfix's smtpd_forbid_bare_newline=normalize).
    crlf = make_message(body="".join(f"line {n} of an ordinary report\r\n" for n in range(200)))
    assert len(crlf) > 2000
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=30) as client:
        assert client.sendmail("alice@example.test", ["bob@example.test"], crlf.replace(b"\r\n", b"\n")) == {}
    (got,) = next_hop.wait_for(1)
    # smtplib ends data that does not end in CRLF with one more CRLF before the dot.
    assert body_of(got.data) == crlf + b"\r\n"

BAD_INPUT = {
    "broken MIME": make_message(
        extra_headers='Content-Type: multipart/mixed; boundary="b1"\r\n',
        body="--b1\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%not base64%%%\r\n--b1\r\n",
    ).replace(b"Content-Type: text/plain; charset=utf-8\r\n", b""),
    "unknown charset": make_message(body="caf\xe9\r\n").replace(b"charset=utf-8", b"charset=x-no-such-charset"),
    "8-bit without 8BITMIME": make_message(body="Grüße aus Taipeh\r\n"),
    "NUL bytes": make_message(body="before\x00after\r\n"),
}


@pytest.mark.parametrize("kind", sorted(BAD_INPUT))
def test_bad_input_gets_a_clear_answer_and_is_delivered_or_held(gateway: GatewayProcess, next_hop: Sink, kind: str) -> None:
    msg = BAD_INPUT[kind]
    code, text = send(gateway.port, msg)
    assert code == 250, text
    gateway_id = text.split("Ok: ", 1)[1].split(" ", 1)[0]
    if "held for review" in text:
        assert delivered(next_hop, msg) == []
    else:
        assert body_of(next_hop.wait_for(1)[0].data) == msg
    assert gateway_id in gateway.log()
    assert send(gateway.port, make_message())[0] == 250  # and the gateway keeps serving


def test_client_that_disconnects_mid_data_leaves_nothing_and_the_gateway_keeps_serving(gateway: GatewayProcess, next_hop: Sink) -> None:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        reader = sock.makefile("rb")
        reader.readline()
        sock.sendall(b"EHLO client.test\r\n")
        while not reader.readline().startswith(b"250 "):
            pass
        sock.sendall(b"MAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n")
        assert [reader.readline()[:3] for _ in range(3)] == [b"250", b"250", b"354"]
        sock.sendall(b"Subject: half\r\n\r\nonly the first half of")
        reader.close()
        sock.shutdown(socket.SHUT_RDWR)
    assert wait_until(lambda: "closed the connection with a transaction open" in gateway.log())
    msg = make_message(subject="after the broken one")
    assert send(gateway.port, msg)[0] == 250
    (got,) = next_hop.wait_for(1)
    assert body_of(got.data) == msg


def test_metrics_endpoint_serves_counters_after_traffic(gateway: GatewayProcess) -> None:
    assert send(gateway.port, make_message())[0] == 250
    assert send(gateway.port, make_message(), mail_options=(f"SIZE={MAX_SIZE + 1}",))[0] == 552
    assert gateway.metrics_port
    text = urllib.request.urlopen(f"http://127.0.0.1:{gateway.metrics_port}/metrics", timeout=10).read().decode()
    values = {}
    for line in text.splitlines():
        if line.startswith("dlp_"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    assert values['dlp_messages_total{action="deliver"}'] >= 1
    assert values["dlp_inspection_seconds_count"] >= 1
    assert values['dlp_smtp_refused_total{reason="size"}'] >= 1
    assert "dlp_quarantine_messages" in values and "dlp_inflight_messages" in values


def test_decision_log_has_one_json_line_per_message(gateway: GatewayProcess) -> None:
    code, text = send(gateway.port, make_message(subject="logged"))
    assert code == 250
    gateway_id = text.split("Ok: ", 1)[1].split(" ", 1)[0]
    (entry,) = [d for d in gateway.decisions() if d["id"] == gateway_id]
    assert entry["sender"] == "alice@example.test" and entry["recipients"] == ["bob@example.test"]
    assert entry["action"] == "deliver" and entry["message_id"].startswith("<")
    assert {"inspect", "policy", "actions", "total"} <= set(entry["seconds"])
    assert entry["size"] > 0 and "findings" in entry and "rule" in entry
