"""S/MIME (RFC 8551) enveloped data: finding a recipient's certificate and encrypting to it.

Certificates live in one directory (`settings.certs_dir`, default `<data-dir>/certs/`):
`alice@example.org.pem` for one address, `example.org.pem` for a whole domain; the
address file wins. A certificate is used only when it is valid now, holds an RSA key
(what `cryptography`'s PKCS7EnvelopeBuilder supports), allows key encipherment if it
states a key usage, and allows e-mail protection if it states an extended key usage.
The directory is the trust decision: the administrator put the certificate there, so
no chain is built.

The encrypted message is the whole original message (all its headers and its body,
byte for byte, with CRLF line ends) as the enveloped content, AES-256-CBC. Outside
stay only the headers a mail system needs to route and show it (From, To, Cc, Date,
Message-ID, Subject unless the policy hides it, plus trace headers); everything else,
e.g. Reply-To, X-Mailer, In-Reply-To, travels inside.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.parser
import email.policy
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID

OUTER_HEADERS = ("from", "to", "cc", "date", "message-id", "subject", "received", "return-path", "sender")
_SAFE_ADDRESS = re.compile(r"^[^/\\\x00\s]+@[^/\\\x00\s]+$")


@dataclass(frozen=True, slots=True)
class CertLookup:
    """The usable certificate for a recipient, or None and why not."""

    certificate: x509.Certificate | None
    path: Path | None
    reason: str


def check_certificate(cert: x509.Certificate, now: dt.datetime | None = None) -> str | None:
    """None when the certificate may be used to encrypt mail now; otherwise the reason not."""
    now = now or dt.datetime.now(dt.UTC)
    if now < cert.not_valid_before_utc:
        return f"not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
    if now > cert.not_valid_after_utc:
        return f"expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
    if not isinstance(cert.public_key(), rsa.RSAPublicKey):
        return "not an RSA key (only RSA recipients are supported)"
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not usage.key_encipherment:
        return "key usage does not allow key encipherment"
    try:
        extended = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        extended = None
    if extended is not None and not {ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE} & set(extended):
        return "extended key usage does not include e-mail protection"
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is not None and constraints.ca:
        return "a CA certificate, not a recipient's"
    return None


def find_certificate(certs_dir: Path, address: str, now: dt.datetime | None = None) -> CertLookup:
    """The recipient's usable certificate: `<address>.pem`, else `<domain>.pem`."""
    address = address.strip().strip("<>").lower()
    if not _SAFE_ADDRESS.match(address) or address.startswith("."):
        return CertLookup(None, None, f"{address!r} is not an address a certificate file can be named after")
    domain = address.rpartition("@")[2]
    problems = []
    for candidate in (certs_dir / f"{address}.pem", certs_dir / f"{domain}.pem"):
        try:
            data = candidate.read_bytes()
        except FileNotFoundError:
            continue
        except OSError as exc:
            problems.append(f"{candidate.name}: cannot read: {exc.strerror}")
            continue
        try:
            certs = x509.load_pem_x509_certificates(data)
        except ValueError as exc:
            problems.append(f"{candidate.name}: not a PEM certificate: {exc}")
            continue
        for cert in certs:
            why_not = check_certificate(cert, now)
            if why_not is None:
                return CertLookup(cert, candidate, f"certificate {candidate.name}")
            problems.append(f"{candidate.name}: {why_not}")
    if not problems:
        return CertLookup(None, None, f"no certificate for {address} or {domain} in {certs_dir}")
    return CertLookup(None, None, "no usable certificate: " + "; ".join(problems))


def canonical_crlf(data: bytes) -> bytes:
    """CRLF line ends, as S/MIME requires for the content it protects (RFC 8551 3.1.1)."""
    return re.sub(rb"\r?\n", b"\r\n", data)


def split_header_block(raw: bytes) -> tuple[list[bytes], bytes]:
    """The raw header fields (each with its folded continuation lines) and the body."""
    data = canonical_crlf(raw)
    end = data.find(b"\r\n\r\n")
    head, body = (data, b"") if end < 0 else (data[: end + 2], data[end + 4 :])
    fields: list[bytes] = []
    for line in head.split(b"\r\n"):
        if not line:
            continue
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\r\n" + line
        else:
            fields.append(line)
    return fields, body


def field_name(field_bytes: bytes) -> str:
    return field_bytes.split(b":", 1)[0].strip().decode("ascii", "replace").lower()


def encrypt_message(
    raw: bytes,
    certificates: list[x509.Certificate],
    *,
    keep_subject: bool = True,
    subject_text: str = "Encrypted message",
) -> bytes:
    """The S/MIME enveloped-data message for `raw`, readable by each certificate's key holder."""
    inner = canonical_crlf(raw)
    builder = pkcs7.PKCS7EnvelopeBuilder().set_data(inner).set_content_encryption_algorithm(algorithms.AES256)
    for cert in certificates:
        builder = builder.add_recipient(cert)
    der = builder.encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    fields, _ = split_header_block(raw)
    outer = [f for f in fields if field_name(f) in OUTER_HEADERS and (keep_subject or field_name(f) != "subject")]
    if not keep_subject:
        outer.append(b"Subject: " + _header_value(subject_text))
    outer += [
        b"MIME-Version: 1.0",
        b'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
        b'Content-Disposition: attachment; filename="smime.p7m"',
        b"Content-Transfer-Encoding: base64",
    ]
    body = base64.encodebytes(der).replace(b"\n", b"\r\n")
    return b"\r\n".join(outer) + b"\r\n\r\n" + body


def _header_value(text: str) -> bytes:
    from email.header import Header

    return Header(" ".join(text.split()), "utf-8").encode().encode("ascii")


def decrypt_message(message: bytes, certificate: x509.Certificate, key: rsa.RSAPrivateKey) -> bytes:
    """The inverse of encrypt_message (for tests and the recipient side): the original bytes."""
    parsed = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(message)
    der = parsed.get_payload(decode=True)
    return pkcs7.pkcs7_decrypt_der(der, certificate, key, [])
