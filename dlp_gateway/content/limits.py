"""Extraction limits. Hitting one stops that branch and records a `limit_exceeded` problem naming it.

Every limit is a named setting (the `limits:` section of the config file) with a default
that lets ordinary diplomatic mail through in full while a hostile attachment (zip bomb,
endless nesting, a giant image, a PDF claiming a million pages) stops early. Nothing is
ever cut silently: the `Problem.limit` field names the limit that stopped a branch, so the
policy can hold a message that could not be read completely.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ExtractionLimits(BaseModel):
    """The `limits:` section of the config file."""

    model_config = ConfigDict(extra="forbid")

    max_depth: int = Field(10, ge=1, description="Nesting depth of parts, archives and embedded files.")
    max_members: int = Field(1000, ge=1, description="Parts and archive members read per message.")
    max_member_bytes: int = Field(100 * 1024 * 1024, ge=1024, description="Bytes extracted from one member.")
    max_total_bytes: int = Field(
        256 * 1024 * 1024, ge=1024,
        description=(
            "Bytes extracted per message, all parts and members together (they are held in memory "
            "until the message is done; a message is at most smtp.max_message_size)."
        ),
    )
    max_decompressed_bytes: int = Field(
        128 * 1024 * 1024, ge=1024,
        description=(
            "Bytes decompressed from archive members and compressed streams per message, all archives together. "
            "Members are streamed against it and reading stops when it is spent: a small archive cannot make a "
            "worker hold hundreds of MiB (every decompressed member is kept in memory for YARA until the message is done)."
        ),
    )
    max_compression_ratio: float = Field(
        100.0, ge=1,
        description="Uncompressed/compressed ratio beyond which a member (or a whole archive) is a bomb; judged while decompressing.",
    )
    compression_ratio_min_bytes: int = Field(
        256 * 1024, ge=0,
        description=(
            "The compression ratio is judged once this many bytes have come out of a member or an archive "
            "(small files may compress very well)."
        ),
    )
    max_image_pixels: int = Field(
        50_000_000, ge=1,
        description=("Pixels decoded per image (width × height). A larger JPEG is decoded reduced (1/2 to 1/8 "
                     "per side) and read when that fits; another format beyond it is not decoded (a bomb)."),
    )
    ocr_max_image_pixels: int = Field(
        4_000_000, ge=100_000,
        description=("Pixels an image is reduced to before OCR (a 12 MP photo is OCR'd at 4 MP: an A4 page "
                     "photographed at that size is ~200 dpi, as legible as a scan, at a third of the time)."),
    )
    ocr_skip_textless_images: bool = Field(
        True,
        description=("Images with no text-like strokes anywhere (a smooth photo) are noted and not OCR'd, "
                     "and cost no OCR budget; a photographed page, stamp or screenshot is always OCR'd."),
    )
    max_pages: int = Field(500, ge=1, description="Pages read per document.")
    max_ocr_pages: int = Field(20, ge=0, description="Pages or images OCR'd per message.")
    max_ocr_seconds: float = Field(60.0, ge=0, description="OCR seconds per message.")
    ocr_dpi: int = Field(
        200, ge=72, le=600,
        description=("Highest resolution at which a PDF page or region is rendered for OCR: a scan is rendered at "
                     "its own resolution up to this (more pixels than the scan has add no detail, only OCR time)."),
    )
    ocr_cache_entries: int = Field(
        256, ge=0,
        description=("Images whose OCR result an inspection worker keeps, by SHA-256 of their pixels, so a logo or "
                     "letterhead repeated in a message or across messages is OCR'd once (0: no cache)."),
    )
    ocr_full_page: bool = Field(
        True,
        description=("OCR every scanned page in full. False: read the header and footer bands first and stop OCR of "
                     "the document once they carry a top-level marking (the verdict cannot rise); faster, but "
                     "fingerprints and other detectors do not see the rest of the text. Keep true when a "
                     "fingerprint register is configured."),
    )
    min_text_layer_chars: int = Field(
        8, ge=0,
        description="A PDF page with fewer non-blank characters than this and an image on it has no usable text layer and is OCR'd.",
    )
    max_seconds: float = Field(120.0, gt=0, description="Total inspection seconds per message.")
    max_text_chars: int = Field(20_000_000, ge=1000, description="Characters of text kept per message.")
    max_xml_entity_expansion: int = Field(
        1024 * 1024, ge=0,
        description=("Bytes an XML or SVG document's internal entities may expand to, all references "
                     "together; beyond it (a billion-laughs file) they are not expanded and the limit is recorded."),
    )
    ocr_languages: str = Field("chi_tra+chi_sim+eng", description="Tesseract languages for OCR.")
