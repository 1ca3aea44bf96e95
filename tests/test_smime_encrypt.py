"""S/MIME enveloped data: what leaves is encrypted, and the recipient gets the original back."""

from __future__ import annotations

import email
import email.policy
import subprocess

from cryptography.hazmat.primitives.serialization import pkcs7

from dlp_gateway.actions.smime import encrypt_message
from tests.docgen import make_docx, make_message
from tests.smime_certs import recipient

DOCX = make_docx(["密（本件於公布時解密）", "Negotiating position on the fisheries agreement."], header="密")
RAW = make_message("Fisheries position", "See the attached position paper.",
                   [("position.docx", DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document")],
                   headers={"Reply-To": "desk-secretary@mofa.example", "X-Mailer": "Desk 1.0", "Cc": "carol@partner.example"},
                   to="bob@partner.example")


def attachment_of(message_bytes: bytes) -> bytes:
    msg = email.message_from_bytes(message_bytes, policy=email.policy.default)
    (part,) = [p for p in msg.iter_attachments()]
    return part.get_payload(decode=True)


def test_cryptography_recovers_the_attachment_byte_for_byte():
    bob = recipient("bob@partner.example")
    encrypted = encrypt_message(RAW, [bob.certificate])
    inner = pkcs7.pkcs7_decrypt_smime(encrypted, bob.certificate, bob.key, [])
    assert attachment_of(inner) == DOCX


def test_openssl_smime_decrypt_recovers_the_attachment_byte_for_byte(tmp_path):
    bob = recipient("bob@partner.example")
    cert, key = bob.write(tmp_path, "bob")
    (tmp_path / "msg.eml").write_bytes(encrypt_message(RAW, [bob.certificate]))
    done = subprocess.run(["openssl", "smime", "-decrypt", "-in", str(tmp_path / "msg.eml"), "-recip", str(cert),
                           "-inkey", str(key)], capture_output=True, check=True)
    assert attachment_of(done.stdout) == DOCX


def test_content_is_aes_256_enveloped_data(tmp_path):
    bob = recipient("bob@partner.example")
    (tmp_path / "msg.eml").write_bytes(encrypt_message(RAW, [bob.certificate]))
    printed = subprocess.run(["openssl", "cms", "-cmsout", "-print", "-inform", "SMIME", "-in", str(tmp_path / "msg.eml")],
                             capture_output=True, check=True, text=True).stdout
    assert "pkcs7-envelopedData" in printed and "aes-256-cbc" in printed


def test_outer_headers_keep_routing_and_hide_the_rest():
    encrypted = encrypt_message(RAW, [recipient("bob@partner.example").certificate])
    outer = email.message_from_bytes(encrypted, policy=email.policy.default)
    assert outer.get_content_type() == "application/pkcs7-mime"
    assert outer.get_param("smime-type") == "enveloped-data"
    for name in ("From", "To", "Cc", "Date", "Message-ID", "Subject"):
        assert outer[name], name
    assert outer["Reply-To"] is None and outer["X-Mailer"] is None
    assert b"Negotiating" not in encrypted and DOCX[:200] not in encrypted


def test_subject_can_be_hidden_too():
    bob = recipient("bob@partner.example")
    encrypted = encrypt_message(RAW, [bob.certificate], keep_subject=False, subject_text="Encrypted message")
    outer = email.message_from_bytes(encrypted, policy=email.policy.default)
    assert outer["Subject"] == "Encrypted message"
    inner = email.message_from_bytes(pkcs7.pkcs7_decrypt_smime(encrypted, bob.certificate, bob.key, []),
                                     policy=email.policy.default)
    assert inner["Subject"] == "Fisheries position" and inner["Reply-To"] == "desk-secretary@mofa.example"


def test_several_recipients_each_decrypt_the_same_message():
    bob, carol = recipient("bob@partner.example", slot=1), recipient("carol@partner.example", slot=2)
    encrypted = encrypt_message(RAW, [bob.certificate, carol.certificate])
    for who in (bob, carol):
        assert attachment_of(pkcs7.pkcs7_decrypt_smime(encrypted, who.certificate, who.key, [])) == DOCX
