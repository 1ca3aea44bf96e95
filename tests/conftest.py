"""Shared fixtures, kept small and generic: a recording SMTP sink, a throwaway test CA, and a
worker context for tests that inspect generated documents."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dlp_gateway.config import load_settings
from dlp_gateway.model import Level
from dlp_gateway.pipeline import InspectionReport, WorkerContext
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


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> WorkerContext:
    """What an inspection worker holds (shipped rules, no fingerprint register), once per module."""
    data = tmp_path_factory.mktemp("data")
    return WorkerContext.from_settings(load_settings(None, {"data_dir": str(data), "detect.fingerprints": False}))


def levels_at(report: InspectionReport) -> dict[str, Level]:
    """location -> highest level found there."""
    out: dict[str, Level] = {}
    for finding in report.findings:
        if finding.level is not None:
            out[finding.location] = max(out.get(finding.location, finding.level), finding.level)
    return out
