"""Extraction limits. Hitting one stops that branch and records a `limit_exceeded` problem naming it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ExtractionLimits(BaseModel):
    """The `limits:` section of the config file."""

    model_config = ConfigDict(extra="forbid")

    max_depth: int = Field(10, ge=1, description="Nesting depth of parts, archives and embedded files.")
    max_members: int = Field(1000, ge=1, description="Parts and archive members read per message.")
    max_member_bytes: int = Field(100 * 1024 * 1024, ge=1024, description="Bytes extracted from one member.")
    max_total_bytes: int = Field(500 * 1024 * 1024, ge=1024, description="Bytes extracted per message, all members together.")
    max_compression_ratio: float = Field(100.0, ge=1, description="Uncompressed/compressed ratio beyond which a member is a bomb.")
    max_image_pixels: int = Field(50_000_000, ge=1, description="Pixels per image (width × height).")
    max_pages: int = Field(500, ge=1, description="Pages read per document.")
    max_ocr_pages: int = Field(20, ge=0, description="Pages or images OCR'd per message.")
    max_ocr_seconds: float = Field(60.0, ge=0, description="OCR seconds per message.")
    max_seconds: float = Field(120.0, gt=0, description="Total inspection seconds per message.")
    max_text_chars: int = Field(20_000_000, ge=1000, description="Characters of text kept per message.")
    ocr_languages: str = Field("chi_tra+chi_sim+eng", description="Tesseract languages for OCR.")
