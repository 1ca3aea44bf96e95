"""Images read by OCR: decoded by image_decode.py, recognised by the worker's engine (ocr.py).

`image_decode.prepare` checks the size from the header before decoding (a 30000×30000 PNG
of a few bytes must not become 2.7 GB of pixels), decodes any format Pillow reads, reduces
the image to what OCR needs and says whether it has text-like strokes at all; images too
small or without text are not OCR'd. Every OCR'd image or frame counts against
`max_ocr_pages` and `max_ocr_seconds` (an image the engine read before costs nothing).
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import pymupdf

from dlp_gateway.content import image_decode
from dlp_gateway.content.ocr import OcrTimeout, charge, engine_of, ocr_seconds_left
from dlp_gateway.content.pdf import pixmap_image, tidy_ocr
from dlp_gateway.content.walk import join
from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader

SMALL_IMAGE_PIXELS = 4_000_000  # a stamp, a logo, a cut-out: worth a second look at half size


_WORD = re.compile(r"\w{3}")


def _little_text(text: str) -> bool:
    """True when OCR found next to nothing: no run of three letters or characters."""
    return _WORD.search(text) is None


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
    data, width, height = decoded.data, decoded.width, decoded.height
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
