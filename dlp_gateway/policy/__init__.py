"""Policy: findings plus the envelope in, one `Decision` per recipient out.

`load_policy(dir)` reads every `*.yaml` of a directory (schema.py, loader.py), compiles
the conditions (conditions.py) and returns a `Policy` whose `decide(report, envelope)`
evaluates the ordered rules per recipient (evaluate.py). reload.py keeps the running
policy and swaps in a new one only when it loads cleanly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dlp_gateway.policy.evaluate import Evaluation, Policy, RuleResult, incident_level
from dlp_gateway.policy.loader import PolicyError, load_directory

if TYPE_CHECKING:
    from dlp_gateway.config import Settings

__all__ = ["Evaluation", "Policy", "PolicyError", "RuleResult", "incident_level", "load_policy", "load_policy_from_settings"]


def load_policy(directory: str | Path, internal_domains: Sequence[str] | None = None) -> Policy:
    """Load and validate a policy directory; raise PolicyError naming file, line and field."""
    path = Path(directory)
    return Policy.from_files(load_directory(path), internal_domains or (), source=path)


def load_policy_from_settings(settings: Settings) -> Policy:
    """The policy the settings name, with their internal domains (for `direction`)."""
    return load_policy(settings.policy_dir, settings.policy.internal_domains)
