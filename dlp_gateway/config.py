"""Settings: one YAML file plus command-line flags, validated, with errors a user can act on.

Each stage owns the model of its own section (smtp/settings.py, content/limits.py, ...);
this module only composes them, reads the file and applies flags. Relative paths in the
file are taken relative to the file's directory; the shipped `policies/` and
`yara_rules/` are the defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.detect.settings import DetectSettings
from dlp_gateway.policy.settings import PolicySettings
from dlp_gateway.smtp.settings import DeliverySettings, ServerSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_POLICIES = PROJECT_ROOT / "policies"
SHIPPED_YARA_RULES = PROJECT_ROOT / "yara_rules"


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and what to do."""


class StoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quarantine_days: int = Field(30, ge=1, description="Quarantined messages older than this are deleted.")
    trace_days: int = Field(365, ge=1, description="Trace records older than this are deleted.")
    trace_queue_max: int = Field(
        5000, ge=100,
        description="Delivery records waiting for the trace writer at most (a few KB each); beyond it a "
        "record is dropped, logged and counted in dlp_trace_records_total{result=\"dropped\"}, "
        "so a stalled disk cannot eat the gateway's memory. Mail is never held back for trace.",
    )


class LogSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision_log: str = Field("-", description="File for the JSON decision log, one line per message; '-' is stdout.")
    level: str = Field("INFO", description="Level of the operational log (stderr).")


def _usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask), which a container or taskset can
    limit below os.cpu_count(): one worker per CPU it cannot use only costs memory."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class WorkerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    processes: int = Field(default_factory=lambda: _usable_cpus(), ge=1, description="Inspection worker processes (default: the CPUs this process may run on).")
    max_inflight_messages: int = Field(100, ge=1, description="Messages being inspected or delivered at once; beyond it 451.")
    max_inflight_bytes: int = Field(512 * 1024 * 1024, ge=1024 * 1024, description="Bytes of messages in flight; beyond it 451.")
    shutdown_grace_seconds: float = Field(30.0, ge=0, description="On SIGTERM, time given to messages in flight.")
    start_method: Literal["forkserver", "spawn"] = Field(
        "forkserver", description="How worker processes start: forkserver (fast restarts) or spawn."
    )
    start_timeout_seconds: float = Field(120.0, gt=0, description="Time a new worker may take to load its rules.")
    timeout_margin_seconds: float = Field(
        10.0, ge=0, description="Added to limits.max_seconds: a worker busy longer is killed and its message gets 451."
    )
    max_queue_seconds: float = Field(60.0, gt=0, description="Time a message may wait for a free worker before 451.")
    overrun_action: Literal["tempfail", "policy"] = Field(
        "tempfail",
        description="A message whose worker overran and was killed: tempfail answers 451 (the sender retries, and "
        "the message costs a worker for the whole deadline again); policy decides it as a message with a "
        "`timeout` problem (the shipped policy holds it as uninspectable), so a retried poison message stops "
        "costing workers.",
    )
    max_memory_mb: int = Field(
        2048, ge=0,
        description="Address space of one worker (RLIMIT_AS), in MiB; 0: no limit. A reader that needs more gets a "
        "`limit_exceeded` (memory) problem, or the worker is replaced and the message answered 451. Measured: an idle "
        "worker maps ~300 MiB, OCR ~410 MiB, a 50 MB message of text ~840 MiB.",
    )
    max_messages_per_worker: int = Field(
        10000, ge=0, description="Replace a worker after this many messages (bounds slow leaks); 0: never."
    )
    inline_max_bytes: int = Field(
        0,
        ge=0,
        description="Plain-text messages up to this size are inspected in the gateway process, without a worker round trip; "
        "0: never. Measured no faster on 2 cores and worse at p99 (bench/relay_bench.py --profile cheap-path), so off by default.",
    )

    @field_validator("max_memory_mb")
    @classmethod
    def _memory_cap_above_an_idle_worker(cls, value: int) -> int:
        if 0 < value < 256:
            raise ValueError("must be 0 (no limit) or at least 256 MiB (an idle worker already maps about 300 MiB; 2048 is the default)")
        return value


class Settings(BaseModel):
    """The whole configuration. Unknown keys are errors, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")

    data_dir: str = Field("./data", description="Quarantine, store, Maildir and certificates live here.")
    metrics: str | None = Field(None, description="HOST:PORT for the Prometheus /metrics endpoint.")
    smtp: ServerSettings = Field(default_factory=ServerSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    limits: ExtractionLimits = Field(default_factory=ExtractionLimits)
    detect: DetectSettings = Field(default_factory=DetectSettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    workers: WorkerSettings = Field(default_factory=WorkerSettings)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def policy_dir(self) -> Path:
        return Path(self.policy.dir)

    @property
    def yara_dir(self) -> Path:
        return Path(self.detect.yara_dir)

    @property
    def certs_dir(self) -> Path:
        return Path(self.policy.certs_dir) if self.policy.certs_dir else self.data_path / "certs"


def _format_validation_error(source: str, error: ValidationError) -> str:
    lines = [f"{source}: invalid configuration:"]
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        lines.append(f"  {where}: {item['msg']}")
    lines.append("See config.example.yaml for every key with its meaning and default.")
    return "\n".join(lines)


def _resolve_relative(raw: dict[str, Any], base: Path) -> None:
    """Make relative paths in the file relative to the file's own directory."""

    def fix(section: str, key: str) -> None:
        sect = raw.get(section)
        if isinstance(sect, dict) and isinstance(sect.get(key), str):
            path = Path(sect[key])
            if not path.is_absolute():
                sect[key] = str(base / path)

    if isinstance(raw.get("data_dir"), str) and not Path(raw["data_dir"]).is_absolute():
        raw["data_dir"] = str(base / raw["data_dir"])
    for section, key in [
        ("policy", "dir"),
        ("policy", "certs_dir"),
        ("detect", "yara_dir"),
        ("smtp", "tls_cert"),
        ("smtp", "tls_key"),
        ("delivery", "tls_ca_file"),
    ]:
        fix(section, key)
    log = raw.get("log")
    if isinstance(log, dict) and isinstance(log.get("decision_log"), str) and log["decision_log"] != "-":
        path = Path(log["decision_log"])
        if not path.is_absolute():
            log["decision_log"] = str(base / path)


def _set_dotted(raw: dict[str, Any], dotted: str, value: Any) -> None:
    node = raw
    *parents, last = dotted.split(".")
    for name in parents:
        node = node.setdefault(name, {})
    node[last] = value


def load_settings(config_file: str | os.PathLike[str] | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Read the file (if any), apply `overrides` ({"smtp.listen": "...", ...}), validate.

    Raises ConfigError with a message naming the file and key when something is wrong.
    """
    raw: dict[str, Any] = {}
    source = "defaults"
    if config_file is not None:
        path = Path(config_file)
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}. Pass an existing file with --config.") from exc
        try:
            loaded = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of sections (smtp:, delivery:, ...).")
        raw = loaded
        _resolve_relative(raw, path.resolve().parent)
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set_dotted(raw, dotted, value)
    raw.setdefault("policy", {}).setdefault("dir", str(SHIPPED_POLICIES))
    raw.setdefault("detect", {}).setdefault("yara_dir", str(SHIPPED_YARA_RULES))
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(source, exc)) from exc


def parse_hostport(value: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """Split "HOST:PORT" (IPv6 as "[::1]:25"); raise ValueError with a usable message."""
    text = value.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.lstrip(":")
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep:
            raise ValueError(f"{value!r} is not HOST:PORT (for example 127.0.0.1:10025)")
    host = host or default_host
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"{value!r} is not HOST:PORT: {port_text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"{value!r}: port {port} is out of range 0-65535")
    return host, port
