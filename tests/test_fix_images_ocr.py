"""What OCR reads from images decoded by image_decode (red team A1, A4; #12). Real Tesseract
runs, so few cases, slow-marked."""

from __future__ import annotations

import io

import docgen
import pytest
from PIL import Image

from dlp_gateway.config import load_settings
from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.model import Level
from dlp_gateway.pipeline import WorkerContext, inspect_message

pytestmark = pytest.mark.slow

US = "SECRET//NOFORN"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> WorkerContext:
    settings = load_settings(None, {"data_dir": str(tmp_path_factory.mktemp("data"))})
    return WorkerContext.from_settings(settings)


def save(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def test_a_webp_screenshot_is_ocrd_and_its_banner_found(ctx: WorkerContext) -> None:
    picture = Image.open(io.BytesIO(docgen.make_png([US, "Operation Lantern"]))).convert("RGB")
    message = docgen.make_message("screenshot", "see attached", [("shot.webp", save(picture, "WEBP", quality=90),
                                                                  "image/webp")])
    report = inspect_message(message, ctx)
    assert not report.inspection.problems
    assert any("Lantern" in s.text for s in report.inspection.segments if s.location == "shot.webp" and s.kind == "ocr")
    assert report.level == Level.SECRET


def test_a_photo_reduced_for_ocr_stays_legible() -> None:
    """Reduced by half per side (8 MP-like to the target), the glyphs stay as Tesseract likes them."""
    page = Image.open(io.BytesIO(docgen.make_png([US, "駐外館處機密電報"]))).convert("L")
    page = page.resize((page.width * 2, page.height * 2), Image.Resampling.BICUBIC)
    photo = save(page.convert("RGB"), "JPEG", quality=90)
    message = docgen.make_message("photo", "see attached", [("IMG_0042.JPG", photo, "image/jpeg")])
    inspection = extract(message, ExtractionLimits(ocr_max_image_pixels=page.width * page.height // 4))
    assert any("reduced to" in n.detail for n in inspection.notes if n.location == "IMG_0042.JPG")
    (ocr,) = [s.text for s in inspection.segments if s.location == "IMG_0042.JPG" and s.kind == "ocr"]
    assert US in ocr and "機密電報" in "".join(ocr.split())
