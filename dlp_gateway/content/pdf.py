"""PDF reader (PyMuPDF): page text with header and footer bands, annotations, form
fields, metadata, embedded files, and OCR of pages without a usable text layer.

Markings stand at the top and bottom of each page, so every page is read as three
segments: `… › page N › header` (kind `header_band`, the top 10% of the page), `… › page N`
(kind `page`, everything between, in reading order, so its first and last lines are the
page's first and last lines of body text) and `… › page N › footer` (kind `footer_band`,
the bottom 10%). A page whose text layer is (nearly) empty but which carries an image is a
scan: it is OCR'd within the per-message OCR budget and split into bands the same way.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

import pymupdf

from dlp_gateway.content.walk import join
from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader

BAND = 0.10  # share of the page height that makes the header band and the footer band
MARGIN = 0.12  # share of the page width, left and right, where a rotated line is a margin banner
# Text placed outside the visible page is still text that leaves: do not clip to the mediabox.
_TEXT_FLAGS = pymupdf.TEXTFLAGS_TEXT & ~pymupdf.TEXT_MEDIABOX_CLIP
_METADATA_KEYS = ("title", "subject", "author", "keywords", "creator", "producer")
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_OCR_GAPS = re.compile(rf"(?<=[{_CJK}0-9])[ \u3000]+(?=[{_CJK}])|(?<=[{_CJK}])[ \u3000]+(?=[0-9])")

pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)


def tidy_ocr(text: str) -> str:
    """Tesseract puts spaces between CJK characters; remove them (Latin spacing stays)."""
    return _OCR_GAPS.sub("", text)


def split_bands(blocks: list[Any], height: float, skip: frozenset[int] = frozenset()) -> tuple[str, str, str]:
    """Text blocks of one page split into (header band, body, footer band) by position;
    blocks numbered in `skip` (read elsewhere, e.g. margin banners) are left out."""
    top, bottom = height * BAND, height * (1 - BAND)
    header: list[str] = []
    body: list[str] = []
    footer: list[str] = []
    for block in blocks:
        if block[6] != 0 or block[5] in skip:  # image block, or read as a margin banner
            continue
        centre = (block[1] + block[3]) / 2
        target = header if centre < top else footer if centre > bottom else body
        target.append(block[4])
    return "".join(header), "".join(body), "".join(footer)


def _usable(text: str, minimum: int) -> bool:
    visible = "".join(text.split())
    if len(visible) < minimum:
        return False
    # Fonts without a Unicode map give replacement characters: not a usable text layer.
    return visible.count("\ufffd") * 2 < len(visible)


def read_pdf(reader: Reader, data: bytes, location: str, depth: int, **_: object) -> None:
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:
        reader.problem(ProblemKind.CORRUPT, location, f"not a readable PDF: {exc}")
        return
    with doc:
        _read_document(reader, doc, location, depth)
    from dlp_gateway.content.archives import read_appended_zip

    read_appended_zip(reader, data, location, depth)  # a PDF/ZIP polyglot


def _read_document(reader: Reader, doc: pymupdf.Document, location: str, depth: int) -> None:
    limits = reader.limits
    if doc.is_repaired:
        # Every PDF viewer rebuilds a broken cross-reference table silently; the pages are
        # read from the repaired document. A page that still cannot be read is a problem below.
        reader.note(location, "damaged PDF: cross-reference table broken and rebuilt; read as repaired")
    if doc.needs_pass and not doc.authenticate(""):
        reader.problem(ProblemKind.ENCRYPTED, location, "password-protected PDF; content not readable")
        return
    _read_metadata(reader, doc, location)
    try:
        count = doc.page_count
    except Exception as exc:
        reader.problem(ProblemKind.CORRUPT, location, f"page tree unreadable: {exc}")
        count = 0
    if count > limits.max_pages:
        reader.limit(location, "max_pages", f"{count} pages; only the first {limits.max_pages} read")
    failures = 0
    for number in range(min(count, limits.max_pages)):
        if reader.timed_out(location):
            return
        page_location = join(location, f"page {number + 1}")
        try:
            page = doc.load_page(number)
            _read_page(reader, page, page_location, location, depth)
            failures = 0
        except Exception as exc:
            reader.problem(ProblemKind.CORRUPT, page_location, f"page unreadable: {type(exc).__name__}: {exc}"[:300])
            failures += 1
            if failures >= 3:
                # A page tree that promises pages it does not have: stop asking.
                reader.problem(ProblemKind.CORRUPT, location,
                               f"document claims {count} pages; stopped after 3 unreadable pages at page {number + 1}")
                break
    _read_embedded(reader, doc, location, depth)


def _read_metadata(reader: Reader, doc: pymupdf.Document, location: str) -> None:
    meta = doc.metadata or {}
    lines = [f"{key}: {meta[key]}" for key in _METADATA_KEYS if meta.get(key)]
    try:
        xmp = doc.get_xml_metadata()
    except Exception:
        xmp = ""
    if xmp:
        text = " ".join(re.sub(r"<[^>]*>", " ", xmp).split())
        if text:
            lines.append(text)
    where = join(location, "metadata")
    reader.segment("\n".join(lines), where, location, "metadata")


SCAN_TEXT_CHARS = 200  # below this many visible characters a page may be a scan with a stamp
SCAN_COVERAGE = 0.5  # share of the page covered by images that makes it a scan


def _needs_ocr(page: pymupdf.Page, text: str, minimum: int) -> bool:
    """A page needs OCR when it has an image and no usable text layer, or when it has only
    a little text (a stamp, a page number) over images covering most of the page."""
    visible = len(text) - text.count(" ") - text.count("\n") - text.count("\t")
    if visible >= SCAN_TEXT_CHARS or not page.get_images(full=False):
        return False
    if not _usable(text, minimum):
        return True
    area = abs(page.rect) or 1.0
    covered = 0.0
    for info in page.get_image_info():
        covered += abs(pymupdf.Rect(info["bbox"]) & page.rect)
    return covered / area > SCAN_COVERAGE


def _merge(first: str, second: str) -> str:
    return first if second.strip() in first else f"{first}{second}" if first.strip() else second


def _margin_banners(textpage: pymupdf.TextPage, rect: pymupdf.Rect) -> tuple[str, frozenset[int]]:
    """Text turned sideways along the left or right edge (a vertical `SECRET` or 機密
    banner printed up the margin). In reading order it would be a stray line inside the
    body, where a marking counts for less than in a banner; it is returned on its own,
    with the numbers of its blocks so the body leaves them out."""
    edge = rect.width * MARGIN
    texts: list[str] = []
    numbers: set[int] = set()
    for block in textpage.extractDICT().get("blocks", []):
        lines = block.get("lines") or []
        if block.get("type") != 0 or not lines:
            continue
        if any(abs(line["dir"][0]) > 0.5 for line in lines):  # a horizontal line: not a sideways banner
            continue
        x0, _, x1, _ = block["bbox"]
        centre = (x0 + x1) / 2
        if rect.x0 + edge < centre < rect.x1 - edge:
            continue
        texts.append("\n".join("".join(span["text"] for span in line["spans"]) for line in lines))
        numbers.add(block["number"])
    return "\n".join(texts), frozenset(numbers)


def _read_page(reader: Reader, page: pymupdf.Page, page_location: str, part: str, depth: int) -> None:
    limits = reader.limits
    textpage = page.get_textpage(flags=_TEXT_FLAGS, clip=pymupdf.INFINITE_RECT())
    blocks = textpage.extractBLOCKS()
    margin, margin_blocks = _margin_banners(textpage, page.rect)
    header, body, footer = split_bands(blocks, page.rect.height, margin_blocks)
    body_kind = "page"
    if _needs_ocr(page, header + body + footer, limits.min_text_layer_chars):
        ocr = _ocr_page(reader, page, page_location)
        if ocr is not None:
            ocr_header, ocr_body, ocr_footer = (tidy_ocr(t) for t in ocr)
            header, body, footer = _merge(header, ocr_header), _merge(body, ocr_body), _merge(footer, ocr_footer)
            body_kind = "ocr"
    reader.segment(header, join(page_location, "header"), part, "header_band")
    reader.segment(body, page_location, part, body_kind)
    reader.segment(footer, join(page_location, "footer"), part, "footer_band")
    # A banner turned 90° along the page edge is a banner like the top and bottom lines.
    reader.segment(margin, join(page_location, "margin"), part, "header_band")
    _read_annotations(reader, page, page_location, part, depth)


def _ocr_page(reader: Reader, page: pymupdf.Page, page_location: str) -> tuple[str, str, str] | None:
    refused = reader.budget.ocr_refusal()
    if refused:
        reader.limit(page_location, refused, "page without a text layer not OCR'd: OCR budget spent")
        return None
    started = time.monotonic()
    try:
        textpage = page.get_textpage_ocr(flags=_TEXT_FLAGS, language=reader.limits.ocr_languages,
                                         dpi=reader.limits.ocr_dpi, full=True)
        blocks = textpage.extractBLOCKS()
    except Exception as exc:
        reader.problem(ProblemKind.UNSUPPORTED, page_location, f"OCR failed: {exc}"[:300])
        return None
    finally:
        reader.budget.charge_ocr(time.monotonic() - started)
    return split_bands(blocks, page.rect.height)


def _read_annotations(reader: Reader, page: pymupdf.Page, page_location: str, part: str, depth: int) -> None:
    notes: list[str] = []
    for annot in page.annots() or []:
        info = annot.info or {}
        for key in ("title", "subject", "content"):
            if info.get(key) and (key != "title" or info.get("content")):
                notes.append(info[key])
        if annot.type[0] == pymupdf.PDF_ANNOT_FILE_ATTACHMENT:
            try:
                file_info = annot.file_info
                name = file_info.get("filename") or "attachment"
                if file_info.get("length", 0) > reader.budget.bytes_allowed():
                    reader.limit(join(page_location, name), reader.budget.byte_limit_name(), "attached file too large; not read")
                    continue
                reader.read_file(annot.get_file(), join(page_location, name), filename=name,
                                 declared_type=None, depth=depth + 1)
            except Exception as exc:
                reader.problem(ProblemKind.CORRUPT, page_location, f"file annotation unreadable: {exc}")
    reader.segment("\n".join(notes), join(page_location, "annotation"), part, "annotation")
    fields = []
    for widget in page.widgets() or []:
        value = widget.field_value
        if value not in (None, "", False, "Off"):
            fields.append(f"{widget.field_label or widget.field_name}: {value}")
    reader.segment("\n".join(fields), join(page_location, "form"), part, "form")


def _read_embedded(reader: Reader, doc: pymupdf.Document, location: str, depth: int) -> None:
    try:
        names = doc.embfile_names()
    except Exception as exc:
        reader.problem(ProblemKind.CORRUPT, location, f"embedded files unreadable: {exc}")
        return
    for name in names:
        if reader.timed_out(location):
            return
        try:
            info = doc.embfile_info(name)
            filename = info.get("filename") or info.get("ufilename") or name
            where = join(location, filename)
            if (info.get("size") or 0) > reader.budget.bytes_allowed():
                reader.limit(where, reader.budget.byte_limit_name(), f"embedded file of {info.get('size')} bytes not read")
                continue
            data = doc.embfile_get(name)
        except Exception as exc:
            reader.problem(ProblemKind.CORRUPT, join(location, name), f"embedded file unreadable: {exc}")
            continue
        reader.read_file(data, where, filename=filename, declared_type=None, depth=depth + 1)
