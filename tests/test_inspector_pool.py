"""The inspection worker pool: messages are inspected in worker processes, and a worker that
hangs or dies costs only its own message (InspectionError → 451), never a hang or a lost pool.

Workers are made to hang or die from outside, as in production (SIGSTOP / SIGKILL on the
worker's PID), so the production code carries no test hooks.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from dlp_gateway.config import Settings, load_settings
from dlp_gateway.inspector import (
    InspectionError,
    InspectionTimeout,
    Inspector,
    WorkerLost,
    is_plain_text,
)


def message(subject: str, body: str = "Minutes of the weekly meeting.") -> bytes:
    return (
        f"From: a@example.org\r\nTo: b@example.org\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject}@example.org>\r\n\r\n{body}\r\n"
    ).encode()


def settings(**overrides: Any) -> Settings:
    base = {"workers.processes": 2, "limits.max_seconds": 0.5, "workers.timeout_margin_seconds": 0.5}
    base.update(overrides)
    return load_settings(None, base)


def run(body: Callable[[Inspector], Awaitable[None]], **overrides: Any) -> None:
    async def main() -> None:
        async with Inspector(settings(**overrides)) as inspector:
            await body(inspector)

    asyncio.run(main())


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still "exists" until reaped; count it as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def test_concurrent_inspections_each_get_their_own_report() -> None:
    async def body(inspector: Inspector) -> None:
        subjects = [f"msg-{i}" for i in range(60)]
        reports = await asyncio.gather(*(inspector.inspect(message(s)) for s in subjects))
        assert [r.inspection.subject for r in reports] == subjects
        assert len(inspector.worker_pids) == 2
        assert os.getpid() not in inspector.worker_pids

    run(body)


def test_the_relay_gets_findings_and_parts_but_no_message_text() -> None:
    async def body(inspector: Inspector) -> None:
        report = await inspector.inspect(message("visit", "機密\n\nThe programme of the visit."))
        assert report.findings and report.level is not None
        assert report.inspection.parts and report.inspection.subject == "visit"
        assert report.inspection.segments == []

    run(body)


def test_worker_hanging_past_the_time_limit_is_killed_and_its_message_fails_quickly() -> None:
    async def body(inspector: Inspector) -> None:
        hung = inspector.worker_pids[0]
        os.kill(hung, signal.SIGSTOP)  # the worker stops answering, as a stuck parser would
        started = time.monotonic()
        results = await asyncio.gather(
            *(inspector.inspect(message(f"m{i}")) for i in range(6)), return_exceptions=True
        )
        elapsed = time.monotonic() - started
        timeouts = [r for r in results if isinstance(r, InspectionTimeout)]
        assert len(timeouts) == 1  # only the message the hung worker held
        assert all(isinstance(r, InspectionError) or r.inspection.subject for r in results)
        assert elapsed < 0.5 + 0.5 + 5.0  # max_seconds + margin, plus slack for a loaded machine
        await wait_until(lambda: not process_exists(hung))
        await wait_until(lambda: len(inspector.worker_pids) == 2)
        assert hung not in inspector.worker_pids
        assert inspector.replaced == 1

    run(body)


def test_worker_dying_during_a_message_fails_only_that_message_and_is_replaced() -> None:
    async def body(inspector: Inspector) -> None:
        victim = inspector.worker_pids[0]
        os.kill(victim, signal.SIGSTOP)
        tasks = [asyncio.create_task(inspector.inspect(message(f"m{i}"))) for i in range(2)]
        await asyncio.sleep(0.1)  # both messages are now held by a worker
        os.kill(victim, signal.SIGKILL)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert sum(isinstance(r, WorkerLost) for r in results) == 1
        assert sum(not isinstance(r, BaseException) for r in results) == 1
        await wait_until(lambda: len(inspector.worker_pids) == 2 and victim not in inspector.worker_pids)
        # The pool keeps serving with both workers.
        reports = await asyncio.gather(*(inspector.inspect(message(f"after{i}")) for i in range(20)))
        assert [r.inspection.subject for r in reports] == [f"after{i}" for i in range(20)]

    run(body, **{"limits.max_seconds": 30})


def test_worker_that_died_while_idle_is_replaced_before_it_gets_a_message() -> None:
    async def body(inspector: Inspector) -> None:
        victim = inspector.worker_pids[0]
        os.kill(victim, signal.SIGKILL)
        await wait_until(lambda: not process_exists(victim))
        await asyncio.sleep(0.05)  # let the loop see the end of file on its socket
        reports = await asyncio.gather(*(inspector.inspect(message(f"m{i}")) for i in range(10)))
        assert len(reports) == 10
        await wait_until(lambda: len(inspector.worker_pids) == 2 and victim not in inspector.worker_pids)

    run(body, **{"limits.max_seconds": 30})


def test_no_free_worker_within_the_queue_limit_is_an_inspection_error() -> None:
    async def body(inspector: Inspector) -> None:
        (only,) = inspector.worker_pids
        os.kill(only, signal.SIGSTOP)
        busy = asyncio.create_task(inspector.inspect(message("held")))
        await asyncio.sleep(0.05)
        with pytest.raises(InspectionError, match="no inspection worker became free"):
            await inspector.inspect(message("waiting"))
        with pytest.raises(InspectionTimeout):
            await busy

    run(body, **{"workers.processes": 1, "limits.max_seconds": 1, "workers.max_queue_seconds": 0.3})


def test_reload_swaps_workers_and_old_ones_finish_their_message() -> None:
    async def body(inspector: Inspector) -> None:
        old = inspector.worker_pids
        os.kill(old[0], signal.SIGSTOP)
        in_flight = [asyncio.create_task(inspector.inspect(message(f"old{i}"))) for i in range(2)]
        await asyncio.sleep(0.1)
        await inspector.reload()
        new = inspector.worker_pids
        assert len(new) == 2 and not set(new) & set(old)
        os.kill(old[0], signal.SIGCONT)
        reports = await asyncio.gather(*in_flight)
        assert sorted(r.inspection.subject for r in reports) == ["old0", "old1"]
        await wait_until(lambda: not any(process_exists(pid) for pid in old))
        report = await inspector.inspect(message("new"))
        assert report.inspection.subject == "new"

    run(body, **{"limits.max_seconds": 30})


def test_close_stops_every_worker_and_fails_messages_in_flight() -> None:
    async def main() -> None:
        inspector = Inspector(settings(**{"limits.max_seconds": 30}))
        await inspector.start()
        pids = inspector.worker_pids
        os.kill(pids[0], signal.SIGSTOP)
        os.kill(pids[1], signal.SIGSTOP)
        in_flight = [asyncio.create_task(inspector.inspect(message(f"m{i}"))) for i in range(3)]
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await inspector.close()
        assert time.monotonic() - started < 5
        results = await asyncio.gather(*in_flight, return_exceptions=True)
        assert all(isinstance(r, InspectionError) for r in results)
        assert not any(process_exists(pid) for pid in pids)
        with pytest.raises(InspectionError, match="shut down"):
            await inspector.inspect(message("late"))

    asyncio.run(main())


def test_plain_text_under_the_threshold_is_inspected_without_a_worker() -> None:
    async def body(inspector: Inspector) -> None:
        for pid in inspector.worker_pids:
            os.kill(pid, signal.SIGSTOP)  # any message sent to a worker would now time out
        report = await inspector.inspect(message("inline", "A short plain note."))
        assert report.inspection.subject == "inline"
        big = message("big", "x" * 5000)
        with pytest.raises(InspectionTimeout):
            await inspector.inspect(big)

    run(body, **{"workers.processes": 1, "workers.inline_max_bytes": 4096})


def test_plain_text_detection_reads_only_the_top_level_content_type() -> None:
    assert is_plain_text(b"Subject: x\r\n\r\nbody")
    assert is_plain_text(b"Content-Type: text/plain; charset=utf-8\r\n\r\nbody")
    assert is_plain_text(b"Content-type:TEXT/PLAIN\n\nbody")
    assert not is_plain_text(b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n")
    assert not is_plain_text(b"Content-Type: text/html\r\n\r\n<p>x</p>")
    # A Content-Type line in the body does not count.
    assert is_plain_text(b"Subject: x\r\n\r\nContent-Type: application/pdf\r\n")


def test_reload_with_broken_rules_keeps_the_running_workers(tmp_path: Any) -> None:
    broken = tmp_path / "rules"
    broken.mkdir()
    (broken / "bad.yar").write_text("rule broken { condition: }\n")

    async def body(inspector: Inspector) -> None:
        before = inspector.worker_pids
        with pytest.raises(InspectionError, match="bad.yar"):
            await inspector.reload(settings(**{"detect.yara_dir": str(broken)}))
        assert inspector.worker_pids == before
        report = await inspector.inspect(message("still served"))
        assert report.inspection.subject == "still served"

    run(body, **{"limits.max_seconds": 30})


def test_workers_that_cannot_load_their_rules_fail_start_with_the_reason(tmp_path: Any) -> None:
    broken = tmp_path / "rules"
    broken.mkdir()
    (broken / "bad.yar").write_text("rule broken { condition: }\n")

    async def main() -> None:
        inspector = Inspector(settings(**{"detect.yara_dir": str(broken)}))
        with pytest.raises(InspectionError, match="could not load its rules"):
            await inspector.start()
        await inspector.close()

    asyncio.run(main())


def test_a_message_larger_than_one_write_reaches_the_worker_intact() -> None:
    import hashlib

    body = "".join(f"line {i} of a long report about the cultural week\r\n" for i in range(60_000))
    raw = message("large", body)
    assert len(raw) > 2 * 1024 * 1024

    async def body_check(inspector: Inspector) -> None:
        report = await inspector.inspect(raw)
        assert report.size == len(raw)
        (part,) = [p for p in report.inspection.parts if p.location != "headers"]
        assert part.sha256 == hashlib.sha256((body + "\r\n").encode()).hexdigest()

    run(body_check, **{"workers.processes": 1, "limits.max_seconds": 30})


def test_a_worker_is_recycled_after_its_message_quota() -> None:
    async def body(inspector: Inspector) -> None:
        (first,) = inspector.worker_pids
        for i in range(3):
            report = await inspector.inspect(message(f"m{i}"))
            assert report.inspection.subject == f"m{i}"
        await wait_until(lambda: len(inspector.worker_pids) == 1 and first not in inspector.worker_pids)
        assert inspector.replaced == 0  # recycling is not a failure
        assert (await inspector.inspect(message("after"))).inspection.subject == "after"

    run(body, **{"workers.processes": 1, "workers.max_messages_per_worker": 2, "limits.max_seconds": 30})
