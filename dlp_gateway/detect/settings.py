"""Detection settings (the `detect:` section)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DetectSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    yara_dir: str = Field("yara_rules", description="Directory of *.yar files, compiled at start and on reload.")
    markings: bool = Field(True, description="Run the classification-marking detector.")
    fingerprint_min_share: float = Field(0.3, ge=0, le=1, description="Smallest share of a part or document that counts as a fingerprint match.")
