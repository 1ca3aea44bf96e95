"""The OCR engine: Tesseract loaded once per inspection worker and reused, with a cache.

Why an engine object: PyMuPDF's OCR (`get_textpage_ocr`, `pdfocr_tobytes`) and the
`tesseract` program both load Tesseract and its language models afresh for every page or
image (about half a second for chi_tra+chi_sim+eng, before any recognition). The engine
holds one `tesserocr.PyTessBaseAPI` per (languages, page-segmentation mode) for the
worker's life; the worker owns the engine (`pipeline.WorkerContext.ocr`) and warms it up
when it starts, so no message pays for loading the models.

Why a cache: logos, letterheads and signature images recur in every message of a
mission, often many times in one message. The engine keeps what it read for each image,
keyed by the SHA-256 of the exact pixels (and languages and mode), up to
`limits.ocr_cache_entries` entries (least recently used dropped first), so the same image
is OCR'd once per worker. A cache hit is not charged against the OCR budget: it costs no
OCR. (Exact hashes only: a perceptual hash could give a near-identical image, e.g. the same
letterhead with a different date, the text of another.)

Languages: all of `limits.ocr_languages` are given to Tesseract together. Measured on a
300-dpi Chinese page, chi_tra+chi_sim+eng costs about what chi_tra alone costs (Tesseract
tries the further languages only on words the first one reads poorly), while a script
detection pass (OSD) costs about a sixth of a page: choosing languages first would cost
more than it saves, and would risk a simplified-only character read as noise.

Sparse mode (`--psm 11`, for stamps: two large characters in a frame) goes to the
`tesseract` program, one process per region: through the API (tesserocr, with its own
Tesseract 5.5 or built against Debian's 5.3, all modes tried) a framed 「機密」 stamp that the
program reads at once comes back empty; a stamp region is small, so the process costs
little, and the cache still reads each stamp once. Without the `tesserocr` package (a
machine set up by hand) the engine uses the program for pages too: slower, same results.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlp_gateway.content.limits import ExtractionLimits

if TYPE_CHECKING:
    from PIL import Image

    from dlp_gateway.content.walk import Reader

PSM_AUTO = 3  # Tesseract's automatic page segmentation (what `tesseract` does by default)
PSM_BLOCK = 6  # one block of text: a band cut from a page, or a page automatic segmentation found empty
PSM_SPARSE = 11  # sparse text: scattered words, a stamp of two large characters
_TESSDATA_DIRS = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                  "/usr/share/tessdata", "/usr/local/share/tessdata")


class OcrTimeout(Exception):
    """Recognition ran past the seconds it was given (the OCR budget or the message's time)."""


@dataclass(frozen=True, slots=True)
class OcrLine:
    """One recognised line and its box in the image's pixels."""

    text: str
    x0: int
    y0: int
    x1: int
    y1: int


def tessdata_dir() -> str | None:
    """Where the language models are: $TESSDATA_PREFIX, else Debian's tesseract-ocr-* path.
    The `tesserocr` wheel carries its own Tesseract but no models, and looks in ./ unless told."""
    prefix = os.environ.get("TESSDATA_PREFIX")
    if prefix:
        return prefix
    for folder in _TESSDATA_DIRS:
        if Path(folder, "eng.traineddata").is_file():
            return folder
    return None


class OcrEngine:
    """Tesseract for one worker: models loaded once, results cached by image content.

    Not thread-safe: a worker inspects one message at a time."""

    def __init__(self, limits: ExtractionLimits) -> None:
        self.limits = limits
        self._apis: dict[tuple[str, int], Any] = {}
        self._cache: OrderedDict[bytes, list[OcrLine]] = OrderedDict()
        self.recognised = 0  # images actually OCR'd (cache misses); for tests and benchmarks
        self.cache_hits = 0
        try:
            import tesserocr  # noqa: F401
        except ImportError:
            self._tesserocr = False
        else:
            self._tesserocr = True

    # -- life cycle ----------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load the models now (when the worker starts), not on the first scan's time."""
        if self._tesserocr and self.limits.max_ocr_pages > 0:
            with contextlib.suppress(Exception):  # a missing model: the first OCR records the problem
                self._api(self.limits.ocr_languages, PSM_AUTO)

    def close(self) -> None:
        for api in self._apis.values():
            api.End()
        self._apis.clear()

    def _api(self, languages: str, psm: int) -> Any:
        api = self._apis.get((languages, psm))
        if api is None:
            import tesserocr

            path = tessdata_dir()
            if path is None:
                raise RuntimeError("no Tesseract language models found: install tesseract-ocr-eng, "
                                   "tesseract-ocr-chi-tra and tesseract-ocr-chi-sim (scripts/bootstrap.sh) "
                                   "or set TESSDATA_PREFIX")
            api = tesserocr.PyTessBaseAPI(path=path.rstrip("/") + "/", lang=languages, psm=psm,
                                          oem=tesserocr.OEM.LSTM_ONLY)
            self._apis[(languages, psm)] = api
        return api

    # -- reading ---------------------------------------------------------------------------
    def lines(self, image: Image.Image, *, dpi: int = 0, sparse: bool = False, block: bool = False,
              timeout: float = 60.0) -> list[OcrLine]:
        """The lines Tesseract reads in `image` (rendered at `dpi`; 0: unknown), each with its
        box; from the cache when these exact pixels were read before. Raises OcrTimeout past
        `timeout` seconds. Tesseract sizes its expectations on the resolution: without it, it
        assumes 70 dpi and misses large characters (a stamp)."""
        psm = PSM_SPARSE if sparse else PSM_BLOCK if block else PSM_AUTO
        languages = self.limits.ocr_languages
        key = self._key(image, languages, psm, dpi)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            self.cache_hits += 1
            return found
        if self._tesserocr and not sparse:
            started = time.monotonic()
            result = self._recognise(image, languages, psm, dpi, timeout)
            if not result and psm == PSM_AUTO:
                # Measured: through the API, automatic segmentation finds nothing on some
                # sparse pages (a short letter, a marking and two lines) that one-block mode
                # reads in full; an empty page costs little, so ask again that way.
                result = self._recognise(image, languages, PSM_BLOCK, dpi,
                                         max(0.5, timeout - (time.monotonic() - started)))
        else:
            result = self._recognise_cli(image, languages, psm, dpi, timeout)
        self.recognised += 1
        if self.limits.ocr_cache_entries > 0:
            self._cache[key] = result
            while len(self._cache) > self.limits.ocr_cache_entries:
                self._cache.popitem(last=False)
        return result

    def text(self, image: Image.Image, *, dpi: int = 0, sparse: bool = False, block: bool = False,
             timeout: float = 60.0) -> str:
        lines = self.lines(image, dpi=dpi, sparse=sparse, block=block, timeout=timeout)
        return "\n".join(line.text for line in lines)

    @staticmethod
    def _key(image: Image.Image, languages: str, psm: int, dpi: int) -> bytes:
        digest = hashlib.sha256(f"{image.mode} {image.size} {languages} {psm} {dpi}\n".encode())
        digest.update(image.tobytes())
        return digest.digest()

    def _recognise(self, image: Image.Image, languages: str, psm: int, dpi: int, timeout: float) -> list[OcrLine]:
        import tesserocr

        api = self._api(languages, psm)
        try:
            api.SetImage(image)
            if dpi:
                api.SetSourceResolution(dpi)
            if not api.Recognize(max(1, int(timeout * 1000))):
                raise OcrTimeout(f"OCR stopped after {timeout:.1f} s")
            found: list[OcrLine] = []
            level = tesserocr.RIL.TEXTLINE
            iterator = api.GetIterator()
            if iterator is None:
                return found
            for item in tesserocr.iterate_level(iterator, level):
                try:
                    text = item.GetUTF8Text(level)
                except RuntimeError:  # tesserocr's way of saying: an empty line (a speck)
                    continue
                box = item.BoundingBox(level)
                if text and text.strip() and box:
                    found.append(OcrLine(text.strip(), *box))
            return found
        finally:
            api.Clear()

    def _recognise_cli(self, image: Image.Image, languages: str, psm: int, dpi: int,
                       timeout: float) -> list[OcrLine]:
        """The `tesseract` program, TSV output (one process per image; no tesserocr)."""
        import io

        program = shutil.which("tesseract")
        if program is None:
            raise RuntimeError("Tesseract is not installed: install tesserocr (pip) or tesseract-ocr (apt)")
        png = io.BytesIO()
        image.save(png, "PNG", **({"dpi": (dpi, dpi)} if dpi else {}))
        env = {"OMP_THREAD_LIMIT": "1", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        if tessdata_dir():
            env["TESSDATA_PREFIX"] = str(tessdata_dir())
        try:
            done = subprocess.run([program, "stdin", "stdout", "--psm", str(psm), "-l", languages, "tsv"],
                                  input=png.getvalue(), capture_output=True, timeout=max(1.0, timeout),
                                  check=False, env=env)
        except subprocess.TimeoutExpired as exc:
            raise OcrTimeout(f"OCR stopped after {timeout:.1f} s") from exc
        lines: dict[tuple[str, str, str], list[Any]] = {}
        for row in done.stdout.decode("utf-8", "replace").splitlines()[1:]:
            cells = row.split("\t")
            if len(cells) < 12 or cells[0] != "5" or not cells[11].strip():
                continue
            x, y, w, h = (int(v) for v in cells[6:10])
            entry = lines.setdefault((cells[2], cells[3], cells[4]), [[], x, y, x + w, y + h])
            entry[0].append(cells[11])
            entry[1], entry[2] = min(entry[1], x), min(entry[2], y)
            entry[3], entry[4] = max(entry[3], x + w), max(entry[4], y + h)
        return [OcrLine(" ".join(words), x0, y0, x1, y1) for words, x0, y0, x1, y1 in lines.values()]


def engine_of(reader: Reader) -> OcrEngine:
    """The worker's engine handed to this message's reader, or one for this message alone
    (a `scan` from the command line, a test calling `extract` directly)."""
    engine = getattr(reader, "ocr", None)
    if engine is None:
        engine = OcrEngine(reader.limits)
        reader.ocr = engine
    return engine


def ocr_seconds_left(reader: Reader) -> float:
    """Seconds one recognition may take: what is left of the OCR budget and of the message's time."""
    return max(0.5, min(reader.budget.seconds_left(),
                        reader.limits.max_ocr_seconds - reader.budget.ocr_seconds))


def charge(reader: Reader, engine: OcrEngine, recognised_before: int, started: float) -> None:
    """Charge the OCR budget for a recognition, not for a cache hit (which cost nothing)."""
    if engine.recognised > recognised_before:
        reader.budget.charge_ocr(time.monotonic() - started)
