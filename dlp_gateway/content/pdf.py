"""PDF reader (PyMuPDF): page text with header and footer bands, annotations, form fields
(AcroForm and XFA), the outline, metadata, embedded files, and OCR where the text layer
does not tell everything.

Markings stand at the top and bottom of each page, so every page is read as three
segments: `… › page N › header` (kind `header_band`, the top 10% of the page), `… › page N`
(kind `page`, everything between, in reading order, so its first and last lines are the
page's first and last lines of body text) and `… › page N › footer` (kind `footer_band`,
the bottom 10%). A banner printed sideways (or stacked a character per line) along the
left or right edge is `… › page N › margin`, also a band. Text drawn out of order (a banner
drawn second half first, or a character at a time) is also rebuilt in reading order from
the word positions, and the lines that differ are `… › page N [› header|footer] › reading order`.

Nothing a viewer can show is left unread: layers that are switched off are switched on
first; a page whose text layer is (nearly) empty but which carries an image, or whose
text was converted to outlines, is a scan: it is OCR'd and split into bands the same way;
on a page that has a text layer, a large image (a pasted scan) and a red stamp (an image
or vector drawing) are OCR'd as regions (`… › page N › image K` / `drawing K`). All OCR
goes through the worker's engine (ocr.py: Tesseract loaded once, each image read once), a
scan rendered at its own resolution up to `ocr_dpi`, and is within the per-message OCR
budget; with `ocr_full_page` false a scan's bands are read first and a top-level marking
there ends OCR of the document. A damaged PDF that PyMuPDF repairs is read and the
repair is a note; a truncated one is a `corrupt` problem. A ZIP appended to the PDF is read.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

import pymupdf

from dlp_gateway.content.ocr import OcrLine, OcrTimeout, charge, engine_of, ocr_seconds_left
from dlp_gateway.content.walk import join
from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from PIL import Image

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
    from dlp_gateway.content.archives import appended_zip_start, read_appended_zip

    # A PDF/ZIP polyglot: a ZIP after the PDF's first end-of-file marker (what follows is
    # either an incremental update, which holds no ZIP header, or something appended).
    first_eof = data.find(b"%%EOF")
    after = first_eof if first_eof > 0 else len(data)
    pdf_end = appended_zip_start(data, after) or len(data)
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:
        reader.problem(ProblemKind.CORRUPT, location, f"not a readable PDF: {exc}")
        doc = None
    if doc is not None:
        with doc:
            _read_document(reader, doc, location, depth,
                           truncated=b"%%EOF" not in data[max(0, pdf_end - 2048):pdf_end])
    read_appended_zip(reader, data, location, depth, after=after)


def _read_document(reader: Reader, doc: pymupdf.Document, location: str, depth: int, *,
                   truncated: bool = False) -> None:
    limits = reader.limits
    if doc.is_repaired:
        # Every PDF viewer rebuilds a broken cross-reference table silently and shows the
        # pages: read as repaired, a note. A file cut short (no %%EOF at its end) or whose
        # pages point at objects that are gone has lost content: that is a problem.
        lost = _pages_without_content(doc) if not truncated else []
        if truncated:
            reader.problem(ProblemKind.CORRUPT, location,
                           "truncated PDF (its end is missing); pages after the cut cannot be read")
        elif lost:
            reader.problem(ProblemKind.CORRUPT, location,
                           f"damaged PDF: content of page(s) {', '.join(map(str, lost[:10]))} is missing")
        else:
            reader.note(location, "damaged PDF: cross-reference table broken and rebuilt; read as repaired")
    if doc.needs_pass and not doc.authenticate(""):
        reader.problem(ProblemKind.ENCRYPTED, location, "password-protected PDF; content not readable")
        return
    _read_metadata(reader, doc, location)
    _read_outline(reader, doc, location)
    _show_hidden_layers(reader, doc, location)
    try:
        count = doc.page_count
    except Exception as exc:
        reader.problem(ProblemKind.CORRUPT, location, f"page tree unreadable: {exc}")
        count = 0
    if count > limits.max_pages:
        reader.limit(location, "max_pages", f"{count} pages; only the first {limits.max_pages} read")
    failures = 0
    seen_images: set[str] = set()  # a stamp or logo repeated on every page is OCR'd once
    settled: list[str] = []  # where a band marking settled the verdict (ocr_full_page false)
    for number in range(min(count, limits.max_pages)):
        if reader.timed_out(location):
            return
        page_location = join(location, f"page {number + 1}")
        try:
            page = doc.load_page(number)
            _read_page(reader, page, page_location, location, depth, seen_images, settled)
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
    _read_xfa(reader, doc, location)


def _pages_without_content(doc: pymupdf.Document) -> list[int]:
    """Page numbers (1-based) whose content streams are referenced but absent."""
    lost: list[int] = []
    for number in range(min(doc.page_count, 500)):
        try:
            xrefs = doc[number].get_contents()
        except Exception:
            lost.append(number + 1)
            continue
        if any(not doc.xref_is_stream(xref) for xref in xrefs):
            lost.append(number + 1)
    return lost


def _read_outline(reader: Reader, doc: pymupdf.Document, location: str) -> None:
    """Bookmark titles: the reader's sidebar shows them, and no page need repeat them."""
    try:
        toc = doc.get_toc(simple=True)
    except Exception as exc:
        reader.note(location, f"outline (bookmarks) unreadable: {exc}"[:300])
        return
    titles = [str(entry[1]) for entry in toc[: reader.limits.max_pages * 10] if len(entry) > 1 and entry[1]]
    reader.segment("\n".join(titles), join(location, "outline"), location, "metadata")


def _show_hidden_layers(reader: Reader, doc: pymupdf.Document, location: str) -> None:
    """Turn every optional-content layer on before reading: text on a layer that is off
    is not extracted, yet one click in the viewer's Layers panel shows it."""
    try:
        layers = doc.get_ocgs()
        if layers and not all(layer.get("on") for layer in layers.values()):
            for config in doc.layer_ui_configs():
                if not config.get("on"):
                    doc.set_layer_ui_config(config["number"], 0)  # 0: switch on, as a click would
            if not all(layer.get("on") for layer in doc.get_ocgs().values()):
                reader.note(location, "a layer that is switched off could not be switched on; its text may be missing")
    except Exception as exc:
        reader.note(location, f"optional-content layers could not all be turned on: {exc}"[:300])


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
    a little text (a stamp, a page number) over images covering most of the page, or when
    it has no text layer and no image but its text was converted to outlines."""
    visible = len(text) - text.count(" ") - text.count("\n") - text.count("\t")
    if visible >= SCAN_TEXT_CHARS:
        return False
    if not page.get_images(full=False):
        # No image: a page is still a picture of text when its text was converted to
        # outlines (print-shop and Illustrator exports): many small paths, no text layer.
        return not _usable(text, minimum) and _outline_items(page) >= OUTLINE_MIN_ITEMS
    if not _usable(text, minimum):
        return True
    area = abs(page.rect) or 1.0
    covered = 0.0
    for info in page.get_image_info():
        covered += abs(pymupdf.Rect(info["bbox"]) & page.rect)
    return covered / area > SCAN_COVERAGE


OUTLINE_MIN_ITEMS = 200  # path segments on a page without text that make it outlined text worth OCR


def _outline_items(page: pymupdf.Page) -> int:
    """Filled path segments on the page (glyph outlines are filled shapes)."""
    return sum(len(d.get("items") or ()) for d in page.get_cdrawings() if d.get("fill") is not None)


def _merge(first: str, second: str) -> str:
    return first if second.strip() in first else f"{first}{second}" if first.strip() else second


def _margin_banners(textpage: pymupdf.TextPage, rect: pymupdf.Rect) -> tuple[str, frozenset[int]]:
    """Text turned sideways, or stacked a character per line, along the left or right edge
    (a vertical `SECRET` or 機密 banner printed up the margin). In reading order it would be a stray line inside the
    body, where a marking counts for less than in a banner; it is returned on its own,
    with the numbers of its blocks so the body leaves them out."""
    edge = rect.width * MARGIN
    texts: list[str] = []
    numbers: set[int] = set()
    for block in textpage.extractDICT().get("blocks", []):
        lines = block.get("lines") or []
        if block.get("type") != 0 or not lines:
            continue
        x0, _, x1, _ = block["bbox"]
        centre = (x0 + x1) / 2
        if rect.x0 + edge < centre < rect.x1 - edge:
            continue
        words = ["".join(span["text"] for span in line["spans"]) for line in lines]
        if all(abs(line["dir"][0]) <= 0.5 for line in lines):  # turned sideways
            texts.append("\n".join(words))
        elif len(words) >= 2 and all(len(word.strip()) <= 2 for word in words):
            # Upright characters stacked one under the other (vertical writing, or a banner
            # spelled S/E/C/R/E/T down the edge): one word, not one line per character.
            texts.append("".join(word.strip() for word in words))
        else:
            continue
        numbers.add(block["number"])
    return "\n".join(texts), frozenset(numbers)


WORD_GAP = 0.1  # a gap wider than this share of the line height between two words is a space
COLUMN_GAP = 1.5  # a gap wider than this many line heights separates columns: two fragments


def _stacked(items: list[Any]) -> bool:
    """True when the text is drawn a character at a time down columns (vertical writing, as
    ROC documents are often set): most glyphs drawn in a row sit under the previous one."""
    pairs = stacked = 0
    for before, after in zip(items, items[1:], strict=False):
        tall = max(before[3] - before[1], 1.0)
        pairs += 1
        if abs(before[0] - after[0]) < 0.3 * tall and 0 < after[1] - before[1] < 2 * tall:
            stacked += 1
    return pairs >= 4 and stacked * 2 > pairs


def _lines_by_position(items: list[Any], height: float, known: set[str]) -> tuple[str, str, str]:
    """Lay out positioned text `items` (x0, y0, x1, y1, text, ...), in drawing order, as a
    viewer shows them: grouped into lines by their vertical position, each line sorted left
    to right, a space only where the glyphs leave a gap, a wide gap (columns) splitting the
    line. Text stacked down columns (vertical writing) is laid out by column instead, each
    read top to bottom. Returned per band (header, body, footer), keeping only the fragments
    not already in `known` (lines with white space removed), so an ordinary page adds nothing."""
    vertical = _stacked(items)
    if vertical:  # transpose: a column is a line, read downwards
        items = [(w[1], -w[2], w[3], -w[0], w[4], (w[1] + w[3]) / 2) for w in items]
    else:
        items = [(w[0], w[1], w[2], w[3], w[4], (w[1] + w[3]) / 2) for w in items]
    items.sort(key=lambda w: (w[1] + w[3]) / 2)
    lines: list[list[Any]] = []
    centre = size = 0.0
    for item in items:
        middle, tall = (item[1] + item[3]) / 2, item[3] - item[1]
        if lines and abs(middle - centre) <= 0.5 * min(size, tall):
            lines[-1].append(item)
        else:
            lines.append([item])
            centre, size = middle, tall
    top, bottom = height * BAND, height * (1 - BAND)
    bands: tuple[list[str], list[str], list[str]] = ([], [], [])
    for line in lines:
        line.sort(key=lambda w: w[0])
        fragments: list[tuple[str, float]] = []
        text, right, first_y = "", None, line[0][5]
        for x0, y0, x1, y1, word, y_middle in line:
            tall = y1 - y0
            if right is not None and x0 - right > COLUMN_GAP * tall:
                fragments.append((text, first_y))
                text, first_y = "", y_middle
            elif right is not None and x0 - right > WORD_GAP * tall and not text.endswith(" "):
                text += " "
            text += word
            right = x1 if right is None else max(right, x1)
        fragments.append((text, first_y))
        for fragment, y_middle in fragments:
            key = "".join(fragment.split())
            if key and key not in known:
                band = bands[0] if y_middle < top else bands[2] if y_middle > bottom else bands[1]
                band.append(fragment.strip())
                known.add(key)
    return "\n".join(bands[0]), "\n".join(bands[1]), "\n".join(bands[2])


MIN_VISIBLE_SIZE = 1.5  # points: text set smaller than this is not legible on screen or paper
# In a content stream: render mode 3 or 7 (invisible), or a font size below 1 point.
_INVISIBLE_TEXT = re.compile(rb"(?<![\d.])(?:[37]\s+Tr|(?:0*\.\d+|0)\s+Tf)\b")


def _reading_order(textpage: pymupdf.TextPage, page: pymupdf.Page, drawn: tuple[str, str, str],
                   skip: frozenset[int]) -> tuple[str, str, str]:
    """The page's text in reading order, where it differs from the drawing order (red-team
    B14): a generator may draw `RET//NOFORN` before `SEC`, or one character at a time in any
    order; the drawing-order text then never holds the banner.

    When the page has invisible text (render mode 3 or 7, transparent) or text too small
    to see, the lines are also rebuilt from the visible characters only: invisible junk
    drawn inside a visible banner (`SEC` + invisible `xyz` + `RET`) would break it, as
    hidden elements do in HTML (B15)."""
    known = {"".join(line.split()) for band in drawn for line in band.splitlines()}
    words = [w for w in textpage.extractWORDS() if w[5] not in skip and w[3] > w[1]]
    if len(words) < 2:
        return "", "", ""
    ordered = _lines_by_position(words, page.rect.height, known)
    tiny = any(w[3] - w[1] < MIN_VISIBLE_SIZE for w in words)
    try:
        invisible = tiny or _INVISIBLE_TEXT.search(page.read_contents()) is not None
    except Exception:  # an unreadable content stream: the words above are what there is
        invisible = tiny
    if not invisible:
        return ordered
    chars = []
    for block in textpage.extractRAWDICT().get("blocks", []):
        if block.get("type") != 0 or block.get("number") in skip:
            continue
        for line in block.get("lines", []):
            for span in line.get("spans", []):
                if span.get("alpha", 255) == 0 or span.get("size", 0) < MIN_VISIBLE_SIZE:
                    continue
                chars.extend((*c["bbox"], c["c"]) for c in span.get("chars", []) if c["bbox"][3] > c["bbox"][1])
    shown = _lines_by_position(chars, page.rect.height, known)
    return tuple("\n".join(t for t in pair if t) for pair in zip(ordered, shown, strict=True))  # type: ignore[return-value]


def _read_page(reader: Reader, page: pymupdf.Page, page_location: str, part: str, depth: int,
               seen_images: set[str] | None = None, settled: list[str] | None = None) -> None:
    limits = reader.limits
    textpage = page.get_textpage(flags=_TEXT_FLAGS, clip=pymupdf.INFINITE_RECT())
    blocks = textpage.extractBLOCKS()
    margin, margin_blocks = "", frozenset()
    edge = page.rect.width * MARGIN
    if any(b[6] == 0 and b[3] - b[1] > b[2] - b[0] and not (edge < (b[0] + b[2]) / 2 < page.rect.width - edge)
           for b in blocks):  # a tall, narrow text block at a side edge: worth the detailed look
        margin, margin_blocks = _margin_banners(textpage, page.rect)
    header, body, footer = split_bands(blocks, page.rect.height, margin_blocks)
    body_kind = "page"
    if _needs_ocr(page, header + body + footer, limits.min_text_layer_chars):
        ocr = _ocr_page(reader, page, page_location, part, settled if settled is not None else [])
        if ocr is not None:
            ocr_header, ocr_body, ocr_footer = (tidy_ocr(t) for t in ocr)
            header, body, footer = _merge(header, ocr_header), _merge(body, ocr_body), _merge(footer, ocr_footer)
            body_kind = "ocr"
    else:
        _ocr_image_regions(reader, page, page_location, part, seen_images)
    reader.segment(header, join(page_location, "header"), part, "header_band")
    reader.segment(body, page_location, part, body_kind)
    reader.segment(footer, join(page_location, "footer"), part, "footer_band")
    # The same text in reading order, where it differs from the drawing order (B14).
    ordered = _reading_order(textpage, page, (header, body, footer), margin_blocks)
    reader.segment(ordered[0], join(page_location, "header", "reading order"), part, "header_band")
    reader.segment(ordered[1], join(page_location, "reading order"), part, "page")
    reader.segment(ordered[2], join(page_location, "footer", "reading order"), part, "footer_band")
    # A banner turned 90° along the page edge is a banner like the top and bottom lines.
    reader.segment(margin, join(page_location, "margin"), part, "header_band")
    _read_annotations(reader, page, page_location, part, depth)


LARGE_IMAGE_SHARE = 0.2  # an image covering this share of the page may be a pasted scan
STAMP_MIN_SIDE = 36.0  # points (half an inch): smaller images cannot hold a legible stamp
STAMP_RED_SHARE = 0.04  # share of red-ink pixels that makes an image region stamp-like
_STAMP_PROBE_DPI = 36  # the colour test renders the region this coarsely: cheap


def _stamp_like(page: pymupdf.Page, bbox: pymupdf.Rect) -> bool:
    """True when the region is inked in red (seal and classification stamps, 「機密」 chops):
    rendered coarsely, at least STAMP_RED_SHARE of its pixels are clearly red."""
    import numpy

    pix = page.get_pixmap(clip=bbox, dpi=_STAMP_PROBE_DPI, colorspace=pymupdf.csRGB, alpha=False)
    if not pix.width or not pix.height:
        return False
    rgb = numpy.frombuffer(pix.samples, dtype=numpy.uint8).reshape(pix.height, pix.width, pix.n)[:, :, :3].astype(int)
    red = (rgb[:, :, 0] > 140) & (rgb[:, :, 0] - rgb[:, :, 1] > 60) & (rgb[:, :, 0] - rgb[:, :, 2] > 60)
    return bool(red.mean() >= STAMP_RED_SHARE)


def _image_regions(page: pymupdf.Page, seen: set[str]) -> list[tuple[pymupdf.Rect, bool, str]]:
    """The regions of a page with a text layer that may carry text of their own: a large
    image (a scanned letter pasted onto a page whose text layer says something else), a
    red stamp-like image (a 「機密」 seal over a clean text layer), or red vector drawings
    that look like lettering (a stamp drawn as outlines). Each distinct image (by content
    digest) or drawing region is taken once per document. Each entry: (region, stamp-like,
    "image" or "drawing")."""
    area = abs(page.rect) or 1.0
    regions: list[tuple[pymupdf.Rect, bool, str]] = []  # (region, stamp-like, what)
    # get_images reads the page's resources only; the placement (and its cost) only when there are any.
    for info in page.get_image_info() if page.get_images(full=False) else ():
        bbox = pymupdf.Rect(info["bbox"]) & page.rect
        if bbox.is_empty or min(bbox.width, bbox.height) < STAMP_MIN_SIDE:
            continue
        # The same image at the same place (a logo, a stamp on every page) is judged once.
        key = f"image {tuple(round(v) for v in bbox)} {info.get('width')}x{info.get('height')}"
        if key in seen:
            continue
        seen.add(key)
        large = abs(bbox) / area >= LARGE_IMAGE_SHARE
        stamp = not large and _stamp_like(page, bbox)
        if large or stamp:
            regions.append((bbox, stamp, "image"))
    for bbox in _vector_stamps(page):
        key = f"vector {tuple(round(v) for v in bbox)}"
        if key not in seen:
            seen.add(key)
            regions.append((bbox, True, "drawing"))
    return regions


VECTOR_STAMP_MIN_ITEMS = 12  # glyphs drawn as outlines take many path segments; a red rule or frame few
_MAX_DRAWINGS = 5000  # a map or chart with more paths is not searched for stamps


def _red(color: Any) -> bool:
    if not color or len(color) < 3:
        return False
    r, g, b = color[:3]
    return r > 0.55 and r - g > 0.25 and r - b > 0.25


def _vector_stamps(page: pymupdf.Page) -> list[pymupdf.Rect]:
    """Red vector drawings that group into a stamp-sized region with enough path segments
    to be lettering: an e-seal or a 「機密」 stamp drawn as outlines, neither text nor image.
    Plain tuples, not Rects: this runs on every page with a text layer."""
    drawings = page.get_cdrawings()
    if len(drawings) > _MAX_DRAWINGS:
        return []
    clusters: list[list[float]] = []  # [x0, y0, x1, y1, items]
    for drawing in drawings:
        if not (_red(drawing.get("fill")) or _red(drawing.get("color"))):
            continue
        x0, y0, x1, y1 = drawing["rect"]
        items = len(drawing.get("items") or ())
        for c in clusters:
            if x0 <= c[2] + 12 and x1 >= c[0] - 12 and y0 <= c[3] + 12 and y1 >= c[1] - 12:
                c[0], c[1], c[2], c[3] = min(c[0], x0), min(c[1], y0), max(c[2], x1), max(c[3], y1)
                c[4] += items
                break
        else:
            clusters.append([x0, y0, x1, y1, items])
    found = []
    for x0, y0, x1, y1, items in clusters:
        if items >= VECTOR_STAMP_MIN_ITEMS and min(x1 - x0, y1 - y0) >= STAMP_MIN_SIDE:
            rect = pymupdf.Rect(x0, y0, x1, y1) & page.rect
            if not rect.is_empty:
                found.append(rect)
    return found


def _ocr_image_regions(reader: Reader, page: pymupdf.Page, page_location: str, part: str,
                       seen: set[str] | None) -> None:
    """OCR the image regions `_image_regions` picks on a page that has a text layer: the
    text layer alone would miss what the image says. One segment per region, in the
    header or footer band when the region sits there (a stamp at the top is a banner)."""
    if seen is None:
        seen = set()
    try:
        regions = _image_regions(page, seen)
    except Exception as exc:
        reader.problem(ProblemKind.CORRUPT, page_location, f"page images unreadable: {exc}"[:300])
        return
    height = page.rect.height
    counts: dict[str, int] = {}
    for bbox, stamp, what in regions:
        counts[what] = counts.get(what, 0) + 1
        where = join(page_location, f"{what} {counts[what]}")
        refused = reader.budget.ocr_refusal()
        if refused:
            reader.limit(where, refused, "image on the page not OCR'd: OCR budget spent")
            return
        engine = engine_of(reader)
        before, started = engine.recognised, time.monotonic()
        try:
            # The region at the resolution of the image in it (capped), greyscale: what
            # Tesseract works on anyway. A stamp is scattered large characters: sparse mode.
            # (A stamp is small: rendered at ocr_dpi whatever its image's resolution.)
            dpi = reader.limits.ocr_dpi if stamp else _region_dpi(page, bbox, reader.limits.ocr_dpi)
            pix = page.get_pixmap(clip=bbox, dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
            text = tidy_ocr(engine.text(pixmap_image(pix), dpi=dpi, sparse=stamp, timeout=ocr_seconds_left(reader)))
        except OcrTimeout:
            reader.limit(where, _time_limit(reader), "image on the page not fully OCR'd: OCR time spent")
            return
        except Exception as exc:
            reader.problem(ProblemKind.UNSUPPORTED, where, f"OCR failed: {exc}"[:300])
            continue
        finally:
            charge(reader, engine, before, started)
        centre = (bbox.y0 + bbox.y1) / 2
        kind = "header_band" if centre < height * BAND else "footer_band" if centre > height * (1 - BAND) else "ocr"
        reader.segment(text, where, part, kind)


MIN_OCR_DPI = 150  # below this a scan is rendered up: Tesseract misreads CJK glyphs under ~20 px


def pixmap_image(pix: pymupdf.Pixmap) -> Image.Image:
    """A PyMuPDF pixmap (greyscale or RGB, no alpha) as a Pillow image, for Tesseract."""
    from PIL import Image

    return Image.frombytes("L" if pix.n == 1 else "RGB", (pix.width, pix.height), pix.samples)


def _region_dpi(page: pymupdf.Page, region: pymupdf.Rect, cap: int) -> int:
    """The resolution of the images in `region` (the largest), between MIN_OCR_DPI and `cap`:
    a 150-dpi scan rendered at 200 dpi has 78% more pixels to OCR and no more detail;
    a 300-dpi scan is rendered at `cap` (limits.ocr_dpi), which CJK print does not need more than."""
    own = 0.0
    for info in page.get_image_info():
        bbox = pymupdf.Rect(info["bbox"])
        if not bbox.intersects(region) or bbox.width < 1 or bbox.height < 1:
            continue
        pixels = (info.get("width") or 0) * (info.get("height") or 0)
        own = max(own, 72 * (pixels / (bbox.width * bbox.height)) ** 0.5)  # rotation does not matter
    if not own:
        return cap
    return int(max(MIN_OCR_DPI, min(cap, own)))


def _time_limit(reader: Reader) -> str:
    """The limit that ended an OCR that ran out of time."""
    left = reader.limits.max_ocr_seconds - reader.budget.ocr_seconds
    return "max_seconds" if reader.budget.seconds_left() < left else "max_ocr_seconds"


def _split_lines(lines: list[OcrLine], height: int) -> tuple[str, str, str]:
    """OCR'd lines split into (header band, body, footer band) by where their centre is."""
    header: list[str] = []
    body: list[str] = []
    footer: list[str] = []
    for line in lines:
        centre = (line.y0 + line.y1) / 2
        target = header if centre < height * BAND else footer if centre > height * (1 - BAND) else body
        target.append(line.text)
    return "\n".join(header), "\n".join(body), "\n".join(footer)


def _settling_level(header: str, footer: str, part: str, page_location: str) -> bool:
    """True when the bands carry a top-level marking: nothing else on the page or in the
    document can raise the verdict, so the rest need not be OCR'd (ocr_full_page false)."""
    from dlp_gateway.detect.markings import MarkingDetector
    from dlp_gateway.model import Inspection, Level, Segment

    bands = [Segment(tidy_ocr(header), join(page_location, "header"), part, "header_band"),
             Segment(tidy_ocr(footer), join(page_location, "footer"), part, "footer_band")]
    findings = MarkingDetector().detect(Inspection(segments=[b for b in bands if b.text.strip()]))
    return any(getattr(f, "level", None) == Level.TOP_SECRET for f in findings)


def _ocr_page(reader: Reader, page: pymupdf.Page, page_location: str, part: str,
              settled: list[str]) -> tuple[str, str, str] | None:
    """OCR a page without a usable text layer: (header band, body, footer band).

    With `ocr_full_page` false the bands are read first, and when they carry a top-level
    marking the body is not OCR'd, nor any later page of the document (`settled` holds where
    it was found; each page so skipped is a note, not a problem: it is not unread for lack of
    a reader, the verdict is already the highest)."""
    if settled:
        reader.note(page_location, f"not OCR'd: the top-level marking at {settled[0]} settles the verdict "
                    "(limits.ocr_full_page is false)")
        return None
    refused = reader.budget.ocr_refusal()
    if refused:
        reader.limit(page_location, refused, "page without a text layer not OCR'd: OCR budget spent")
        return None
    engine = engine_of(reader)
    before, started = engine.recognised, time.monotonic()
    try:
        dpi = _region_dpi(page, page.rect, reader.limits.ocr_dpi)
        pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
        image = pixmap_image(pix)
        if not reader.limits.ocr_full_page:
            # Bands a little deeper than BAND: a banner line straddling the edge is read whole.
            depth = int(pix.height * BAND * 1.4)
            header = engine.text(image.crop((0, 0, pix.width, depth)), dpi=dpi, block=True, timeout=ocr_seconds_left(reader))
            footer = engine.text(image.crop((0, pix.height - depth, pix.width, pix.height)), dpi=dpi, block=True,
                                 timeout=ocr_seconds_left(reader))
            if _settling_level(header, footer, part, page_location):
                settled.append(page_location)
                reader.note(page_location, "body not OCR'd: a top-level marking in the header or footer band "
                            "settles the verdict (limits.ocr_full_page is false)")
                return header, "", footer
        lines = engine.lines(image, dpi=dpi, timeout=ocr_seconds_left(reader))
    except OcrTimeout:
        reader.limit(page_location, _time_limit(reader), "page without a text layer not fully OCR'd: OCR time spent")
        return None
    except Exception as exc:
        reader.problem(ProblemKind.UNSUPPORTED, page_location, f"OCR failed: {exc}"[:300])
        return None
    finally:
        charge(reader, engine, before, started)
    return _split_lines(lines, pix.height)


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


_XML_TAG = re.compile(r"<[^>]*>")
_XREF = re.compile(r"(\d+)\s+\d+\s+R")


def _read_xfa(reader: Reader, doc: pymupdf.Document, location: str) -> None:
    """An XFA form (Adobe LiveCycle): its template and filled-in data live in XML streams
    under /AcroForm /XFA, not on the pages, and Adobe Reader shows them as the document.
    Their text (tags dropped, entities decoded) is read as a form segment."""
    import html

    try:
        kind, value = doc.xref_get_key(doc.pdf_catalog(), "AcroForm/XFA")
    except Exception:
        return
    if kind not in ("xref", "array"):
        return
    pieces: list[str] = []
    budget = reader.budget.bytes_allowed()
    for match in _XREF.finditer(value):
        try:
            stream = doc.xref_stream(int(match.group(1))) or b""
        except Exception as exc:
            reader.problem(ProblemKind.CORRUPT, join(location, "XFA form"), f"XFA stream unreadable: {exc}"[:300])
            continue
        budget -= len(stream)
        if budget < 0:
            reader.limit(join(location, "XFA form"), reader.budget.byte_limit_name(), "XFA form too large; not read")
            return
        text = html.unescape(_XML_TAG.sub("\n", stream.decode("utf-8", "replace")))
        pieces.extend(line.strip() for line in text.splitlines() if line.strip())
    reader.segment("\n".join(pieces), join(location, "XFA form"), location, "form")
