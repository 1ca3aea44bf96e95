"""Shared fixtures, kept small and generic: a recording SMTP sink and a throwaway test CA."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gatewayproc import PKI, Sink, make_pki


@pytest.fixture
def sink() -> Iterator[Sink]:
    """An aiosmtpd next hop on a free loopback port that records what it receives."""
    with Sink() as running:
        yield running


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    """A CA and a `localhost` server certificate, generated once per test session."""
    return make_pki(Path(tmp_path_factory.mktemp("pki")))
