"""Files the gateway writes are private even when it is started with umask 000 (#13)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gatewayproc import REPO, GatewayProcess, make_message, send, start_gateway


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The test process (and so the gateway it starts) runs with umask 000."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def loose_files(root: Path) -> list[str]:
    """Paths under root readable/writable by others or writable by the group."""
    bad = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o027:
            bad.append(f"{path.relative_to(root)} {mode:o}")
    return bad


@pytest.mark.slow
def test_serve_started_with_umask_000_creates_no_world_readable_file(tmp_path: Path, open_umask: None) -> None:
    data_dir = tmp_path / "data"
    # No upstream: clean mail goes to the Maildir, marked mail to the quarantine.
    gw: GatewayProcess = start_gateway(tmp_path, data_dir=data_dir, name="maildir")
    try:
        assert send(gw.port, make_message(body="Lunch?\r\n"))[0] == 250
        code, text = send(gw.port, make_message(body="TOP SECRET\r\n\r\nplan\r\n"))
        assert code == 250 and "held for review" in text
    finally:
        gw.stop()
    os.chmod(data_dir, 0o750)  # made by the test (umask 000), not by the gateway
    created = list(data_dir.rglob("*"))
    assert any(p.suffix == ".eml" for p in created) and any("maildir" in str(p) for p in created)
    assert loose_files(data_dir) == []


def test_quarantine_command_with_umask_000_creates_a_private_store(tmp_path: Path, open_umask: None) -> None:
    data_dir = tmp_path / "data"
    done = subprocess.run([sys.executable, "-m", "dlp_gateway", "quarantine", "list", "--data-dir", str(data_dir)],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (data_dir / "store.sqlite").exists()
    assert loose_files(data_dir) == []
