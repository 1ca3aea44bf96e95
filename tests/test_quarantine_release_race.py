"""Two officers releasing the same held message at once cause exactly one delivery (#13)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import yaml

from dlp_gateway.model import Envelope
from dlp_gateway.store.quarantine import QuarantineStore
from tests.gatewayproc import REPO, Sink, base_config, deep_merge, make_message


def hold(data_dir: Path) -> str:
    store = QuarantineStore(data_dir)
    try:
        record = store.put(Envelope("alice@example.test", ("bob@example.test",)),
                           make_message(subject="held", body="SECRET\r\n\r\nplan\r\n"),
                           ["bob@example.test"], "hold-secret", "marked SECRET", None)
    finally:
        store.close()
    return record.id


def release_process(config: Path, qid: str, operator: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dlp_gateway", "quarantine", "release", qid, "--operator", operator,
         "--config", str(config)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_two_concurrent_releases_deliver_the_message_exactly_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    qid = hold(data_dir)
    # The next hop takes a second to answer DATA: both officers' releases are started
    # well within that window, so both would deliver if each only checked the status.
    with Sink(delay_seconds=1.5) as sink:
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump(deep_merge(base_config(data_dir), {"delivery": {"upstream": sink.address}})))
        procs = [release_process(config, qid, name) for name in ("officer.lin", "officer.chen")]
        results = [(p.wait(60), *p.communicate()) for p in procs]
        time.sleep(0.5)  # a second delivery, if any, would have arrived by now
        assert len(sink.messages) == 1
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    loser_err = next(err for code, _, err in results if code == 2)
    assert "being released by" in loser_err or "already released" in loser_err
    store = QuarantineStore(data_dir)
    try:
        assert store.require(qid).status == "released"
    finally:
        store.close()


def test_release_refused_by_the_next_hop_leaves_the_message_held_and_releasable(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    qid = hold(data_dir)
    with Sink(mode="reject") as sink:
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump(deep_merge(base_config(data_dir), {"delivery": {"upstream": sink.address}})))
        proc = release_process(config, qid, "officer.lin")
        assert proc.wait(60) == 1
    store = QuarantineStore(data_dir)
    try:
        record = store.require(qid)
        assert record.status == "held" and "550" in (record.release_result or "")
        assert store.claim_release(qid, "officer.chen")  # the claim was handed back
    finally:
        store.close()


def test_a_release_left_unfinished_is_only_taken_over_with_retry_interrupted(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    qid = hold(data_dir)
    store = QuarantineStore(data_dir)
    try:
        assert store.claim_release(qid, "officer.lin")  # its process died before recording the outcome
    finally:
        store.close()
    with Sink() as sink:
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump(deep_merge(base_config(data_dir), {"delivery": {"upstream": sink.address}})))
        refused = release_process(config, qid, "officer.chen")
        assert refused.wait(60) == 2
        assert "being released by officer.lin" in refused.communicate()[1] and not sink.messages
        proc = subprocess.Popen(
            [sys.executable, "-m", "dlp_gateway", "quarantine", "release", qid, "--operator", "officer.chen",
             "--retry-interrupted", "--config", str(config)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.wait(60) == 0, proc.communicate()
        assert len(sink.wait_for(1)) == 1


def test_expiry_leaves_a_message_that_is_being_released(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    qid = hold(data_dir)
    store = QuarantineStore(data_dir)
    try:
        assert store.claim_release(qid, "officer.lin")
        assert store.expire(days=1, now=time.time() + 10 * 86400) == []
        assert store.get(qid) is not None
    finally:
        store.close()
