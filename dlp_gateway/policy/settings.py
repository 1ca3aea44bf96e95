"""Policy settings (the `policy:` section)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PolicySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dir: str = Field("policies", description="Directory of policy YAML files.")
    internal_domains: list[str] = Field(default_factory=list, description="Domains that count as inside, for the `direction` condition.")
    certs_dir: str | None = Field(None, description="Recipient certificates for S/MIME; default <data-dir>/certs.")
    watch: bool = Field(True, description="Reload when a policy file changes (as well as on SIGHUP).")
