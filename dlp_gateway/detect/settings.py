"""Detection settings (the `detect:` section)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dlp_gateway.model import Level


class DetectSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    yara_dir: str = Field("yara_rules", description="Directory of *.yar files, compiled at start and on reload.")
    yara: bool = Field(True, description="Run the YARA rules of yara_dir on every part's bytes and extracted text.")
    yara_timeout_seconds: int = Field(10, ge=1, le=600, description="Longest one YARA scan of one part may take; beyond it the part is recorded as a timeout problem.")
    yara_max_bytes: int = Field(64 * 1024 * 1024, ge=1024, description="Parts larger than this are scanned by YARA on their first yara_max_bytes only (recorded as a problem).")
    markings: bool = Field(True, description="Run the classification-marking detector.")
    label_levels: dict[str, str | None] = Field(
        default_factory=dict,
        description=(
            "Office sensitivity label names (case-insensitive) mapped to a level "
            "(top_secret, secret, confidential, restricted) or null for 'not a classification'; "
            "merged over the built-in map (Secret, Confidential, 機密, General=null, ...)."
        ),
    )
    classification_headers: list[str] = Field(
        default_factory=lambda: ["x-classification", "x-security-classification", "x-classification-marking",
                                 "x-protective-marking", "classification", "msip_labels", "x-msip-labels"],
        description="Message headers whose value is a classification (SECRET, 機密, MSIP label list).",
    )
    fingerprints: bool = Field(True, description="Match parts against the registered-document fingerprints.")
    fingerprint_min_share: float = Field(0.3, ge=0, le=1, description="Smallest share of a part or document that counts as a fingerprint match.")

    @field_validator("label_levels")
    @classmethod
    def _levels_known(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        for name, level in value.items():
            if level is not None:
                Level.parse(level)  # raises ValueError naming the accepted levels
            if not name.strip():
                raise ValueError("an empty label name cannot be mapped")
        return value
