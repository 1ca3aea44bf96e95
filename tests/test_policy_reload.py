"""Reload: a new valid policy is swapped in; a broken one is refused and the old one stays."""

from __future__ import annotations

import asyncio
import os

from dlp_gateway.policy import load_policy
from dlp_gateway.policy.reload import PolicyHolder
from tests.policy_helpers import envelope, report, write_policy

GOOD = "rules: [{name: v1, action: deliver}]\n"


def holder_for(tmp_path):
    directory = tmp_path / "p"
    write_policy(directory, GOOD)
    return directory, PolicyHolder(lambda: load_policy(directory), directory)


def test_reload_swaps_in_a_valid_new_policy(tmp_path):
    directory, holder = holder_for(tmp_path)
    write_policy(directory, "rules: [{name: v2, action: quarantine}]\n")
    assert holder.reload() is True
    assert holder.current.decide(report(), envelope())[0].rule == "v2"


def test_reload_with_a_broken_file_keeps_the_old_policy_and_counts_the_error(tmp_path):
    directory, holder = holder_for(tmp_path)
    write_policy(directory, "rules: [{name: v2, action: quarantine, when: {levle_at_least: secret}}]\n")
    assert holder.reload() is False
    assert holder.current.decide(report(), envelope())[0].rule == "v1"
    assert holder.reloads == {"success": 0, "error": 1}
    assert "levle_at_least" in holder.last_error


def test_watch_reloads_when_a_file_changes(tmp_path):
    directory, holder = holder_for(tmp_path)

    async def scenario():
        task = asyncio.create_task(holder.watch(interval=0.02))
        path = write_policy(directory, "rules: [{name: v2, action: quarantine}]\n")
        os.utime(path, ns=(1, 1))  # a different mtime even on coarse-grained file systems
        for _ in range(200):
            await asyncio.sleep(0.01)
            if holder.current.rules[0].name == "v2":
                break
        task.cancel()

    asyncio.run(scenario())
    assert holder.current.rules[0].name == "v2"
