"""The shipped operations files: config example, dashboards and alert rules, systemd unit."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from dlp_gateway import metrics
from dlp_gateway.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.yaml"
# Keys whose default depends on the machine: documented in a comment, not set.
COMMENTED = {"workers.processes"}


def setting_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys.extend(setting_keys(annotation, f"{prefix}{name}."))
        else:
            keys.append(f"{prefix}{name}")
    return keys


def has_key(tree: dict[str, Any], dotted: str) -> bool:
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def test_config_example_loads() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.smtp.listen == "127.0.0.1:10025"
    assert settings.delivery.upstream is None


def test_config_example_documents_every_setting() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    tree = yaml.safe_load(text)
    missing = [
        key
        for key in setting_keys(Settings)
        if not (has_key(tree, key) or (key in COMMENTED and f"# {key.rsplit('.', 1)[1]}:" in text))
    ]
    assert not missing, f"config.example.yaml lacks {missing}; run: python3 scripts/make-config-example.py"
    lines = text.splitlines()
    for index, line in enumerate(lines):  # every key line has its explanation right above
        if re.match(r"^\s*[a-z_]+:", line) and index > 0:
            assert lines[index - 1].lstrip().startswith("#"), f"undocumented key: {line.strip()}"


def dashboard_queries() -> list[str]:
    dashboard = json.loads((ROOT / "dashboards" / "grafana-dlp-gateway.json").read_text(encoding="utf-8"))
    queries = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    alerts = yaml.safe_load((ROOT / "dashboards" / "prometheus-alerts.yml").read_text(encoding="utf-8"))
    queries += [rule["expr"] for group in alerts["groups"] for rule in group["rules"]]
    return queries


def test_every_metric_the_dashboards_and_alerts_query_is_exported() -> None:
    used = {name for query in dashboard_queries() for name in re.findall(r"\bdlp_[a-z_]+", query)}
    exported = metrics.exported_series_names()
    assert used, "the dashboards query no dlp_ metric"
    assert used <= exported, f"queried but not exported: {sorted(used - exported)}"


def test_dashboards_cover_the_operations_topics() -> None:
    text = " ".join(dashboard_queries())
    for name in ("dlp_messages_total", "dlp_inspection_seconds_bucket", "dlp_extraction_problems_total",
                 "dlp_quarantine_messages", "dlp_upstream_errors_total", "dlp_policy_reloads_total"):
        assert name in text


def test_design_metric_names_are_exported() -> None:
    exported = metrics.exported_series_names()
    for name in ("dlp_messages_total", "dlp_findings_total", "dlp_inspection_seconds_bucket",
                 "dlp_extraction_problems_total", "dlp_upstream_errors_total", "dlp_quarantine_messages",
                 "dlp_policy_reloads_total", "dlp_inflight_messages"):
        assert name in exported


def test_systemd_unit_is_hardened_and_reloads_with_sighup() -> None:
    unit = (ROOT / "systemd" / "dlp-gateway.service").read_text(encoding="utf-8")
    settings = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and not line.lstrip().startswith("#")
    )
    assert settings["User"] == "dlp-gateway"
    assert settings["StateDirectory"] == "dlp-gateway"
    assert settings["ProtectSystem"] == "strict"
    assert settings["NoNewPrivileges"] == "yes"
    assert settings["PrivateTmp"] == "yes"
    assert settings["CapabilityBoundingSet"] == ""
    assert settings["Restart"] == "on-failure"
    assert "-HUP" in settings["ExecReload"]
    assert "serve" in settings["ExecStart"] and "--data-dir /var/lib/dlp-gateway" in settings["ExecStart"]
