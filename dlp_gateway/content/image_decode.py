"""Decoding raster images for OCR: any format Pillow reads, reduced to what legible text needs.

Why this exists: PyMuPDF (which runs Tesseract) opens only PNG, JPEG, TIFF, GIF, BMP, JPEG 2000
and PNM, but mail carries WebP, AVIF, HEIC (iPhone), ICO, TGA and PCX pictures that every
client shows; and phones send 12–64 MP photos that Tesseract takes close to a minute each to
read at full size. So every image is decoded here with Pillow, never bigger than needed:

* a JPEG larger than `ocr_max_image_pixels` is decoded reduced by its own DCT scaling
  (`Image.draft`, 1/2 to 1/8 per side), so a 64 MP panorama costs ~8 MP of memory; other
  formats are decoded in full only up to `max_image_pixels` (a bomb stays refused);
* the decoded picture is reduced to at most `ocr_max_image_pixels` (4 MP by default: an A4
  page photographed at that size is ~200 dpi, as legible to Tesseract as a scan);
* a cheap test for text-like strokes (thin, high-contrast dark-on-light or light-on-dark runs
  clustered in a block, looked for at three scales) tells a photo with no text anywhere from a
  picture that may hold text. A photographed document, a stamp, a screenshot or a banner is
  full of such strokes and is OCR'd; a smooth photo is not, and costs no OCR budget.

The result is the bytes PyMuPDF will OCR: the original when PyMuPDF reads the format and no
reduction was needed (multi-frame GIF/TIFF keep their frames), else a PNG (one frame) or a
TIFF (several frames) of the reduced pixels.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.content.walk import join
from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader

# Formats PyMuPDF opens itself (Pillow's format names).
PYMUPDF_FORMATS = frozenset({"PNG", "JPEG", "TIFF", "GIF", "BMP", "JPEG2000", "PPM"})

STROKE_CONTRAST = 16  # grey levels across two pixels: the edge of a stroke (a faint photocopy's too)
STROKE_WIDTH = 6  # pixels: the widest stroke looked for at one scale (three scales: 1, 1/3, 1/9)
BLOCK = 32  # pixels: the side of the square in which strokes must cluster
BLOCK_STROKES = 24  # stroke crossings in one block that make it text-like...
FLAT_CHANGE = 10  # grey levels across two pixels that still count as plain paper
FLAT_SHARE = 0.3  # ...when at least this share of the block is plain paper or ink

_heif_registered = False


_IMAGE_MAGICS = (b"\x89PNG\r\n\x1a\n",)  # first 8 bytes of the formats whose truncation we can tell


class ImageUnreadable(Exception):
    """Pillow cannot decode the image at all (format unknown, or broken beyond repair)."""


class ImageTooLarge(Exception):
    """The image would need more than `max_image_pixels` decoded pixels."""


@dataclass
class Decoded:
    """An image made ready for OCR."""

    data: bytes  # what PyMuPDF opens: the original bytes or a PNG/TIFF re-encoding
    width: int  # pixel width of the first frame of `data`
    height: int
    original_size: tuple[int, int]
    frames: int
    text_like: bool  # False: no frame has text-like strokes anywhere
    notes: list[str] = field(default_factory=list)
    all_frames: int = 1  # frames in the original (more than `frames` when cut at max_pages)


def _register_heif() -> None:
    """HEIC/HEIF (iPhone photos) through pillow-heif, when it is installed."""
    global _heif_registered
    if _heif_registered:
        return
    _heif_registered = True
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except Exception:  # not installed: HEIC stays unreadable, which the caller reports
        pass


def _open(data: bytes):  # type: ignore[no-untyped-def]
    from PIL import Image

    _register_heif()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            raise ImageTooLarge(str(exc)) from exc
        except Exception as exc:
            raise ImageUnreadable(f"image format not readable: {exc}") from exc


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the header, without decoding the pixels."""
    with _open(data) as image:
        return image.width, image.height


def decode_for_ocr(data: bytes, limits: ExtractionLimits) -> Decoded:
    """Decode `data` reduced to at most `limits.ocr_max_image_pixels` per frame.

    Raises ImageTooLarge when even the reduced decode would exceed `max_image_pixels`, and
    ImageUnreadable when Pillow cannot decode it at all.
    """
    from PIL import Image, ImageFile

    image = _open(data)
    with image:
        width, height = image.size
        fmt = image.format or ""
        frames = max(1, int(getattr(image, "n_frames", 1) or 1))
        target = limits.ocr_max_image_pixels
        notes: list[str] = []
        if fmt == "JPEG" and width * height > target:
            # DCT scaling: decode at 1/2, 1/4 or 1/8 size without ever holding the full image.
            scale = (target / (width * height)) ** 0.5
            image.draft(image.mode if image.mode in ("L", "RGB") else "RGB",
                        (max(1, int(width * scale)), max(1, int(height * scale))))
        decoded_pixels = image.size[0] * image.size[1]
        if decoded_pixels > limits.max_image_pixels:
            raise ImageTooLarge(f"{width}×{height} pixels exceeds {limits.max_image_pixels}; not decoded or OCR'd")
        # Several frames in a format MuPDF reads (fax TIFF, GIF): MuPDF OCRs the original
        # frames; here they are only looked at, one at a time, for text-like strokes.
        look_only = fmt in PYMUPDF_FORMATS and frames > 1
        pictures: list[Image.Image] = []
        kept = 0
        text_like = False
        for number in range(min(frames, limits.max_pages)):
            try:
                if number:
                    image.seek(number)
                picture = _load(image)
            except MemoryError:
                raise
            except Exception as exc:  # Pillow plugins raise OSError, ValueError, SyntaxError...
                if number:  # a damaged later frame: the frames before it stand
                    notes.append(f"frame {number + 1} not decodable ({exc}); the frames before it were read")
                    break
                if "truncated" not in str(exc).lower() and "premature" not in str(exc).lower():
                    raise ImageUnreadable(f"image not decodable: {type(exc).__name__}: {exc}") from exc
                # A viewer shows the part that arrived: so is it read (the rest is grey).
                ImageFile.LOAD_TRUNCATED_IMAGES = True
                try:
                    picture = _load(_open(data))
                finally:
                    ImageFile.LOAD_TRUNCATED_IMAGES = False
                notes.append("image file is truncated; the part that decodes was read")
                look_only = False
            picture = _reduce(picture, target)
            if not text_like:
                text_like = has_text_like_strokes(np.asarray(picture.convert("L")))
            if look_only:
                if text_like:
                    break
                continue
            kept += picture.width * picture.height
            if pictures and kept > limits.max_image_pixels:
                raise ImageTooLarge(f"{frames} frames of {width}×{height} pixels exceed {limits.max_image_pixels} "
                                    "decoded pixels; not OCR'd")
            pictures.append(picture)
    if look_only:
        return Decoded(data, width, height, (width, height), frames, text_like, notes)
    reduced = pictures[0].size != (width, height)
    if reduced:
        notes.append(f"{width}×{height} image decoded reduced to {pictures[0].width}×{pictures[0].height}")
    if fmt in PYMUPDF_FORMATS and not reduced and not notes and _pymupdf_opens(data):
        return Decoded(data, width, height, (width, height), frames, text_like, notes)
    return Decoded(_encode(pictures), pictures[0].width, pictures[0].height, (width, height),
                   len(pictures), text_like, notes, all_frames=frames)


def _pymupdf_opens(data: bytes) -> bool:
    """MuPDF's own decoders are stricter than Pillow's on some files (odd PNG chunks, JPEG
    variants): when it cannot open the original, it gets Pillow's pixels instead."""
    import pymupdf

    try:
        with pymupdf.open(stream=data) as doc:
            return doc.page_count > 0 and doc.load_page(0).rect.width > 0
    except Exception:
        return False


def _load(image):  # type: ignore[no-untyped-def]
    """The current frame as RGB or L pixels; transparency flattened onto white (black text on a
    transparent background must not become black on black)."""
    from PIL import Image

    image.load()
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if image.mode in ("L", "RGB"):
        return image.copy()
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        low, high = float(array.min()), float(array.max())
        scaled = (array - low) * (255.0 / (high - low)) if high > low else array * 0
        return Image.fromarray(scaled.astype(np.uint8), "L")
    return image.convert("RGB")


def _reduce(picture, target: int):  # type: ignore[no-untyped-def]
    from PIL import Image

    width, height = picture.size
    if width * height <= target:
        return picture
    scale = (target / (width * height)) ** 0.5
    return picture.resize((max(1, int(width * scale)), max(1, int(height * scale))),
                          Image.Resampling.LANCZOS, reducing_gap=2.0)


def _encode(pictures: list) -> bytes:  # type: ignore[type-arg]
    out = io.BytesIO()
    if len(pictures) == 1:
        pictures[0].save(out, "PNG", compress_level=1)
    else:
        pictures[0].save(out, "TIFF", save_all=True, append_images=pictures[1:], compression="tiff_deflate")
    return out.getvalue()


def has_text_like_strokes(gray: np.ndarray) -> bool:
    """True when some block of the picture is crossed by many thin, high-contrast strokes.

    Letters of any script are made of strokes a few pixels wide that contrast sharply with
    the paper; a photographed page, a stamp, a screenshot or a banner has them by the hundred
    in every line. A smooth photo (sky, faces, a blurred scene) has none. The test errs on the
    side of OCR: any sharp texture (foliage, a fence) also passes, it only costs time.
    """
    level = gray.astype(np.int16)
    for _ in range(3):
        if min(level.shape) < 8:
            break
        if _strokes_cluster(level):
            return True
        # next scale: 1/3 per side (large letters' strokes become thin)
        h, w = (level.shape[0] // 3) * 3, (level.shape[1] // 3) * 3
        level = level[:h, :w].reshape(h // 3, 3, w // 3, 3).mean(axis=(1, 3)).astype(np.int16)
    return False


def _strokes_cluster(level: np.ndarray) -> bool:
    """Some block has many stroke crossings AND much flat paper between them: printed or
    written text sits on a plain ground, a textured photo has no flat ground around its edges."""
    counts = np.zeros(level.shape, dtype=np.int32)
    flat = np.ones(level.shape, dtype=bool)
    for axis in (1, 0):
        grid = level if axis == 1 else level.T
        diff = grid[:, 2:] - grid[:, :-2]  # change across two pixels: robust to anti-aliasing
        fall, rise = diff < -STROKE_CONTRAST, diff > STROKE_CONTRAST
        crossings = np.zeros(diff.shape, dtype=bool)
        for gap in range(1, STROKE_WIDTH + 1):
            # a dark stroke on paper (fall then rise) or a light one on dark (rise then fall)
            crossings[:, :-gap] |= (fall[:, :-gap] & rise[:, gap:]) | (rise[:, :-gap] & fall[:, gap:])
        padded = np.zeros(grid.shape, dtype=np.int32)
        padded[:, 1:-1] = crossings
        still = np.zeros(grid.shape, dtype=bool)
        still[:, 1:-1] = np.abs(diff) <= FLAT_CHANGE
        counts += padded if axis == 1 else padded.T
        flat &= still if axis == 1 else still.T
    for offset in (0, BLOCK // 2):  # blocks offset by half a block too: a word may straddle an edge
        c, f = counts[offset:, offset:], flat[offset:, offset:]
        h, w = (c.shape[0] // BLOCK) * BLOCK, (c.shape[1] // BLOCK) * BLOCK
        if h == 0 or w == 0:
            if offset == 0 and int(c.sum()) >= BLOCK_STROKES and f.mean() >= FLAT_SHARE:
                return True
            continue
        strokes = c[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).sum(axis=(1, 3))
        ground = f[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).mean(axis=(1, 3))
        if bool(((strokes >= BLOCK_STROKES) & (ground >= FLAT_SHARE)).any()):
            return True
    return False

MIN_TEXT_IMAGE_SIDE = 24  # pixels; smaller images cannot hold a legible line of text

# EXIF tags whose text Explorer, Preview and photo viewers show: ImageDescription, Artist,
# Copyright, UserComment (Exif IFD) and the Windows XP title/comment/author/keywords/subject.
_EXIF_TEXT_TAGS = (0x010E, 0x013B, 0x8298)
_EXIF_USER_COMMENT = 0x9286
_EXIF_IFD = 0x8769
_XP_TAGS = (0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F)
MAX_METADATA_CHARS = 64 * 1024  # per image: metadata is short; a huge one is cut (and noted)


def prepare(reader: Reader, data: bytes, location: str) -> Decoded | None:
    """The image made ready for OCR, or None (after recording why) when it is not OCR'd.

    Records the image's metadata text as a `metadata` segment, decode notes (truncation,
    reduction), a `limit_exceeded` problem when it is too large even reduced, an `unsupported`
    problem when no decoder reads it, and a note when it has no text-like strokes.
    """
    limits = reader.limits
    try:
        with _open(data) as image:
            width, height = image.size
            read_metadata(reader, image, location, limits.max_image_pixels)
    except ImageTooLarge as exc:
        reader.limit(location, "max_image_pixels", f"image too large to decode ({exc})"[:300])
        return None
    except ImageUnreadable as exc:
        # A known image format cut off before its pixels (no viewer shows anything) is a
        # damaged file; anything else Pillow cannot open is a format we cannot read.
        truncated = "truncated" in str(exc).lower() and data[:8] in _IMAGE_MAGICS
        reader.problem(ProblemKind.CORRUPT if truncated else ProblemKind.UNSUPPORTED, location,
                       ("truncated image: cut off before its pixels; " if truncated else "") + str(exc)[:300])
        return None
    if min(width, height) < MIN_TEXT_IMAGE_SIDE:
        return None
    try:
        decoded = decode_for_ocr(data, limits)
    except ImageTooLarge as exc:
        reader.limit(location, "max_image_pixels", str(exc)[:300])
        return None
    except ImageUnreadable as exc:
        reader.problem(ProblemKind.UNSUPPORTED, location, str(exc)[:300])
        return None
    for note in decoded.notes:
        reader.note(location, note)
    if decoded.all_frames > decoded.frames and decoded.all_frames > limits.max_pages:
        reader.limit(location, "max_pages", f"{decoded.all_frames} frames; only the first {limits.max_pages} read")
    if not decoded.text_like and limits.ocr_skip_textless_images:
        reader.note(location, "photo without text-like regions; not OCR'd")
        return None
    return decoded


def read_metadata(reader: Reader, image: Any, location: str, max_pixels: int = 0) -> None:
    """Text a viewer shows about the picture: PNG tEXt/iTXt/zTXt, JPEG/GIF comments, EXIF
    descriptions and comments, XMP. One `metadata` segment, each value on its own line."""
    values: list[str] = []
    info = getattr(image, "info", {}) or {}
    if image.format == "PNG":
        # The chunks before the pixels are in info; `image.text` adds those after the
        # pixels but decodes the pixels to reach them: only for an image small enough.
        chunks = {k: v for k, v in info.items() if isinstance(v, str)}
        if image.width * image.height <= max_pixels:
            with contextlib.suppress(Exception):  # a truncated file: what came before the damage
                chunks.update(image.text)
        values.extend(str(value) for value in chunks.values())
    comment = info.get("comment")
    if comment:
        values.append(_text(comment))
    try:
        exif = image.getexif()
    except Exception:
        exif = None
    if exif:
        for tag in _EXIF_TEXT_TAGS:
            if exif.get(tag):
                values.append(_text(exif[tag]))
        for tag in _XP_TAGS:
            if exif.get(tag):
                raw = exif[tag]
                raw = bytes(raw) if isinstance(raw, (bytes, tuple, list)) else str(raw).encode("utf-16-le")
                values.append(raw.decode("utf-16-le", "replace").rstrip("\x00"))
        try:
            sub = exif.get_ifd(_EXIF_IFD)
        except Exception:
            sub = {}
        comment = sub.get(_EXIF_USER_COMMENT)
        if comment:
            values.append(_user_comment(comment))
    xmp = info.get("xmp") or info.get("XML:com.adobe.xmp")
    if xmp:
        values.append(" ".join(re.sub(r"<[^>]*>", " ", _text(xmp)).split()))
    lines = [v.strip().strip("\x00") for v in values if v and v.strip().strip("\x00")]
    lines = list(dict.fromkeys(lines))
    text = "\n".join(lines)
    if len(text) > MAX_METADATA_CHARS:
        reader.note(location, f"image metadata longer than {MAX_METADATA_CHARS} characters; the rest not read")
        text = text[:MAX_METADATA_CHARS]
    reader.segment(text, join(location, "metadata"), location, "metadata")


def _text(value: object) -> str:
    if isinstance(value, bytes):
        for encoding in ("utf-8", "cp950", "gbk"):
            try:
                return value.decode(encoding)
            except UnicodeDecodeError:
                continue
        return value.decode("latin-1")
    return str(value)


def _user_comment(value: object) -> str:
    """EXIF UserComment: an 8-byte character-code prefix (ASCII, UNICODE, JIS), then the text."""
    if not isinstance(value, bytes):
        return str(value)
    prefix, body = value[:8], value[8:]
    if prefix.startswith(b"UNICODE"):
        encoding = "utf-16-be" if body[:1] == b"\x00" else "utf-16-le"
        return body.decode(encoding, "replace")
    if prefix.startswith(b"JIS"):
        return body.decode("iso2022_jp", "replace")
    return _text(body if prefix.rstrip(b"\x00").isalpha() or prefix == b"\x00" * 8 else value)
