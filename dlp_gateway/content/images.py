"""Images (PNG, JPEG, TIFF, GIF, BMP, ...) read by OCR: the worker's Tesseract engine (ocr.py).

The size is read from the header first (Pillow opens lazily) and an image over
`max_image_pixels` is never decoded: a 30000×30000 PNG of a few bytes must not become
2.7 GB of pixels. Every OCR'd image or frame counts against `max_ocr_pages` and
`max_ocr_seconds` (an image the engine read before costs nothing); images too small to hold text (icons, rules) are not OCR'd.
"""

from __future__ import annotations

import io
import re
import time
import warnings
from typing import TYPE_CHECKING

import pymupdf

from dlp_gateway.content.ocr import OcrTimeout, charge, engine_of, ocr_seconds_left
from dlp_gateway.content.pdf import pixmap_image, tidy_ocr
from dlp_gateway.content.walk import join
from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader

MIN_TEXT_IMAGE_SIDE = 24  # pixels; smaller images cannot hold a legible line of text
SMALL_IMAGE_PIXELS = 4_000_000  # a stamp, a logo, a cut-out: worth a second look at half size


_WORD = re.compile(r"\w{3}")


def _little_text(text: str) -> bool:
    """True when OCR found next to nothing: no run of three letters or characters."""
    return _WORD.search(text) is None


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
    try:
        width, height = image_size(data)
    except Exception as exc:
        reader.problem(ProblemKind.UNSUPPORTED, location, f"image format not readable: {exc}"[:300])
        return
    if width * height > limits.max_image_pixels:
        reader.limit(location, "max_image_pixels",
                     f"{width}×{height} pixels exceeds {limits.max_image_pixels}; not decoded or OCR'd")
        return
    if min(width, height) < MIN_TEXT_IMAGE_SIDE:
        return
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
            # Render at the image's own resolution: no detail lost, none invented; greyscale,
            # what Tesseract reads anyway. The engine reads each distinct image once per worker.
            dpi = max(72, min(600, round(72 * width / max(1.0, page.rect.width))))
            engine = engine_of(reader)
            before, started = engine.recognised, time.monotonic()
            try:
                pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
                image = pixmap_image(pix)
                text = engine.text(image, dpi=dpi, timeout=ocr_seconds_left(reader))
                if _little_text(text) and width * height <= SMALL_IMAGE_PIXELS:
                    # Tesseract's line model misreads very large characters (a stamp cut out
                    # of a scan: 極機密 at 200 px read as "fi Ae"); half the size reads it.
                    # Only small images that gave next to nothing pay for the second look.
                    half = image.reduce(2)
                    text = "\n".join(filter(None, (text, engine.text(
                        half, dpi=max(36, dpi // 2), timeout=ocr_seconds_left(reader)))))
            except OcrTimeout:
                reader.limit(where, "max_ocr_seconds", "image not fully OCR'd: OCR time spent")
                return
            except Exception as exc:
                reader.problem(ProblemKind.UNSUPPORTED, where, f"OCR failed: {exc}"[:300])
                return
            finally:
                charge(reader, engine, before, started)
            reader.segment(tidy_ocr(text), where, location, "ocr")
