"""The gateway process's life: crashes, restarts, signals, the quarantine commands, Maildir mode."""

from __future__ import annotations

import json
import shutil
import smtplib
import subprocess
import sys
import threading
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from tests.gatewayproc import (
    PKI,
    GatewayProcess,
    Sink,
    base_config,
    body_of,
    deep_merge,
    free_port,
    make_message,
    send,
    start_gateway,
    wait_until,
)

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent


def cli(*args: str, gw: GatewayProcess) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dlp_gateway", *args, "--config", str(gw.config_path)],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )


def metric(gw: GatewayProcess, name: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{gw.metrics_port}/metrics", timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_unreachable_next_hop_gives_451(tmp_path: Path) -> None:
    with start_gateway(tmp_path, upstream=f"127.0.0.1:{free_port()}") as gw:
        code, text = send(gw.port, make_message())
        assert code == 451 and "unreachable" in text
        assert metric(gw, "dlp_upstream_errors_total") >= 1
        assert gw.decisions()[-1]["action"] == "tempfail"


def test_no_next_hop_delivers_into_the_maildir(tmp_path: Path) -> None:
    with start_gateway(tmp_path) as gw:
        msg = make_message(subject="to the maildir")
        assert send(gw.port, msg)[0] == 250
        (path,) = (gw.data_dir / "maildir" / "new").iterdir()
        assert body_of(path.read_bytes()) == msg
        assert list((gw.data_dir / "maildir" / "tmp").iterdir()) == []


def test_tls_can_be_required(tmp_path: Path, pki: PKI) -> None:
    # Clients outside smtp.allowed_networks: tests/test_relay_hostile.py (554 at connect).
    config = {"smtp": {"require_tls": True, "tls_cert": str(pki.server_cert), "tls_key": str(pki.server_key)}}
    with start_gateway(tmp_path, config=config, metrics=False) as gw, smtplib.SMTP("127.0.0.1", gw.port, timeout=30) as client:
        client.ehlo("client.test")
        assert client.mail("alice@example.test")[0] == 530  # STARTTLS first
        client.starttls(context=pki.client_context())
        client.ehlo("client.test")
        assert client.mail("alice@example.test")[0] == 250


def test_every_message_that_got_250_survives_kill_9(tmp_path: Path, sink: Sink) -> None:
    sink.delay_seconds = 0.05
    gw = start_gateway(tmp_path, upstream=sink.address)
    accepted: list[bytes] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        for i in range(40):
            marked = i % 3 == 0
            token = f"token-{n}-{i}-{uuid.uuid4().hex}"
            body = ("SECRET\r\n\r\n" if marked else "") + f"{token}\r\n"
            try:
                code, _ = send(gw.port, make_message(subject=token, body=body), timeout=20)
            except (OSError, smtplib.SMTPException):
                return  # the gateway died under us: this message got no 250
            if code == 250:
                with lock:
                    accepted.append(token.encode())

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    assert wait_until(lambda: len(accepted) >= 12, timeout=60)
    gw.kill()
    for thread in threads:
        thread.join(30)
    held = {p.name: p.read_bytes() for p in (gw.data_dir / "quarantine").glob("*.eml")}
    arrived = [m.data for m in sink.messages]
    missing = [t for t in accepted if not any(t in data for data in arrived + list(held.values()))]
    assert not missing, f"{len(missing)} of {len(accepted)} accepted messages lost"
    # A held message that got 250 is also in the index (a file without a row is one that
    # was cut off before its 250, which the client will send again).
    lines = cli("quarantine", "list", "--json", gw=gw).stdout.splitlines()
    listed = {json.loads(line)["file"] for line in lines}
    for token in accepted:
        if not any(token in data for data in arrived):
            assert any(token in data for name, data in held.items() if name in listed), token


def test_quarantine_survives_restart_then_release_delivers_and_delete_removes(tmp_path: Path, sink: Sink) -> None:
    first = start_gateway(tmp_path, upstream=sink.address)
    ids = []
    for subject in ("first", "second"):
        code, text = send(first.port, make_message(subject=subject, body="TOP SECRET\r\n\r\nplan\r\n"))
        assert code == 250 and "held for review" in text
        ids.append(text.rsplit(" as ", 1)[1].rstrip(")"))
    first.stop()
    with start_gateway(tmp_path, upstream=sink.address, data_dir=first.data_dir) as second:
        assert metric(second, "dlp_quarantine_messages") == 2
        shown = cli("quarantine", "show", ids[0], gw=second)
        assert shown.returncode == 0 and "top_secret" in shown.stdout and "plan" not in shown.stdout
        assert b"plan" in subprocess.run(
            [sys.executable, "-m", "dlp_gateway", "quarantine", "show", ids[0], "--content", "--config", str(second.config_path)],
            capture_output=True, cwd=REPO, timeout=60,
        ).stdout
        sink.messages.clear()
        released = cli("quarantine", "release", ids[0], "--operator", "officer.lin", gw=second)
        assert released.returncode == 0, released.stderr
        (got,) = [m for m in sink.wait_for(1) if m.rcpt_tos == ["bob@example.test"]]
        assert got.data.startswith(b"X-DLP-Released: " + ids[0].encode() + b" by officer.lin")
        assert b"Subject: first" in got.data
        record = json.loads(cli("quarantine", "show", ids[0], "--json", gw=second).stdout)
        assert record["status"] == "released" and record["released_by"] == "officer.lin"
        assert cli("quarantine", "release", ids[0], gw=second).returncode == 2  # only once
        assert cli("quarantine", "delete", ids[1], gw=second).returncode == 0
        assert cli("quarantine", "show", ids[1], gw=second).returncode == 2
        assert not list((second.data_dir / "quarantine").glob(f"{ids[1]}*"))
        assert metric(second, "dlp_quarantine_messages") == 0


def test_sighup_reloads_the_policy_and_keeps_it_when_the_new_one_is_broken(tmp_path: Path, sink: Sink) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(REPO / "policies", policies)
    with start_gateway(tmp_path, upstream=sink.address, config={"policy": {"dir": str(policies), "watch": False}}) as gw:
        gw.hup()
        assert wait_until(lambda: metric(gw, 'dlp_policy_reloads_total{result="success"}') == 1)
        (policies / "zz-broken.yaml").write_text("rules: [\n", encoding="utf-8")
        gw.hup()
        assert wait_until(lambda: metric(gw, 'dlp_policy_reloads_total{result="error"}') == 1)
        assert "zz-broken.yaml" in gw.log()
        assert send(gw.port, make_message(body="SECRET\r\n\r\nx\r\n"))[1].count("held for review") == 1
        assert send(gw.port, make_message())[0] == 250


def test_sighup_during_start_up_reloads_once_started_instead_of_ending_the_process(tmp_path: Path, sink: Sink) -> None:
    data_dir = tmp_path / "data"
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(deep_merge(base_config(data_dir), {"delivery": {"upstream": sink.address}})))
    log_path = tmp_path / "gateway.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dlp_gateway", "serve", "--config", str(config_path), "--metrics", "127.0.0.1:0"],
            cwd=REPO, stdout=log_file, stderr=subprocess.STDOUT,
        )
    gw = GatewayProcess(proc, data_dir, config_path, log_path)
    try:
        # Worker processes exist while the gateway is still starting (loading rules).
        def has_children() -> bool:  # of any thread: the fork server is started from one
            return any(p.read_text().split() for p in Path(f"/proc/{proc.pid}/task").glob("*/children"))

        assert wait_until(lambda: proc.poll() is not None or has_children(), timeout=60)
        gw.hup()
        gw.wait_listening()
        assert wait_until(lambda: metric(gw, 'dlp_policy_reloads_total{result="success"}') == 1)
        assert proc.poll() is None
        assert send(gw.port, make_message())[0] == 250
    finally:
        gw.stop()


def test_sigterm_lets_the_message_in_flight_finish_then_exits(tmp_path: Path, sink: Sink) -> None:
    sink.delay_seconds = 2.0
    gw = start_gateway(tmp_path, upstream=sink.address)
    result: list[tuple[int, str]] = []
    msg = make_message(subject="in flight")
    thread = threading.Thread(target=lambda: result.append(send(gw.port, msg)))
    thread.start()
    assert sink.data_started.wait(20)
    gw.proc.terminate()
    thread.join(30)
    assert result and result[0][0] == 250
    assert gw.proc.wait(30) == 0
    assert body_of(sink.messages[0].data) == msg
    assert "stopped" in gw.log()


def test_monitor_mode_records_the_decision_and_delivers_unchanged(tmp_path: Path, sink: Sink) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(REPO / "policies", policies)
    (policies / "zz-trial.yaml").write_text(
        "mode: monitor\nrules:\n  - name: trial-no-mail-from-alice\n    when:\n"
        "      sender: ['alice@example.test']\n    action: reject\n",
        encoding="utf-8",
    )
    with start_gateway(tmp_path, upstream=sink.address, config={"policy": {"dir": str(policies)}}) as gw:
        msg = make_message(subject="trial")
        code, text = send(gw.port, msg)
        assert code == 250
        assert [m for m in sink.wait_for(1) if body_of(m.data) == msg]
        entry = [d for d in gw.decisions() if d["id"] in text][0]
        assert entry["action"] == "deliver"
        assert entry["monitor"][0]["would"] == "reject" and entry["monitor"][0]["rule"] == "trial-no-mail-from-alice"
        assert metric(gw, 'dlp_monitor_decisions_total{action="reject"}') == 1


def test_overload_is_answered_451_at_once(tmp_path: Path, sink: Sink) -> None:
    sink.delay_seconds = 3.0
    with start_gateway(tmp_path, upstream=sink.address, config={"workers": {"max_inflight_messages": 1}}) as gw:
        first: list[tuple[int, str]] = []
        thread = threading.Thread(target=lambda: first.append(send(gw.port, make_message(subject="slow"))))
        thread.start()
        assert sink.data_started.wait(20)
        code, text = send(gw.port, make_message(subject="one too many"))
        assert code == 451 and "too many messages" in text
        thread.join(30)
        assert first[0][0] == 250
        assert metric(gw, 'dlp_smtp_refused_total{reason="overload_messages"}') == 1


def test_connections_beyond_the_limit_get_421(tmp_path: Path) -> None:
    import socket

    # shed_after: the held sessions are not shed for the new one (test_relay_hostile.py is).
    with start_gateway(tmp_path, config={"smtp": {"max_connections": 2, "shed_after": 600}}, metrics=False) as gw:
        held = [socket.create_connection(("127.0.0.1", gw.port), timeout=10) for _ in range(2)]
        try:
            for sock in held:
                assert sock.makefile("rb").readline().startswith(b"220")
            with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as extra:
                assert extra.makefile("rb").readline().startswith(b"421 4.7.0")
            held.pop().close()

            def accepted() -> bool:
                try:
                    return send(gw.port, make_message())[0] == 250
                except smtplib.SMTPConnectError:
                    return False  # the closed connection is not noticed yet

            assert wait_until(accepted, timeout=10)
        finally:
            for sock in held:
                sock.close()


def test_the_gateway_also_runs_on_pythons_own_event_loop(tmp_path: Path, sink: Sink) -> None:
    with start_gateway(tmp_path, upstream=sink.address, config={"smtp": {"event_loop": "asyncio"}}) as gw:
        msg = make_message(subject="on the asyncio loop")
        assert send(gw.port, msg)[0] == 250
        assert body_of(sink.wait_for(1)[0].data) == msg
