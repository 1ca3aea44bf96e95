"""Outbound delivery, the Maildir and the quarantine store, against a real SMTP sink on loopback."""

from __future__ import annotations

import asyncio
import ssl
import time
from pathlib import Path

import pytest

from dlp_gateway.cli import main as cli_main
from dlp_gateway.model import Envelope
from dlp_gateway.smtp.delivery import DeliveryPool, OutboundMessage, dot_stuff
from dlp_gateway.smtp.maildir import Maildir
from dlp_gateway.smtp.settings import DeliverySettings
from dlp_gateway.store.quarantine import QuarantineStore
from tests.gatewayproc import PKI, Sink, free_port


def deliver(settings: DeliverySettings, *messages: OutboundMessage) -> list:
    async def run() -> list:
        pool = DeliveryPool(settings, "gateway.test")
        try:
            return [await pool.deliver(m) for m in messages]
        finally:
            await pool.close()

    return asyncio.run(run())


def message(data: bytes = b"Subject: x\r\n\r\nbody\r\n", rcpts: tuple[str, ...] = ("bob@example.test",), **kw) -> OutboundMessage:
    return OutboundMessage(mail_from="alice@example.test", recipients=rcpts, data=data, **kw)


def test_dot_stuffing_escapes_only_smtp_lines() -> None:
    assert dot_stuff(b".a\r\nb\r\n.c\r\n") == b"..a\r\nb\r\n..c\r\n.\r\n"
    assert dot_stuff(b"a\n.b\r\n") == b"a\n.b\r\n.\r\n"  # a bare LF is content, not a line end
    assert dot_stuff(b"no final newline") == b"no final newline\r\n.\r\n"


def test_bytes_arrive_unchanged_including_nul_and_leading_dots(sink: Sink) -> None:
    data = b"Subject: odd\r\n\r\n.leading dot\r\nnul\x00byte\r\n..two dots\r\n\xe6\xa9\x9f 8bit\r\n"
    (result,) = deliver(DeliverySettings(upstream=sink.address, tls="none"), message(data))
    assert result.all_accepted
    assert sink.wait_for(1)[0].data == data


def test_bare_cr_and_bare_lf_reach_the_next_hop_as_crlf(sink: Sink) -> None:
    # A next hop that ends lines at a bare CR or LF would read "<CR>.<CR>" as the end of
    # DATA and what follows as commands (SMTP smuggling): none is ever sent.
    data = b"Subject: odd\r\n\r\nbare\nLF and bare\rCR\r\nx\r.\rMAIL FROM:<evil@example.test>\r\n"
    (result,) = deliver(DeliverySettings(upstream=sink.address, tls="none"), message(data))
    assert result.all_accepted
    expected = b"Subject: odd\r\n\r\nbare\r\nLF and bare\r\nCR\r\nx\r\n.\r\nMAIL FROM:<evil@example.test>\r\n"
    assert sink.wait_for(1)[0].data == expected
    assert b"\r\n..\r\nMAIL FROM:<evil" in bytes(sink.wire)  # the lone dot went out stuffed


def test_envelope_is_kept_mail_parameters_and_every_recipient(sink: Sink) -> None:
    rcpts = ("a@example.test", "b@example.test", "c@example.test")
    msg = message(rcpts=rcpts, mail_options=("BODY=8BITMIME", "SMTPUTF8"))
    (result,) = deliver(DeliverySettings(upstream=sink.address, tls="none"), msg)
    assert [r.code for r in result.results] == [250, 250, 250]
    got = sink.wait_for(1)[0]
    assert got.rcpt_tos == list(rcpts)
    assert got.mail_from == "alice@example.test"
    assert "BODY=8BITMIME" in got.mail_options and "SMTPUTF8" in got.mail_options
    assert f"SIZE={len(msg.data)}" in got.mail_options


def test_results_are_per_recipient_when_the_next_hop_refuses_some(sink: Sink) -> None:
    sink.refuse_rcpt = {"gone@example.test"}
    msg = message(rcpts=("bob@example.test", "gone@example.test"))
    (result,) = deliver(DeliverySettings(upstream=sink.address, tls="none"), msg)
    codes = {r.recipient: r.code for r in result.results}
    assert codes == {"bob@example.test": 250, "gone@example.test": 550}
    assert sink.wait_for(1)[0].rcpt_tos == ["bob@example.test"]


def test_next_hop_without_pipelining_gets_one_command_at_a_time(sink: Sink) -> None:
    sink.pipelining = False
    sink.refuse_rcpt = {"gone@example.test"}
    msg = message(rcpts=("bob@example.test", "gone@example.test"))
    (result,) = deliver(DeliverySettings(upstream=sink.address, tls="none"), msg)
    assert {r.recipient: r.code for r in result.results} == {"bob@example.test": 250, "gone@example.test": 550}
    assert sink.wait_for(1)[0].data == msg.data


def test_all_recipients_refused_sends_no_content(sink: Sink) -> None:
    sink.refuse_rcpt = {"gone@example.test"}
    results = deliver(DeliverySettings(upstream=sink.address, tls="none"), message(rcpts=("gone@example.test",)), message())
    assert [r.code for r in results[0].results] == [550]
    assert results[1].all_accepted  # the connection is still usable afterwards
    assert [m.rcpt_tos for m in sink.wait_for(1)] == [["bob@example.test"]]


def test_connections_are_reused_up_to_messages_per_connection(sink: Sink) -> None:
    settings = DeliverySettings(upstream=sink.address, tls="none", messages_per_connection=2)
    results = deliver(settings, message(), message(), message())
    assert all(r.all_accepted for r in results)
    sink.wait_for(3)
    assert sink.connections == 2


def test_connections_idle_too_long_are_not_reused(sink: Sink) -> None:
    settings = DeliverySettings(upstream=sink.address, tls="none", pool_idle_seconds=0.2)

    async def run() -> None:
        pool = DeliveryPool(settings, "gateway.test")
        try:
            assert (await pool.deliver(message())).all_accepted
            await asyncio.sleep(0.4)
            assert (await pool.deliver(message())).all_accepted
        finally:
            await pool.close()

    asyncio.run(run())
    assert sink.connections == 2


def test_a_pooled_connection_the_next_hop_closed_is_replaced_transparently(sink: Sink) -> None:
    sink.hangup_after_data = True

    async def run() -> list:
        pool = DeliveryPool(DeliverySettings(upstream=sink.address, tls="none"), "gateway.test")
        try:
            first = await pool.deliver(message())
            await asyncio.sleep(0.3)  # the sink has hung up on the pooled connection by now
            return [first, await pool.deliver(message())]
        finally:
            await pool.close()

    assert all(r.all_accepted for r in asyncio.run(run()))
    assert len(sink.wait_for(2)) == 2 and sink.connections == 2


def test_unreachable_next_hop_is_a_temporary_failure() -> None:
    (result,) = deliver(DeliverySettings(upstream=f"127.0.0.1:{free_port()}", tls="none", connect_timeout=2), message())
    assert [r.code for r in result.results] == [451]
    assert "unreachable" in result.results[0].message


def test_next_hop_that_does_not_answer_is_a_temporary_failure(sink: Sink) -> None:
    sink.mode, sink.hang_seconds = "hang", 5
    started = time.monotonic()
    (result,) = deliver(DeliverySettings(upstream=sink.address, tls="none", command_timeout=0.5), message())
    assert result.results[0].temporary
    assert time.monotonic() - started < 4


def test_next_hop_refusal_at_data_keeps_its_code(sink: Sink) -> None:
    sink.mode = "reject"
    (result,) = deliver(DeliverySettings(upstream=sink.address, tls="none"), message())
    assert result.results[0].code == 550 and "sink refuses" in result.results[0].message


def test_verified_tls_to_a_next_hop_signed_by_the_configured_ca(pki: PKI) -> None:
    with Sink(tls_context=pki.server_context()) as sink:
        settings = DeliverySettings(upstream=sink.address, tls="verified", tls_ca_file=str(pki.ca_cert), tls_server_name="localhost")
        (result,) = deliver(settings, message())
        assert result.all_accepted and result.tls
        assert sink.wait_for(1)[0].tls


def test_verified_tls_refuses_a_certificate_from_an_unknown_ca(pki: PKI) -> None:
    with Sink(tls_context=pki.server_context()) as sink:
        (result,) = deliver(DeliverySettings(upstream=sink.address, tls="verified", tls_server_name="localhost"), message())
        assert result.results[0].code == 454 and "TLS" in result.results[0].message
        assert sink.messages == []


def test_required_tls_refuses_a_next_hop_without_starttls(sink: Sink) -> None:
    (result,) = deliver(DeliverySettings(upstream=sink.address, tls="required"), message())
    assert result.results[0].code == 454
    assert sink.messages == []


def test_opportunistic_tls_encrypts_when_offered_and_sends_plain_otherwise(pki: PKI, sink: Sink) -> None:
    with Sink(tls_context=pki.server_context()) as tls_sink:
        (result,) = deliver(DeliverySettings(upstream=tls_sink.address, tls="opportunistic"), message())
        assert result.all_accepted and tls_sink.wait_for(1)[0].tls
    (result,) = deliver(DeliverySettings(upstream=sink.address, tls="opportunistic"), message())
    assert result.all_accepted and not sink.wait_for(1)[0].tls


def test_opportunistic_tls_falls_back_to_plain_when_the_handshake_fails(pki: PKI) -> None:
    context = pki.server_context()
    context.maximum_version = ssl.TLSVersion.TLSv1_1  # below what the gateway accepts
    with Sink(tls_context=context) as sink:
        (result,) = deliver(DeliverySettings(upstream=sink.address, tls="opportunistic"), message())
        assert result.all_accepted and not result.tls
        assert not sink.wait_for(1)[0].tls


def test_maildir_delivery_renames_into_new_and_leaves_tmp_empty(tmp_path: Path) -> None:
    maildir = Maildir(tmp_path / "maildir")
    data = b"Subject: hi\r\n\r\nhello\r\n"
    result = asyncio.run(maildir.deliver(message(data, rcpts=("a@x.test", "b@x.test"))))
    assert [r.code for r in result.results] == [250, 250]
    (path,) = maildir.messages()
    assert path.read_bytes() == data
    assert list((tmp_path / "maildir" / "tmp").iterdir()) == []


def test_quarantine_keeps_message_and_index_across_reopen(tmp_path: Path) -> None:
    env = Envelope("alice@example.test", ("bob@example.test", "carol@example.test"), ("BODY=8BITMIME",), (("NOTIFY=NEVER",), ()))
    store = QuarantineStore(tmp_path)
    record = store.put(env, b"Subject: s\r\n\r\nSECRET\r\n", ["carol@example.test"], "national-secret", "secret marking", None)
    store.close()
    store = QuarantineStore(tmp_path)
    (listed,) = store.list()
    assert listed.id == record.id and listed.recipients == ["carol@example.test"]
    assert listed.rcpt_options == [[]] and listed.mail_options == ["BODY=8BITMIME"]
    assert store.content(record.id) == b"Subject: s\r\n\r\nSECRET\r\n"
    store.mark_released(record.id, "officer", "250 ok")
    assert store.list() == [] and store.require(record.id).released_by == "officer"
    store.delete(record.id)
    assert store.get(record.id) is None and list((tmp_path / "quarantine").iterdir()) == []


def test_quarantine_expiry_deletes_only_old_messages(tmp_path: Path) -> None:
    store = QuarantineStore(tmp_path)
    env = Envelope("a@x.test", ("b@x.test",))
    old = store.put(env, b"old\r\n", ["b@x.test"], "r", "why", None)
    assert store.expire(30, now=time.time()) == []
    assert store.expire(30, now=time.time() + 31 * 86400) == [old.id]
    assert store.list(status=None) == []


def test_quarantine_commands_list_and_expire(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = QuarantineStore(tmp_path)
    record = store.put(Envelope("a@x.test", ("b@x.test",)), b"x\r\n", ["b@x.test"], "national-secret", "secret", None)
    with store.conn:
        store.conn.execute("UPDATE quarantine SET created = created - 40 * 86400 WHERE id = ?", (record.id,))
    store.close()
    assert cli_main(["quarantine", "list", "--data-dir", str(tmp_path)]) == 0
    assert record.id in capsys.readouterr().out
    assert cli_main(["quarantine", "expire", "--data-dir", str(tmp_path)]) == 0
    assert "expired 1 message" in capsys.readouterr().out
    assert cli_main(["quarantine", "show", record.id, "--data-dir", str(tmp_path)]) == 2
    assert "no quarantined message" in capsys.readouterr().err


def test_serve_refuses_a_config_that_requires_tls_without_a_certificate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("smtp:\n  require_tls: true\nworkers:\n  processes: 1\n", encoding="utf-8")
    assert cli_main(["serve", "--config", str(config), "--data-dir", str(tmp_path / "data")]) == 2
    assert "smtp.require_tls" in capsys.readouterr().err
