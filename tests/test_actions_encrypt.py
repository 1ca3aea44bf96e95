"""A restricted document leaves only encrypted, and only to a recipient who can decrypt it.

Real inspection, the shipped default policy, the real action registry, delivery to a
real SMTP next hop, and decryption by both `cryptography` and the openssl command.
"""

from __future__ import annotations

import email
import email.policy
import subprocess

from cryptography.hazmat.primitives.serialization import pkcs7

from dlp_gateway.config import SHIPPED_POLICIES
from dlp_gateway.model import Action, Decision, Envelope
from dlp_gateway.pipeline import WorkerContext, inspect_message
from dlp_gateway.policy import load_policy
from tests.actions_helpers import bench, parsed
from tests.docgen import make_docx, make_message
from tests.smime_certs import recipient

DOCX = make_docx(["密（本件於公布時解密）", "Negotiating position on the fisheries agreement."], header="密")
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
RAW = make_message("Fisheries position", "See the attached paper.", [("position.docx", DOCX, DOCX_TYPE)],
                   to="bob@partner.example, eve@news.example")


def attachment_of(data: bytes) -> bytes:
    (part,) = list(email.message_from_bytes(data, policy=email.policy.default).iter_attachments())
    return part.get_payload(decode=True)


def decide_and_act(b, rcpts: tuple[str, ...]):
    report = inspect_message(RAW, WorkerContext.from_settings(b.settings))
    envelope = Envelope("alice@mofa.example", rcpts)
    decisions = load_policy(SHIPPED_POLICIES).decide(report, envelope)
    return decisions, b.run(RAW, envelope, decisions, report)


def test_restricted_document_arrives_encrypted_and_decrypts_byte_for_byte(tmp_path):
    bob = recipient("bob@partner.example")
    with bench(tmp_path) as b:
        cert, key = bob.write(b.settings.certs_dir, "bob@partner.example")
        decisions, outcomes = decide_and_act(b, ("bob@partner.example",))
        (got,) = b.sink.wait_for(1)
    assert [d.action for d in decisions] == ["encrypt"]
    assert [(o.action, o.code) for o in outcomes] == [(Action.ENCRYPT, 250)]
    assert parsed(got.data).get_content_type() == "application/pkcs7-mime"
    assert b"See the attached paper" not in got.data and DOCX[:100] not in got.data
    assert attachment_of(pkcs7.pkcs7_decrypt_smime(got.data, bob.certificate, bob.key, [])) == DOCX
    (tmp_path / "got.eml").write_bytes(got.data)
    done = subprocess.run(["openssl", "smime", "-decrypt", "-in", str(tmp_path / "got.eml"), "-recip", str(cert),
                           "-inkey", str(key)], capture_output=True, check=True)
    assert attachment_of(done.stdout) == DOCX


def test_recipient_without_a_certificate_is_held_while_the_other_gets_it_encrypted(tmp_path):
    bob = recipient("bob@partner.example")
    with bench(tmp_path) as b:
        bob.write(b.settings.certs_dir, "bob@partner.example")
        _, outcomes = decide_and_act(b, ("bob@partner.example", "eve@news.example"))
        (got,) = b.sink.wait_for(1)
        held = b.quarantined()
    by_rcpt = {r: o for o in outcomes for r in o.recipients}
    assert (by_rcpt["bob@partner.example"].action, by_rcpt["bob@partner.example"].code) == (Action.ENCRYPT, 250)
    assert (by_rcpt["eve@news.example"].action, by_rcpt["eve@news.example"].code) == (Action.QUARANTINE, 250)
    assert got.rcpt_tos == ["bob@partner.example"]
    assert held[0].recipients == ["eve@news.example"] and "no certificate for eve@news.example" in held[0].reason


def test_expired_certificate_means_the_fallback(tmp_path):
    with bench(tmp_path) as b:
        recipient("bob@partner.example", valid_from_days=-30, valid_days=10).write(b.settings.certs_dir, "bob@partner.example")
        _, outcomes = decide_and_act(b, ("bob@partner.example",))
        assert b.sink.messages == []
    assert [o.action for o in outcomes] == [Action.QUARANTINE]
    assert "expired" in outcomes[0].detail


def test_fallback_reject_refuses_with_a_5xx(tmp_path):
    with bench(tmp_path) as b:
        decision = Decision("eve@news.example", "encrypt", "enc", "restricted", params=(("fallback", "reject"),))
        (outcome,) = b.run(RAW, Envelope("alice@mofa.example", ("eve@news.example",)), [decision])
    assert (outcome.action, outcome.code) == (Action.REJECT, 550)
    assert b.sink.messages == []
