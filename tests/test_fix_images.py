"""Images mail clients show are read, not held (red team A1, A2, A4, A5, A6, B30, B36; #12).

Fast cases only (no Tesseract run): decoding of every format Pillow reads, huge photos decoded
reduced, text-free photos noted instead of OCR'd (and costing no OCR budget), metafile text
records, image metadata. What OCR then reads is in test_fix_images_ocr.py (slow).
"""

from __future__ import annotations

import io
import struct

import docgen
import numpy as np
import pytest
from PIL import Image, ImageFilter

from dlp_gateway.config import load_settings
from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.model import Inspection, InspectionReport, Level
from dlp_gateway.pipeline import WorkerContext, inspect_message

US = "SECRET//NOFORN"
TEXTLESS = "photo without text-like regions; not OCR'd"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> WorkerContext:
    settings = load_settings(None, {"data_dir": str(tmp_path_factory.mktemp("data"))})
    return WorkerContext.from_settings(settings)


def inspect(attachments: list[tuple[str, bytes, str]], limits: ExtractionLimits | None = None) -> Inspection:
    return extract(docgen.make_message("pictures", "see attached", attachments), limits or ExtractionLimits())


def report(ctx: WorkerContext, attachments: list[tuple[str, bytes, str]]) -> InspectionReport:
    return inspect_message(docgen.make_message("pictures", "see attached", attachments), ctx)


def notes(ins: Inspection, location: str) -> list[str]:
    return [n.detail for n in ins.notes if n.location == location]


def save(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def smooth_photo(width: int, height: int) -> Image.Image:
    """A photo-like picture with no text: smooth colour gradients (sky, a wall, a face)."""
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([x * 255 // max(1, width), y * 200 // max(1, height), (x + y) * 255 // (width + height)], -1)
    return Image.fromarray(pixels.astype(np.uint8))


def phone_photo() -> bytes:
    """The red team's 12-MP phone photo: blurred noise texture, 4032×3024, JPEG q85."""
    small = Image.effect_noise((504, 378), 60).convert("RGB")
    return save(small.resize((4032, 3024), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(2)),
                "JPEG", quality=85)


def text_picture() -> Image.Image:
    return Image.open(io.BytesIO(docgen.make_png([US, "機密 會議紀錄"]))).convert("RGB")


def photographed_page(scale: int = 3) -> bytes:
    """A page of text photographed: grey paper, slightly turned, soft focus, sensor noise."""
    page = Image.open(io.BytesIO(docgen.make_png(["機密 會議紀錄", "Operation Lantern report"], fontsize=14))).convert("L")
    page = page.point(lambda v: 60 + v * 0.6).rotate(3, expand=True, fillcolor=90).filter(ImageFilter.GaussianBlur(1.2))
    page = page.resize((page.width * scale, page.height * scale), Image.Resampling.BICUBIC)
    return save(Image.blend(page, Image.effect_noise(page.size, 12), 0.15).convert("RGB"), "JPEG", quality=80)


# ---------------------------------------------------------------- A1, A2: formats PyMuPDF cannot open

@pytest.mark.parametrize(("fmt", "name", "mime"), [
    ("WEBP", "i.webp", "image/webp"), ("AVIF", "i.avif", "image/avif"), ("ICO", "favicon.ico", "image/x-icon"),
    ("TGA", "i.tga", "image/x-tga"), ("PCX", "i.pcx", "image/x-pcx"),
])
def test_images_only_pillow_reads_are_decoded_not_held(fmt: str, name: str, mime: str) -> None:
    ins = inspect([(name, save(smooth_photo(64, 64), fmt), mime)])
    assert not ins.problems, ins.problems
    assert TEXTLESS in notes(ins, name)


def test_heic_photo_is_decoded_not_held() -> None:
    import pillow_heif

    out = io.BytesIO()
    pillow_heif.from_pillow(smooth_photo(128, 96)).save(out, quality=80)
    ins = inspect([("IMG_0001.heic", out.getvalue(), "image/heic")])
    assert not ins.problems, ins.problems
    assert TEXTLESS in notes(ins, "IMG_0001.heic")


def test_webp_with_text_goes_to_ocr_as_png() -> None:
    from dlp_gateway.content.image_decode import decode_for_ocr

    decoded = decode_for_ocr(save(text_picture(), "WEBP", lossless=True), ExtractionLimits())
    assert decoded.text_like
    assert decoded.data.startswith(b"\x89PNG")  # PyMuPDF cannot open WebP; it opens this


# ---------------------------------------------------------------- A4: photo mail, panoramas, budgets

def test_three_phone_photos_are_delivered_without_ocr() -> None:
    photo = phone_photo()
    ins = inspect([(f"IMG_000{n}.JPG", photo, "image/jpeg") for n in (1, 2, 3)])
    assert not ins.problems, ins.problems
    assert all(TEXTLESS in notes(ins, f"IMG_000{n}.JPG") for n in (1, 2, 3))
    assert not [s for s in ins.segments if s.kind == "ocr"]


def test_64_megapixel_panorama_is_decoded_reduced_not_refused() -> None:
    panorama = save(smooth_photo(1600, 400).resize((16000, 4000)), "JPEG", quality=70)
    ins = inspect([("PANO_0001.JPG", panorama, "image/jpeg")])
    assert not ins.problems, ins.problems
    assert any("16000×4000 image decoded reduced to" in n for n in notes(ins, "PANO_0001.JPG"))


def test_a_bomb_png_is_still_refused_by_max_image_pixels() -> None:
    ins = inspect([("bomb.png", docgen.make_png_header(30000, 30000), "image/png")])
    assert [p.limit for p in ins.problems] == ["max_image_pixels"]


def test_newsletter_with_25_inline_photos_is_not_held_by_the_ocr_page_budget() -> None:
    photos = [(f"photo{n}.jpg", save(smooth_photo(400 + n, 300), "JPEG"), "image/jpeg") for n in range(25)]
    ins = inspect(photos)
    assert not ins.problems, ins.problems


def test_text_free_images_beyond_a_spent_budget_are_not_a_hold() -> None:
    ins = inspect([("view.jpg", save(smooth_photo(800, 600), "JPEG"), "image/jpeg")],
                  ExtractionLimits(max_ocr_pages=0))
    assert not ins.problems
    assert TEXTLESS in notes(ins, "view.jpg")


def test_a_picture_with_text_beyond_a_spent_budget_still_holds() -> None:
    ins = inspect([("memo.png", save(text_picture(), "PNG"), "image/png")], ExtractionLimits(max_ocr_pages=0))
    assert [p.limit for p in ins.problems] == ["max_ocr_pages"]


def test_a_photographed_document_is_never_skipped_as_text_free() -> None:
    ins = inspect([("IMG_0420.JPG", photographed_page(), "image/jpeg")], ExtractionLimits(max_ocr_pages=0))
    assert [p.limit for p in ins.problems] == ["max_ocr_pages"]  # it would be OCR'd
    assert TEXTLESS not in notes(ins, "IMG_0420.JPG")


def test_a_stamp_is_never_skipped_as_text_free() -> None:
    from dlp_gateway.content.image_decode import decode_for_ocr

    assert decode_for_ocr(docgen.make_stamp_png("極機密"), ExtractionLimits()).text_like


def test_skipping_text_free_images_can_be_switched_off() -> None:
    ins = inspect([("view.jpg", save(smooth_photo(800, 600), "JPEG"), "image/jpeg")],
                  ExtractionLimits(max_ocr_pages=0, ocr_skip_textless_images=False))
    assert [p.limit for p in ins.problems] == ["max_ocr_pages"]


def test_a_large_photo_is_reduced_to_the_ocr_pixel_target() -> None:
    from dlp_gateway.content.image_decode import decode_for_ocr

    decoded = decode_for_ocr(photographed_page(scale=6), ExtractionLimits(ocr_max_image_pixels=2_000_000))
    assert decoded.width * decoded.height <= 2_000_000
    assert decoded.text_like


def test_black_text_on_a_transparent_background_is_flattened_onto_white() -> None:
    from dlp_gateway.content.image_decode import decode_for_ocr

    mask = text_picture().convert("L").point(lambda v: 255 - v)
    transparent = Image.new("RGBA", mask.size, (0, 0, 0, 0))
    transparent.putalpha(mask)
    decoded = decode_for_ocr(save(transparent, "WEBP", lossless=True), ExtractionLimits())
    assert decoded.text_like
    assert Image.open(io.BytesIO(decoded.data)).convert("L").getpixel((0, 0)) == 255


# ---------------------------------------------------------------- A6: truncated images

def test_a_truncated_png_is_read_as_far_as_it_goes_with_a_note() -> None:
    png = save(smooth_photo(300, 200), "PNG")
    ins = inspect([("cut.png", png[: len(png) * 8 // 10], "image/png")])
    assert not ins.problems, ins.problems
    assert "image file is truncated; the part that decodes was read" in notes(ins, "cut.png")


# ---------------------------------------------------------------- A5, B36: WMF and EMF text records

def wmf(records: list[tuple[int, bytes]]) -> bytes:
    words = struct.unpack("<10H", struct.pack("<IHhhhhHI", 0x9AC6CDD7, 0, 0, 0, 1000, 1000, 1440, 0))
    checksum = 0
    for word in words:
        checksum ^= word
    body = b"".join(struct.pack("<IH", (6 + len(params)) // 2, function) + params for function, params in records)
    body += struct.pack("<IH", 3, 0)
    header = struct.pack("<HHHIHIH", 1, 9, 0x0300, (18 + len(body)) // 2, 0, 3, 0)
    return struct.pack("<IHhhhhHIH", 0x9AC6CDD7, 0, 0, 0, 1000, 1000, 1440, 0, checksum) + header + body


def wmf_textout(text: bytes, y: int = 100) -> tuple[int, bytes]:
    padded = text + (b"\x00" if len(text) % 2 else b"")
    return 0x0521, struct.pack("<H", len(text)) + padded + struct.pack("<hh", y, 10)


def wmf_font(charset: int) -> tuple[int, bytes]:
    return 0x02FB, struct.pack("<hhhhhBBBBBBBB", -12, 0, 0, 0, 400, 0, 0, 0, charset, 0, 0, 0, 0) + b"Arial\x00"


def emf(records: list[bytes]) -> bytes:
    body = b"".join(records) + struct.pack("<IIIII", 14, 20, 0, 0, 20)
    header = struct.pack("<II4i4iIIIIHHIII2i2i", 1, 88, 0, 0, 100, 100, 0, 0, 1000, 1000, 0x464D4520, 0x10000,
                         88 + len(body), 2 + len(records), 1, 0, 0, 0, 0, 1920, 1080, 320, 240)
    return header + body


def emr_exttextoutw(text: str, y: int = 50) -> bytes:
    string = text.encode("utf-16-le")
    string += b"\x00" * (-len(string) % 4)
    fixed = 76
    record = struct.pack("<II4iIff", 84, fixed + len(string), 0, 0, 100, 100, 1, 1.0, 1.0)
    record += struct.pack("<iiIII4iI", 10, y, len(text), fixed, 0, 0, 0, 0, 0, 0)
    return record + string


def emr_smalltextout(text: str, y: int = 80) -> bytes:
    string = text.encode("utf-16-le")
    string += b"\x00" * (-len(string) % 4)
    return struct.pack("<IIiiIIIff", 108, 36 + len(string), 10, y, len(text), 0x100, 1, 1.0, 1.0) + string


def test_an_empty_wmf_logo_is_delivered_not_held() -> None:
    ins = inspect([("logo.wmf", wmf([]), "image/wmf")])
    assert not ins.problems, ins.problems


def test_a_wmf_in_a_docx_is_delivered_not_held() -> None:
    import zipfile

    docx = io.BytesIO(docgen.make_docx(["Minutes of the meeting"]))
    with zipfile.ZipFile(docx, "a") as archive:
        archive.writestr("word/media/image1.wmf", wmf([]))
    ins = inspect([("minutes.docx", docx.getvalue(),
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document")])
    assert not ins.problems, ins.problems


def test_wmf_text_records_are_read_in_the_fonts_code_page(ctx: WorkerContext) -> None:
    picture = wmf([wmf_font(136), wmf_textout("極機密".encode("cp950"), y=40), wmf_textout(b"Minutes", y=200)])
    result = report(ctx, [("clip.wmf", picture, "image/x-wmf")])
    (segment,) = [s for s in result.inspection.segments if s.location == "clip.wmf" and s.kind == "body"]
    assert segment.text == "極機密\nMinutes"
    assert result.level == Level.SECRET


def test_wmf_exttextout_is_read() -> None:
    text = b"SECRET//NOFORN"
    record = struct.pack("<hhHH", 30, 10, len(text), 0x4) + struct.pack("<4h", 0, 0, 100, 100) + text
    ins = inspect([("banner.wmf", wmf([(0x0A32, record)]), "image/wmf")])
    assert [s.text for s in ins.segments if s.location == "banner.wmf" and s.kind == "body"] == [US]


def test_emf_exttextoutw_banner_is_found(ctx: WorkerContext) -> None:
    result = report(ctx, [("banner.emf", emf([emr_exttextoutw(US)]), "application/octet-stream")])
    assert not result.inspection.problems
    assert result.level == Level.SECRET


def test_emf_smalltextout_runs_on_one_baseline_are_joined() -> None:
    picture = emf([emr_smalltextout("極", y=80), emr_smalltextout("機密", y=80), emr_exttextoutw("report", y=300)])
    ins = inspect([("stamp.emf", picture, "image/emf")])
    assert [s.text for s in ins.segments if s.location == "stamp.emf" and s.kind == "body"] == ["極機密\nreport"]


# ---------------------------------------------------------------- B30: image metadata

def test_png_text_chunk_is_read_as_metadata() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Description", US)
    info.add_itxt("Title", "極機密 報告")
    ins = inspect([("chart.png", save(smooth_photo(64, 64), "PNG", pnginfo=info), "image/png")])
    (segment,) = [s for s in ins.segments if s.location == "chart.png › metadata"]
    assert segment.kind == "metadata" and segment.text.splitlines() == [US, "極機密 報告"]


def test_jpeg_exif_description_comment_and_xp_fields_are_read_as_metadata(ctx: WorkerContext) -> None:
    exif = Image.Exif()
    exif[0x010E] = US
    exif[0x9C9C] = "極機密".encode("utf-16-le") + b"\x00\x00"
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\x00" + "絕對機密".encode("utf-16-le")
    photo = save(smooth_photo(64, 64), "JPEG", exif=exif, comment=b"camera note")
    result = report(ctx, [("IMG_0009.JPG", photo, "image/jpeg")])
    (segment,) = [s for s in result.inspection.segments if s.location == "IMG_0009.JPG › metadata"]
    assert set(segment.text.splitlines()) == {US, "極機密", "絕對機密", "camera note"}
    assert result.level == Level.SECRET


def mp3(tag_frames: list) -> bytes:  # type: ignore[type-arg]
    from mutagen.id3 import ID3

    tag = ID3()
    for frame in tag_frames:
        tag.add(frame)
    out = io.BytesIO()
    tag.save(out)
    return out.getvalue() + (bytes.fromhex("fffb9064") + b"\x00" * 413) * 20  # 20 silent MPEG frames


def test_mp3_id3_title_and_comment_are_read_as_metadata(ctx: WorkerContext) -> None:
    from mutagen.id3 import COMM, TIT2

    song = mp3([TIT2(encoding=3, text=US), COMM(encoding=3, lang="eng", desc="", text="極機密 錄音")])
    result = report(ctx, [("briefing.mp3", song, "audio/mpeg")])
    (segment,) = [s for s in result.inspection.segments if s.location == "briefing.mp3 › metadata"]
    assert segment.kind == "metadata" and segment.text.splitlines() == [US, "極機密 錄音"]
    assert result.level == Level.SECRET
    assert not result.inspection.problems


def test_mp3_cover_art_is_read_as_a_picture() -> None:
    from mutagen.id3 import APIC

    cover = save(smooth_photo(64, 64), "PNG")
    ins = inspect([("song.mp3", mp3([APIC(encoding=3, mime="image/png", type=3, desc="", data=cover)]), "audio/mpeg")])
    assert [p.true_type for p in ins.parts if p.location == "song.mp3 › cover art"] == ["image/png"]
    assert not ins.problems


def test_audio_without_tags_is_still_typed_for_the_policy() -> None:
    ins = inspect([("silence.mp3", mp3([]), "audio/mpeg")])
    assert [f.value for f in ins.facts if f.name == "file.unread_type" and f.location == "silence.mp3"] == ["audio/mpeg"]
    assert not ins.problems


def test_a_banner_in_the_second_frame_of_an_animated_gif_keeps_the_gif_for_ocr() -> None:
    from dlp_gateway.content.image_decode import decode_for_ocr

    frames = [smooth_photo(1389, 556), text_picture().resize((1389, 556))]
    gif = save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=500)
    decoded = decode_for_ocr(gif, ExtractionLimits())
    assert decoded.text_like and decoded.data == gif  # MuPDF OCRs every original frame


def test_an_animated_webp_is_reencoded_with_every_frame_for_ocr() -> None:
    from dlp_gateway.content.image_decode import decode_for_ocr

    frames = [smooth_photo(600, 240), text_picture().resize((600, 240))]
    webp = save(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=500, lossless=True)
    decoded = decode_for_ocr(webp, ExtractionLimits())
    assert decoded.text_like and decoded.frames == 2
    assert Image.open(io.BytesIO(decoded.data)).n_frames == 2


def test_frames_beyond_max_pages_of_a_reencoded_image_are_a_recorded_limit() -> None:
    frames = [smooth_photo(64, 64).rotate(angle) for angle in (0, 90, 180)]  # distinct, or WebP merges them
    webp = save(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, lossless=True)
    ins = inspect([("anim.webp", webp, "image/webp")], ExtractionLimits(max_pages=2))
    assert [(p.limit, p.location) for p in ins.problems] == [("max_pages", "anim.webp")]


def test_png_text_after_the_pixels_is_read_too() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", US, zip=True)
    png = save(smooth_photo(64, 64), "PNG", pnginfo=info)
    start = png.index(b"zTXt") - 4  # move the zTXt chunk after IDAT, before IEND
    length = int.from_bytes(png[start:start + 4], "big") + 12
    chunk, rest = png[start:start + length], png[:start] + png[start + length:]
    png = rest[:-12] + chunk + rest[-12:]
    ins = inspect([("late.png", png, "image/png")])
    assert [s.text for s in ins.segments if s.location == "late.png › metadata"] == [US]


def emfplus_drawstring(text: str, top: float = 20.0) -> bytes:
    string = text.encode("utf-16-le")
    string += b"\x00" * (-len(string) % 4)
    data = struct.pack("<III4f", 0, 0, len(text), 10.0, top, 200.0, 40.0) + string
    plus = struct.pack("<HHII", 0x401C, 0, 12 + len(data), len(data)) + data
    return struct.pack("<IIII", 70, 16 + len(plus), 4 + len(plus), 0x2B464D45) + plus


def test_emfplus_drawstring_in_an_office_emf_is_read() -> None:
    ins = inspect([("chart.emf", emf([emfplus_drawstring(US)]), "image/x-emf")])
    assert [s.text for s in ins.segments if s.location == "chart.emf" and s.kind == "body"] == [US]


def test_emf_text_inside_a_docx_is_found(ctx: WorkerContext) -> None:
    import zipfile

    docx = io.BytesIO(docgen.make_docx(["Minutes of the meeting"]))
    with zipfile.ZipFile(docx, "a") as archive:
        archive.writestr("word/media/image1.emf", emf([emr_exttextoutw(US)]))
    result = report(ctx, [("minutes.docx", docx.getvalue(),
                           "application/vnd.openxmlformats-officedocument.wordprocessingml.document")])
    assert any(s.text == US for s in result.inspection.segments if s.location.endswith("image1.emf"))
    assert result.level == Level.SECRET


def dib(image: Image.Image) -> bytes:
    return save(image, "BMP")[14:]  # a packed DIB: the BMP without its file header


def emr_stretchdibits(packed: bytes) -> bytes:
    header_size = int.from_bytes(packed[:4], "little")
    info, bits = packed[:header_size], packed[header_size:]
    fixed = 80
    record = struct.pack("<II4i6iIIIIIIii", 81, fixed + len(info) + len(bits), 0, 0, 64, 64,
                         0, 0, 0, 0, 64, 64, fixed, len(info), fixed + len(info), len(bits), 0, 0xCC0020, 64, 64)
    return record + info + bits


def test_a_bitmap_inside_an_emf_is_read_as_a_picture() -> None:
    ins = inspect([("scan.emf", emf([emr_stretchdibits(dib(smooth_photo(64, 64)))]), "image/emf")])
    assert [p.true_type for p in ins.parts if p.location == "scan.emf › bitmap 1"] == ["image/bmp"]
    assert TEXTLESS in notes(ins, "scan.emf › bitmap 1")
    assert not ins.problems


def test_a_bitmap_inside_a_wmf_with_text_goes_to_ocr() -> None:
    params = struct.pack("<IHhhhhhhhh", 0xCC0020, 0, 556, 1389, 0, 0, 556, 1389, 0, 0) + dib(text_picture().convert("L"))
    picture = wmf([(0x0F43, params + b"\x00" * (len(params) % 2))])
    ins = inspect([("stamp.wmf", picture, "image/wmf")], ExtractionLimits(max_ocr_pages=0))
    assert [p.true_type for p in ins.parts if p.location == "stamp.wmf › bitmap 1"] == ["image/bmp"]
    assert [(p.location, p.limit) for p in ins.problems] == [("stamp.wmf › bitmap 1", "max_ocr_pages")]  # would be OCR'd


def test_a_faint_photographed_photocopy_is_never_skipped_as_text_free() -> None:
    """Grey ink on grey paper (contrast 30 of 255), soft focus, sensor noise: still text-like
    (Tesseract itself reads nothing from this one: the test is more sensitive than OCR)."""
    from dlp_gateway.content.image_decode import decode_for_ocr

    page = Image.open(io.BytesIO(docgen.make_png(["第1項 本部訂於下週召開雙邊經貿諮商會議"], dpi=300, fontsize=10))).convert("L")
    page = page.point(lambda v: int(140 + 30 * v / 255)).filter(ImageFilter.GaussianBlur(1.0))
    photo = save(Image.blend(page, Image.effect_noise(page.size, 20), 0.08).convert("RGB"), "JPEG", quality=80)
    assert decode_for_ocr(photo, ExtractionLimits()).text_like


def test_a_png_cut_off_before_its_pixels_is_a_damaged_file_not_an_unsupported_format() -> None:
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 0, 0, 0, 0))
    png += chunk(b"iTXt", b"Comment\x00\x00\x00\x00\x00" + b"x" * 400)[:200]  # cut inside a text chunk
    ins = extract(docgen.make_message("s", "b", [("cut.png", png, "image/png")]), ExtractionLimits())
    assert [(p.kind.value, p.location) for p in ins.problems] == [("corrupt", "cut.png")]
