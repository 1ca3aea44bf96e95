"""Raw MIME messages built byte by byte, and the real pipeline and default policy to judge them.

docgen.make_message builds tidy mail through the email package, which refuses to write
most of what these tests need (missing boundaries, reused boundaries, misspelt transfer
encodings, duplicate headers). So the messages here are written as bytes, and each test
states exactly which defect or hiding place it exercises. Encoders for uuencode, yEnc and
BinHex 4.0 are here too, to put files inside text bodies.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from pathlib import Path

from dlp_gateway.config import load_settings
from dlp_gateway.model import Envelope, InspectionReport
from dlp_gateway.pipeline import WorkerContext, inspect_message
from dlp_gateway.policy import Policy, load_policy

HEAD = (b"From: attache@mission.example\r\nTo: desk@mofa.example\r\nSubject: weekly notes\r\n"
        b"Date: Mon, 05 Jan 2026 08:00:00 +0000\r\nMessage-ID: <t1@mission.example>\r\nMIME-Version: 1.0\r\n")
US = "SECRET//NOFORN"  # a US banner: level secret
ROC = "機密"  # an ROC banner: level confidential
POLICIES = Path(__file__).resolve().parents[1] / "policies"


def message(content_type: str, body: bytes, headers: bytes = b"") -> bytes:
    """A message with the given top-level Content-Type and raw body."""
    return HEAD + headers + f"Content-Type: {content_type}\r\n".encode() + b"\r\n" + body


def text_part(text: str, *, cte: str | None = None, extra: bytes = b"", encoded: bytes | None = None) -> bytes:
    """One text/plain part (headers, blank line, body) in UTF-8."""
    head = b"Content-Type: text/plain; charset=utf-8\r\n" + extra
    if cte is not None:
        head += f"Content-Transfer-Encoding: {cte}\r\n".encode()
    return head + b"\r\n" + (encoded if encoded is not None else text.encode())


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def uuencode(name: str, data: bytes) -> bytes:
    lines = [binascii.b2a_uu(data[i:i + 45]) for i in range(0, len(data), 45)]
    return f"begin 644 {name}\n".encode() + b"".join(lines) + b"`\nend\n"


def yenc(name: str, data: bytes) -> bytes:
    out = bytearray()
    line = 0
    for byte in data:
        value = (byte + 42) % 256
        if value in (0, 10, 13, 61):
            out += bytes([61, (value + 64) % 256])
            line += 2
        else:
            out.append(value)
            line += 1
        if line >= 128:
            out += b"\n"
            line = 0
    return (f"=ybegin line=128 size={len(data)} name={name}\n".encode() + bytes(out)
            + f"\n=yend size={len(data)}\n".encode())


_HQX = b"!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr"


def binhex(name: str, data: bytes) -> bytes:
    """BinHex 4.0 with a data fork only; CRCs written as zero (readers we test ignore them)."""
    raw = (bytes([len(name)]) + name.encode() + b"\0" + b"TEXTttxt" + b"\0\0" + len(data).to_bytes(4, "big")
           + b"\0\0\0\0" + b"\0\0" + data + b"\0\0" + b"\0\0")
    raw = raw.replace(b"\x90", b"\x90\x00")  # run-length coding's escape of its marker
    # BinHex's 6-bit coding is base64's with another alphabet (and no padding).
    std = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    chars = base64.b64encode(raw).rstrip(b"=").translate(bytes.maketrans(std, _HQX))
    lines = b"\n".join(chars[i:i + 64] for i in range(0, len(chars), 64))
    return b"(This file must be converted with BinHex 4.0)\n:" + lines + b":\n"


@lru_cache(maxsize=1)
def context() -> WorkerContext:
    """A worker's context on the shipped rules (no fingerprint register), built once."""
    return WorkerContext.from_settings(load_settings(None, {"detect.fingerprints": False}))


@lru_cache(maxsize=1)
def policy() -> Policy:
    return load_policy(POLICIES)


def inspect(raw: bytes) -> InspectionReport:
    """The relay's inspection of `raw`: extraction and detection, as a worker runs them."""
    return inspect_message(raw, context())


def decision(report: InspectionReport) -> tuple[str, str]:
    """(action, rule) of the shipped default policy for one external recipient."""
    envelope = Envelope("attache@mission.example", ("desk@partner.example",))
    (decided,) = policy().decide(report, envelope)
    return decided.action, decided.rule


def levels(report: InspectionReport) -> dict[str, str]:
    """Location -> level label of every finding that carries a level."""
    return {f.location: f.level.label for f in report.findings if f.level is not None}


def signed_data(content: bytes, *, detached: bool = False) -> bytes:
    """DER CMS signedData over `content` (an S/MIME .p7m/.p7s), signed by a throwaway EC key."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "signer@mission.example")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(dt.datetime(2025, 1, 1)).not_valid_after(dt.datetime(2035, 1, 1))
            .sign(key, hashes.SHA256()))
    options = [pkcs7.PKCS7Options.DetachedSignature] if detached else []
    return pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(cert, key, hashes.SHA256()).sign(Encoding.DER, options)
