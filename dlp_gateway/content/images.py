"""Images (PNG, JPEG, TIFF, GIF, BMP, ...) read by OCR: Tesseract through PyMuPDF.

The size is read from the header first (Pillow opens lazily) and an image over
`max_image_pixels` is never decoded: a 30000×30000 PNG of a few bytes must not become
2.7 GB of pixels. Every OCR'd image or frame counts against `max_ocr_pages` and
`max_ocr_seconds`; images too small to hold text (icons, rules) are not OCR'd.
"""

from __future__ import annotations

import io
import time
import warnings
from typing import TYPE_CHECKING

import pymupdf

from dlp_gateway.content import image_decode
from dlp_gateway.content.pdf import tidy_ocr
from dlp_gateway.content.walk import join
from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader

MIN_TEXT_IMAGE_SIDE = 24  # pixels; smaller images cannot hold a legible line of text


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the header, without decoding the pixels."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                return image.width, image.height
        except Image.DecompressionBombError as exc:
            # Pillow refuses beyond twice its own limit; the size is in its message.
            import re

            numbers = [int(n) for n in re.findall(r"\d+", str(exc))]
            return (numbers[0], 1) if numbers else (2**31, 1)


def read_image(reader: Reader, data: bytes, location: str, depth: int, **_: object) -> None:
    """OCR the image, then read any ZIP appended to it (a JPEG/ZIP polyglot)."""
    from dlp_gateway.content.archives import read_appended_zip

    _read_pixels(reader, data, location)
    read_appended_zip(reader, data, location, depth)


def _read_pixels(reader: Reader, data: bytes, location: str) -> None:
    limits = reader.limits
    decoded = image_decode.prepare(reader, data, location)  # any Pillow format, reduced; None: not OCR'd
    if decoded is None:
        return
    data, width = decoded.data, decoded.width
    try:
        doc = pymupdf.open(stream=data)
    except Exception as exc:
        reader.problem(ProblemKind.UNSUPPORTED, location, f"image not readable for OCR: {exc}"[:300])
        return
    with doc:
        count = doc.page_count
        if count > limits.max_pages:
            reader.limit(location, "max_pages", f"{count} frames; only the first {limits.max_pages} read")
        for number in range(min(count, limits.max_pages)):
            where = location if count == 1 else join(location, f"page {number + 1}")
            refused = reader.budget.ocr_refusal()
            if refused:
                reader.limit(where, refused, "image not OCR'd: OCR budget spent")
                return
            page = doc.load_page(number)
            # Render at the image's own resolution: no detail lost, none invented.
            dpi = max(72, min(600, round(72 * width / max(1.0, page.rect.width))))
            started = time.monotonic()
            try:
                textpage = page.get_textpage_ocr(language=limits.ocr_languages, dpi=dpi, full=True)
                text = page.get_text(textpage=textpage)
            except Exception as exc:
                reader.problem(ProblemKind.UNSUPPORTED, where, f"OCR failed: {exc}"[:300])
                return
            finally:
                reader.budget.charge_ocr(time.monotonic() - started)
            reader.segment(tidy_ocr(text), where, location, "ocr")
