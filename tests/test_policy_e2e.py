"""The policy and its actions inside the real gateway process (slow: starts a server).

One gateway serves the three tests: monitor mode delivers unchanged while counting;
S/MIME to a certificate holder with the uncertified recipient held, in one SMTP
transaction; a broken policy file on SIGHUP is refused and the running policy stays.
"""

from __future__ import annotations

import email
import email.policy
import shutil
import subprocess
import urllib.request

import pytest

from dlp_gateway.config import SHIPPED_POLICIES
from tests.docgen import make_docx, make_message
from tests.gatewayproc import Sink, body_of, send, start_gateway, wait_until
from tests.gatewayproc import make_message as plain_message
from tests.smime_certs import recipient

pytestmark = pytest.mark.slow

TRIAL = """\
mode: monitor
rules:
  - name: trial-drafts
    description: would we want to hold drafts sent outside?
    when: {header: {name: Subject, pattern: "^draft"}}
    action: quarantine
"""


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("policy-e2e")
    policies = tmp / "policies"
    policies.mkdir()
    shutil.copy(SHIPPED_POLICIES / "default.yaml", policies / "default.yaml")
    (policies / "zz-trial.yaml").write_text(TRIAL)
    bob = recipient("bob@partner.example")
    data_dir = tmp / "gw-data"
    cert, key = bob.write(data_dir / "certs", "bob@partner.example")
    with Sink() as sink:
        config = {"policy": {"dir": str(policies), "watch": False}}
        with start_gateway(tmp, upstream=sink.address, config=config, data_dir=data_dir) as gw:
            yield gw, sink, policies, bob, cert, key


def metric(gw, name: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{gw.metrics_port}/metrics", timeout=10).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def test_monitor_rule_delivers_unchanged_and_counts_what_it_would_have_done(running):
    gw, sink, *_ = running
    raw = plain_message(subject="Draft minutes", body="Minutes of the staff meeting.\r\n")
    before = len(sink.messages)
    assert send(gw.port, raw, rcpts=["bob@partner.example"])[0] == 250
    got = sink.wait_for(before + 1)[-1]
    assert body_of(got.data) == raw
    assert metric(gw, 'dlp_monitor_decisions_total{action="quarantine"}') >= 1
    assert wait_until(lambda: any(d.get("monitor") for d in gw.decisions()))
    record = [d for d in gw.decisions() if d.get("monitor")][-1]
    assert record["action"] == "deliver" and record["monitor"][0]["rule"] == "trial-drafts"


def test_restricted_document_is_encrypted_for_the_certificate_holder_and_held_for_the_other(running, tmp_path):
    gw, sink, _, bob, cert, key = running
    docx = make_docx(["密（本件於公布時解密）", "Position on the fisheries agreement."], header="密")
    raw = make_message("Fisheries position", "Paper attached.",
                       [("position.docx", docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document")],
                       sender="alice@mofa.example", to="bob@partner.example, eve@news.example").replace(b"\n", b"\r\n")
    before = len(sink.messages)
    code, text = send(gw.port, raw, sender="alice@mofa.example", rcpts=["bob@partner.example", "eve@news.example"])
    assert code == 250, text
    got = sink.wait_for(before + 1)[-1]
    assert got.rcpt_tos == ["bob@partner.example"]
    (tmp_path / "got.eml").write_bytes(got.data)
    inner = subprocess.run(["openssl", "smime", "-decrypt", "-in", str(tmp_path / "got.eml"), "-recip", str(cert),
                            "-inkey", str(key)], capture_output=True, check=True).stdout
    (part,) = list(email.message_from_bytes(inner, policy=email.policy.default).iter_attachments())
    assert part.get_payload(decode=True) == docx
    record = gw.decisions()[-1]
    outcomes = {tuple(o["recipients"]): o["action"] for o in record["outcomes"]}
    assert outcomes == {("bob@partner.example",): "encrypt", ("eve@news.example",): "quarantine"}
    assert record["incident_level"] == 3


def test_broken_policy_on_sighup_is_refused_and_the_running_policy_stays(running):
    gw, sink, policies, *_ = running
    errors_before = metric(gw, 'dlp_policy_reloads_total{result="error"}')
    (policies / "zz-trial.yaml").write_text("rules:\n  - name: x\n    action: quarantine\n    when: {levle: secret}\n")
    gw.hup()
    assert wait_until(lambda: metric(gw, 'dlp_policy_reloads_total{result="error"}') > errors_before)
    assert "levle" in gw.log()
    raw = plain_message(subject="Cable", body="機密（本件至125年3月2日解密）\r\n\r\nText of the cable.\r\n")
    before = len(sink.messages)
    code, text = send(gw.port, raw, rcpts=["bob@partner.example"])
    assert code == 250 and "held for review" in text
    assert wait_until(lambda: len(sink.messages) > before)  # the notice of the default policy
    assert [m.rcpt_tos for m in sink.messages[before:]] == [["alice@example.test"]]
    assert b"Text of the cable" not in sink.messages[-1].data
