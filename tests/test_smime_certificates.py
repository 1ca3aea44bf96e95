"""Which recipient certificates the encrypt action may use."""

from __future__ import annotations

from dlp_gateway.actions.smime import find_certificate
from tests.smime_certs import ca_identity, recipient


def test_address_certificate_is_found(tmp_path):
    recipient("bob@partner.example").write(tmp_path, "bob@partner.example")
    lookup = find_certificate(tmp_path, "Bob@Partner.example")
    assert lookup.certificate is not None and lookup.path == tmp_path / "bob@partner.example.pem"


def test_domain_certificate_serves_every_address_of_the_domain(tmp_path):
    recipient("gateway@partner.example").write(tmp_path, "partner.example")
    assert find_certificate(tmp_path, "anyone@partner.example").path == tmp_path / "partner.example.pem"


def test_address_certificate_wins_over_the_domain_one(tmp_path):
    recipient("gateway@partner.example", slot=2).write(tmp_path, "partner.example")
    recipient("bob@partner.example").write(tmp_path, "bob@partner.example")
    assert find_certificate(tmp_path, "bob@partner.example").path.name == "bob@partner.example.pem"


def test_missing_certificate_says_where_it_looked(tmp_path):
    lookup = find_certificate(tmp_path, "eve@news.example")
    assert lookup.certificate is None and "no certificate for eve@news.example or news.example" in lookup.reason


def unusable(tmp_path, **kwargs) -> str:
    recipient("bob@partner.example", **kwargs).write(tmp_path, "bob@partner.example")
    lookup = find_certificate(tmp_path, "bob@partner.example")
    assert lookup.certificate is None
    return lookup.reason


def test_expired_certificate_is_not_used(tmp_path):
    assert "expired on" in unusable(tmp_path, valid_from_days=-30, valid_days=10)


def test_not_yet_valid_certificate_is_not_used(tmp_path):
    assert "not valid before" in unusable(tmp_path, valid_from_days=10)


def test_certificate_without_key_encipherment_is_not_used(tmp_path):
    assert "key encipherment" in unusable(tmp_path, key_encipherment=False)


def test_certificate_without_email_protection_is_not_used(tmp_path):
    assert "e-mail protection" in unusable(tmp_path, email_protection=False)


def test_non_rsa_certificate_is_not_used(tmp_path):
    assert "RSA" in unusable(tmp_path, ec_key=True)


def test_ca_certificate_is_not_a_recipient(tmp_path):
    ca_identity().write(tmp_path, "partner.example")
    assert "CA certificate" in find_certificate(tmp_path, "bob@partner.example").reason


def test_address_that_is_a_path_is_refused(tmp_path):
    assert find_certificate(tmp_path, "../../etc/passwd@x").certificate is None
