"""Every setting as commented YAML: its meaning, and its default or its effective value.

One renderer serves `config.example.yaml` (the defaults, written by
scripts/make-config-example.py) and `dlp-gateway config` (what a running gateway would use,
after the file and the flags), so the two can never describe different settings.
"""

from __future__ import annotations

import textwrap
from typing import Any

import yaml
from pydantic import BaseModel

from dlp_gateway.config import Settings

SECTION_HELP = {
    "smtp": "Inbound SMTP: where and how mail is accepted.",
    "delivery": "Outbound delivery to the next hop.",
    "limits": "Extraction limits: hitting one stops that branch and records a limit_exceeded problem.",
    "detect": "Detection: which detectors run and their rule files.",
    "policy": "Policy: where the rules are and what counts as inside.",
    "store": "Retention of the quarantine and the trace index.",
    "log": "The decision log (one JSON line per message) and the operational log.",
    "workers": "Inspection worker processes, back-pressure and shutdown.",
}

# Defaults that depend on the machine are shown as a comment, not as a value.
MACHINE_DEFAULTS = {"workers.processes": "the number of CPUs"}


def scalar(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def render(model: type[BaseModel], values: BaseModel | None, indent: int = 0, prefix: str = "") -> list[str]:
    """Lines of commented YAML for `model`: the values of `values`, or the defaults when None."""
    lines: list[str] = []
    pad = "  " * indent
    for name, field in model.model_fields.items():
        dotted = f"{prefix}{name}"
        description = field.description or ""
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if lines:
                lines.append("")
            help_text = SECTION_HELP.get(name) or description or (annotation.__doc__ or "").strip().splitlines()[0]
            for chunk in textwrap.wrap(help_text, 90 - len(pad)):
                lines.append(f"{pad}# {chunk}")
            lines.append(f"{pad}{name}:")
            lines.extend(render(annotation, getattr(values, name) if values is not None else None, indent + 1, dotted + "."))
            continue
        for chunk in textwrap.wrap(description, 90 - len(pad)):
            lines.append(f"{pad}# {chunk}")
        if values is None and dotted in MACHINE_DEFAULTS:
            lines.append(f"{pad}# default: {MACHINE_DEFAULTS[dotted]}")
            lines.append(f"{pad}# {name}: 4")
            continue
        value = getattr(values, name) if values is not None else field.get_default(call_default_factory=True)
        lines.append(f"{pad}{name}: {scalar(value)}")
    return lines


def render_settings(settings: Settings | None) -> str:
    """The whole configuration as commented YAML (defaults when `settings` is None)."""
    return "\n".join(render(Settings, settings)) + "\n"
