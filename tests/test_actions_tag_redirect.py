"""tag, redirect and bcc, carried out against a real next hop."""

from __future__ import annotations

from dlp_gateway.model import Action, Decision, Envelope
from tests.actions_helpers import bench, parsed
from tests.gatewayproc import make_message

RAW = make_message(subject="Quarterly figures", body="Numbers attached.")


def body(data: bytes) -> bytes:
    return data.split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n")


def env(*rcpts: str) -> Envelope:
    return Envelope("alice@mofa.example", rcpts)


def test_tag_adds_headers_and_subject_prefix_then_delivers(tmp_path):
    with bench(tmp_path) as b:
        decision = Decision("bob@partner.example", "tag", "mark-external", "outbound",
                            params=(("headers", (("X-DLP-Checked", "yes"),)), ("subject_prefix", "[EXTERNAL] ")))
        (outcome,) = b.run(RAW, env("bob@partner.example"), [decision])
        (got,) = b.sink.wait_for(1)
    assert (outcome.action, outcome.code) == (Action.DELIVER, 250)
    msg = parsed(got.data)
    assert msg["Subject"] == "[EXTERNAL] Quarterly figures" and msg["X-DLP-Checked"] == "yes"
    assert body(got.data) == body(RAW)  # the body is untouched


def test_tag_with_a_non_ascii_prefix_encodes_it(tmp_path):
    with bench(tmp_path) as b:
        decision = Decision("bob@partner.example", "tag", "r", "x", params=(("subject_prefix", "【密】"),))
        b.run(RAW, env("bob@partner.example"), [decision])
        (got,) = b.sink.wait_for(1)
    assert parsed(got.data)["Subject"] == "【密】 Quarterly figures"
    assert got.data.isascii()


def test_redirect_sends_only_to_the_security_mailbox_with_the_original_recipients(tmp_path):
    with bench(tmp_path) as b:
        decisions = [Decision(r, "redirect", "to-soc", "suspicious", params=(("to", ("soc@mofa.example",)),))
                     for r in ("bob@partner.example", "carol@partner.example")]
        (outcome,) = b.run(RAW, env("bob@partner.example", "carol@partner.example"), decisions)
        (got,) = b.sink.wait_for(1)
    assert got.rcpt_tos == ["soc@mofa.example"]
    assert parsed(got.data)["X-DLP-Original-Recipients"] == "bob@partner.example, carol@partner.example"
    assert outcome.code == 250 and set(outcome.recipients) == {"bob@partner.example", "carol@partner.example"}
    assert "redirected to soc@mofa.example" in outcome.detail


def test_bcc_delivers_and_sends_a_copy_to_the_security_mailbox(tmp_path):
    with bench(tmp_path) as b:
        decision = Decision("bob@partner.example", "bcc", "copy-soc", "watch", params=(("to", ("soc@mofa.example",)),))
        (outcome,) = b.run(RAW, env("bob@partner.example"), [decision])
        got = b.sink.wait_for(2)
    assert sorted(m.rcpt_tos[0] for m in got) == ["bob@partner.example", "soc@mofa.example"]
    assert (outcome.action, outcome.code) == (Action.DELIVER, 250)


def test_redirect_refused_by_the_security_mailbox_is_quarantined_not_lost(tmp_path):
    with bench(tmp_path) as b:
        b.sink.refuse_rcpt = {"soc@mofa.example"}
        decision = Decision("bob@partner.example", "redirect", "to-soc", "x", params=(("to", ("soc@mofa.example",)),))
        (outcome,) = b.run(RAW, env("bob@partner.example"), [decision])
        held = b.quarantined()
    assert outcome.action == Action.QUARANTINE and outcome.quarantine_id == held[0].id
