"""Prometheus metrics (prefix `dlp_`), served on `--metrics HOST:PORT`.

The names in DESIGN.md are a contract: the Grafana dashboard and the alert rules in
`dashboards/` query them, and a test checks that every name they use is exported here.
Metrics live in the default registry, so any module can import and count.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

MESSAGES = Counter("dlp_messages_total", "Messages by the final action for the message.", ["action"])
FINDINGS = Counter("dlp_findings_total", "Findings by detector and classification level.", ["detector", "level"])
INSPECTION_SECONDS = Histogram(
    "dlp_inspection_seconds",
    "Seconds to extract and detect one message.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, float("inf")),
)
EXTRACTION_PROBLEMS = Counter("dlp_extraction_problems_total", "Content that could not be fully read, by kind.", ["kind"])
UPSTREAM_ERRORS = Counter("dlp_upstream_errors_total", "Delivery attempts the next hop did not accept (temporary or refused).")
QUARANTINE_MESSAGES = Gauge("dlp_quarantine_messages", "Messages held in the quarantine.")
POLICY_RELOADS = Counter("dlp_policy_reloads_total", "Policy and rule reloads by result.", ["result"])
INFLIGHT_MESSAGES = Gauge("dlp_inflight_messages", "Messages being inspected or delivered now.")
INFLIGHT_BYTES = Gauge("dlp_inflight_bytes", "Bytes of the messages being inspected or delivered now.")
DELIVERY_SECONDS = Histogram(
    "dlp_delivery_seconds",
    "Seconds to hand one message to the next hop (or the Maildir).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, float("inf")),
)
MESSAGE_BYTES = Histogram(
    "dlp_message_bytes",
    "Size of received messages.",
    buckets=(1e3, 1e4, 1e5, 1e6, 5e6, 1e7, 2.5e7, 5e7, 1e8, float("inf")),
)
SMTP_CONNECTIONS = Gauge("dlp_smtp_connections", "Open inbound SMTP connections.")
SMTP_REFUSED = Counter(
    "dlp_smtp_refused_total",
    "Inbound commands or connections refused before inspection, by reason.",
    ["reason"],
)
INSPECTION_ERRORS = Counter("dlp_inspection_errors_total", "Messages answered 451 because inspection failed or timed out.")
MONITOR_DECISIONS = Counter(
    "dlp_monitor_decisions_total",
    "Decisions of rules in monitor mode (recorded, not enforced), by the action they would take.",
    ["action"],
)
TRACE_RECORDS = Counter(
    "dlp_trace_records_total",
    "Delivery records for the trace index, by result (written, dropped: writer backlog full, error).",
    ["result"],
)
HOLDS = Counter(
    "dlp_holds_total",
    "Messages held (quarantined or rejected), by reason category (policy/reasons.py), e.g. "
    "'encrypted content', 'classified marking (secret)', 'limit exceeded: max_depth'.",
    ["reason"],
)
DSN_SENT = Counter("dlp_dsn_total", "Delivery status notifications sent to senders, by result.", ["result"])

# Every metric family name the gateway exports (without the _bucket/_count/_sum suffixes).
EXPORTED = (
    "dlp_messages_total",
    "dlp_findings_total",
    "dlp_inspection_seconds",
    "dlp_extraction_problems_total",
    "dlp_upstream_errors_total",
    "dlp_quarantine_messages",
    "dlp_policy_reloads_total",
    "dlp_inflight_messages",
    "dlp_inflight_bytes",
    "dlp_delivery_seconds",
    "dlp_message_bytes",
    "dlp_smtp_connections",
    "dlp_smtp_refused_total",
    "dlp_inspection_errors_total",
    "dlp_monitor_decisions_total",
    "dlp_dsn_total",
    "dlp_trace_records_total",
    "dlp_holds_total",
)


def exported_series_names() -> set[str]:
    """Every sample name the registry can produce, e.g. dlp_inspection_seconds_bucket."""
    names: set[str] = set()
    for metric in REGISTRY.collect():
        if not metric.name.startswith("dlp_"):
            continue
        names.add(metric.name)
        if metric.type == "counter":
            names.add(metric.name + "_total")
        if metric.type == "histogram":
            names.update({metric.name + s for s in ("_bucket", "_count", "_sum")})
    return names


def watch_quarantine(count: Callable[[], int]) -> None:
    """Have the quarantine gauge read the store at each scrape (right across CLI changes)."""

    def read() -> float:
        try:
            return float(count())
        except Exception:  # a scrape must never fail because the store is busy
            log.debug("cannot count quarantined messages", exc_info=True)
            return float("nan")

    QUARANTINE_MESSAGES.set_function(read)


def serve_metrics(host: str, port: int) -> tuple[Any, int]:
    """Start the /metrics HTTP endpoint in a thread; returns (server, bound port)."""
    server, _thread = start_http_server(port, addr=host)
    return server, int(server.server_port)
