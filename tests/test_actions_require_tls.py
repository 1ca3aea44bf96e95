"""require_tls: delivered only over TLS whose certificate verifies; otherwise the fallback."""

from __future__ import annotations

from dlp_gateway.model import Action, Decision, Envelope
from tests.actions_helpers import bench
from tests.gatewayproc import make_message, make_pki

RAW = make_message(subject="Treaty draft", body="Draft text.")
ENV = Envelope("alice@mofa.example", ("bob@partner.example",))


def decision(fallback: str = "quarantine") -> Decision:
    return Decision("bob@partner.example", "require_tls", "tls-only", "partner mail", params=(("fallback", fallback),))


def test_delivers_over_verified_tls(tmp_path):
    pki = make_pki(tmp_path / "pki")
    with bench(tmp_path, sink_tls=pki.server_context(), **{"delivery.tls_ca_file": str(pki.ca_cert),
                                                           "delivery.tls_server_name": "localhost"}) as b:
        (outcome,) = b.run(RAW, ENV, [decision()])
        (got,) = b.sink.wait_for(1)
    assert (outcome.action, outcome.code) == (Action.DELIVER, 250)
    assert got.tls is True and "verified TLS" in outcome.detail


def test_next_hop_without_starttls_means_the_fallback(tmp_path):
    with bench(tmp_path) as b:
        (outcome,) = b.run(RAW, ENV, [decision()])
        held = b.quarantined()
        assert b.sink.messages == []
    assert outcome.action == Action.QUARANTINE and held[0].id == outcome.quarantine_id
    assert "no verified TLS" in held[0].reason


def test_certificate_that_does_not_verify_means_the_fallback(tmp_path):
    pki = make_pki(tmp_path / "pki")
    other = make_pki(tmp_path / "other")  # a CA the next hop's certificate does not chain to
    with bench(tmp_path, sink_tls=pki.server_context(), **{"delivery.tls_ca_file": str(other.ca_cert),
                                                           "delivery.tls_server_name": "localhost"}) as b:
        (outcome,) = b.run(RAW, ENV, [decision(fallback="reject")])
        assert b.sink.messages == []
    assert (outcome.action, outcome.code) == (Action.REJECT, 550)
