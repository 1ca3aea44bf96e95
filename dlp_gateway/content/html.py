"""HTML to text in linear time, leaving no hiding place (issues #12 and #13).

Why lxml (libxml2's HTML parser) and not Python's `html.parser`: the standard parser is
quadratic on hostile input (CVE-2025-6069: 30 KB of `<a ` takes over a minute), and a
single C call cannot be interrupted by the per-message deadline. libxml2 reads the same
input in under a millisecond. selectolax (lexbor) was measured too and rejected: it is
quadratic on deep nesting (100,000 `<div>`: 17 s) and on many attributes (50,000: 4.4 s).
Numbers: bench/html_parser_bench.py.

libxml2 has three shapes it cannot read whole, and each is sent to `_strip_tags`, a
linear regex reader that keeps every character of text, comments and attribute values:
nesting deeper than its limit (it stops reading: the text after would be lost), a
document that is nothing but a comment (no root element), and a tag with thousands of
attributes (its duplicate check is quadratic in their number).

What is read, because a recipient or a reader of the source can see it:
- all text, whatever its style (display:none, font-size 0, white on white are for the eye
  only), including <noscript>, <template>, <script>, inline SVG <text>/<title>/<desc>,
  and comments (Outlook's conditional comments hold real content);
- the text-bearing attributes (`alt`, `title`, `value`, `placeholder`, `aria-label`, ...);
- CSS generated content (`content: "機密"` in a <style> rule or a style attribute), with
  CSS escapes (`\\6a5f`) decoded;
- `data:` URIs in attributes and in CSS `url(...)`: decoded (within the byte limits) and
  read as files through `Reader.read_file`, so an image is OCR'd like an attachment.

Attribute values (tooltips, meta content, `content: attr(...)` values) are put on lines of
their own: glued to the element's text they would hide a banner inside a sentence.

A second reading, the text AS DISPLAYED, is produced when it differs (red-team B15, B16):
hidden elements dropped (`SEC<span style="display:none">x</span>RET` shows SECRET),
`text-transform` applied, and right-to-left overrides (`<bdo dir="rtl">`, U+202E) reversed.
Both readings are inspected: hidden text can carry a banner, and hidden junk can break one.
Only inline styles, the `hidden` attribute and simple <style> rules (tag, .class, #id
selectors) are understood; that covers what mail clients keep of CSS.
"""

from __future__ import annotations

import base64
import binascii
import html as html_lib
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import etree

from dlp_gateway.content.walk import join
from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from collections.abc import Callable

    from dlp_gateway.content.walk import Reader

BLOCK_TAGS = frozenset({
    "p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "title", "td", "th",
    "pre", "blockquote", "section", "article", "header", "footer", "noscript", "template", "text",
    "desc", "option", "textarea",
})
# Attributes whose value a reader may see as text (tooltips, alternative text, form values).
TEXT_ATTRIBUTES = frozenset({
    "alt", "title", "value", "placeholder", "aria-label", "aria-description", "aria-roledescription",
    "aria-valuetext", "label", "summary", "abbr", "data-tooltip", "data-title",
})
_TECHNICAL_META = frozenset({
    "generator", "viewport", "format-detection", "color-scheme", "supported-color-schemes", "progid",
    "originator", "x-apple-disable-message-reformatting", "robots", "referrer", "theme-color",
})
# A tag with more whitespace-separated tokens than this goes to the linear reader:
# libxml2 checks each attribute against all earlier ones (5,000 attributes: 40 ms; 50,000: 3 s).
MAX_ATTRIBUTE_TOKENS = 2000
_CHECK_EVERY = 2000  # tree events between two looks at the deadline

_BLANKS = re.compile(r"[ \t\r\f\v]+")
# A tag long enough to hold MAX_ATTRIBUTE_TOKENS attributes (found by the regex engine, in C).
_LONG_TAG = re.compile(rf"<[^<>]{{{4 * MAX_ATTRIBUTE_TOKENS},}}")
# CSS: `content:` followed by one or more strings (other values such as counters are not text).
_CSS_CONTENT = re.compile(r"""content\s*:\s*((?:(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*)+)""", re.I | re.S)
_CSS_STRING = re.compile(r""""((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'""", re.S)
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})[ \t\r\n\f]?|\\(.)", re.S)
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.S)
_CSS_COMMENT_TEXT = re.compile(r"/\*(.*?)(?:\*/|\Z)", re.S)
_CSS_DATA_URL = re.compile(r"""url\(\s*["']?\s*(data:[^"')]*)""", re.I)
_DATA_URI = re.compile(r"\s*data:([^,]*),(.*)", re.I | re.S)
# The linear fallback reader: comments, tags, and the attribute values inside a tag.
_FALLBACK_TOKEN = re.compile(r"<!--(.*?)(?:-->|\Z)|<([^<>]*)>?", re.S)
# Starts only where a name can start (after a blank, a quote or /), so a long run of name
# characters is scanned once: linear.
_FALLBACK_ATTRIBUTE = re.compile(
    r"""(?<![^\s"'/])([^\s=<>"'/]+)(?:\s*=\s*(?:"([^"]*)"?|'([^']*)'?|([^\s"'=<>`]+)))?""")
_FALLBACK_NAME = re.compile(r"/?\s*([A-Za-z][A-Za-z0-9:-]*)")
# For the displayed reading: CSS rules, declarations, and what hides or transforms text.
# (Rules and declarations are split with str methods, not regexes: linear on hostile CSS.)
_CSS_ATTR = re.compile(r"content\s*:[^;}]{0,200}?attr\(\s*([A-Za-z_:][-A-Za-z0-9_:.]{0,100})\s*\)", re.I)
_SIMPLE_SELECTOR = re.compile(r"([A-Za-z][A-Za-z0-9-]*|\*)?(?:([.#])([-A-Za-z0-9_]+))?")
_ZERO_SIZE = re.compile(r"0*\.?0*(?:px|pt|em|rem|%|ex|ch|vw|vh)?(?:\s*!important)?")
# Elements a mail client does not render as text (noscript is rendered: mail runs no scripts).
_NOT_RENDERED = frozenset({"script", "style", "template", "head", "title", "meta", "link"})
_RLO_RUN = re.compile("[\u202e\u202d]([^\u202c\n]*)\u202c?")


@dataclass(slots=True)
class DataUri:
    """One `data:` URI found in the document: where it was and what it declares."""

    where: str  # e.g. "img src", "style url()"
    media_type: str | None
    payload: str  # still encoded
    base64: bool


@dataclass(slots=True)
class HtmlContent:
    """What an HTML document holds for inspection."""

    text: str
    data_uris: list[DataUri] = field(default_factory=list)
    fallback: str | None = None  # why the linear reader was used instead of libxml2, or None
    stopped: bool = False  # the deadline stopped the walk: `text` is what was read before
    displayed: str | None = None  # the text as a browser shows it, when it differs from `text`


def _css_unescape(value: str) -> str:
    def one(match: re.Match[str]) -> str:
        if match.group(1):
            code = int(match.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
        return match.group(2) if match.group(2) not in ("\n", "\r", "\f") else ""

    return _CSS_ESCAPE.sub(one, value)


def css_text(css: str) -> list[str]:
    """The strings of every `content:` declaration (CSS generated content a browser shows),
    then the text of CSS comments (a reader of the source sees them, as HTML comments)."""
    comments = [m.group(1).strip() for m in _CSS_COMMENT_TEXT.finditer(css) if m.group(1).strip()]
    css = _CSS_COMMENT.sub(" ", css)
    found = []
    for declaration in _CSS_CONTENT.finditer(css):
        pieces = [_css_unescape(m.group(1) if m.group(1) is not None else m.group(2))
                  for m in _CSS_STRING.finditer(declaration.group(1))]
        text = "".join(pieces).strip()
        if text:
            found.append(text)
    return found + comments


def _data_uri(value: str, where: str) -> DataUri | None:
    match = _DATA_URI.match(value)
    if match is None:
        return None
    params = [p.strip() for p in match.group(1).split(";")]
    is_base64 = any(p.lower() == "base64" for p in params[1:])
    media_type = params[0].lower() or None if params else None
    return DataUri(where, media_type, match.group(2), is_base64)


def css_data_uris(css: str, where: str) -> list[DataUri]:
    found = []
    for match in _CSS_DATA_URL.finditer(css):
        uri = _data_uri(match.group(1), where)
        if uri is not None:
            found.append(uri)
    return found


def decode_data_uri(uri: DataUri, max_bytes: int) -> bytes | None:
    """The decoded bytes, or None when they would exceed `max_bytes` (checked before decoding)."""
    if uri.base64:
        payload = re.sub(r"[^A-Za-z0-9+/=_-]", "", uri.payload)
        if len(payload) * 3 // 4 > max_bytes:
            return None
        payload = payload.rstrip("=")
        payload += "=" * (-len(payload) % 4)
        try:
            return base64.b64decode(payload.replace("-", "+").replace("_", "/"))
        except (binascii.Error, ValueError):
            return base64.b64decode(payload[: len(payload) // 4 * 4] or "", validate=False)
    if len(uri.payload) > max_bytes * 3 + 3:  # %XX: at most three characters per byte
        return None
    data = urllib.parse.unquote_to_bytes(uri.payload)
    return data if len(data) <= max_bytes else None


def _named_meta(attrib: dict[str, str]) -> bool:
    """A <meta name=...> (description, keywords, any made-up name) holds text; the
    http-equiv ones and the technical names do not."""
    name = (attrib.get("name") or attrib.get("property") or "").strip().lower()
    return bool(name) and name not in _TECHNICAL_META


def _attribute_text(chunks: list[str], uris: list[DataUri], tag: str, attrib: dict[str, str]) -> None:
    for name, value in attrib.items():
        if not value:
            continue
        name = name.lower()
        if name in TEXT_ATTRIBUTES or (name == "content" and tag == "meta" and _named_meta(attrib)):
            chunks.append(f"\n{value}\n")
        elif name == "style":
            chunks.extend(f" {text} " for text in css_text(value))
            uris.extend(css_data_uris(value, f"{tag} style url()"))
        elif name == "srcdoc":  # an <iframe>'s whole document, shown in place
            inner = _strip_tags(value)
            chunks.append(f"\n{inner.text}\n")
            uris.extend(inner.data_uris)
        if value.lstrip()[:5].lower() == "data:":
            uri = _data_uri(value, f"{tag} {name}")
            if uri is not None:
                uris.append(uri)
        elif name == "srcset" and "data:" in value:
            for candidate in value.split(","):
                uri = _data_uri(candidate.strip().split(" ")[0], f"{tag} srcset")
                if uri is not None:
                    uris.append(uri)


def _too_many_attributes(html: str) -> bool:
    return any(len(match.group().split()) > MAX_ATTRIBUTE_TOKENS for match in _LONG_TAG.finditer(html))


def _layout(chunks: list[str]) -> str:
    # Collapse white space as a browser does: ASCII blanks only. &nbsp; and the ideographic
    # space are kept, since they lay out a letter's top line (「外交部&nbsp;&nbsp;&nbsp;機密」).
    lines = (_BLANKS.sub(" ", line).strip(" \t\r\f\v") for line in "".join(chunks).splitlines())
    return "\n".join(line for line in lines if line.strip())


@dataclass(slots=True, frozen=True)
class _Shown:
    """How an element's own text is displayed: hidden, case transform, right-to-left override."""

    hidden: bool = False
    transform: str | None = None  # "uppercase" or "lowercase"
    rtl: bool = False


def _declarations(css: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for declaration in css.split(";"):
        name, colon, value = declaration.partition(":")
        if colon and name.strip():
            found[name.strip().lower()] = value.strip().lower()
    return found


@dataclass(slots=True)
class _StyleSheet:
    """The simple rules of the document's <style> elements (tag, .class, #id, tag.class;
    no combinators or pseudo-classes: applying those wrongly would distort the reading),
    and the attribute names that `content: attr(...)` shows."""

    rules: dict[tuple[str | None, str | None, str | None], dict[str, str]] = field(default_factory=dict)
    shown_attributes: set[str] = field(default_factory=set)

    def add(self, css: str) -> None:
        css = _CSS_COMMENT.sub(" ", css)
        if "attr(" in css:
            self.shown_attributes.update(m.group(1).lower() for m in _CSS_ATTR.finditer(css))
        for rule in css.split("}"):
            selectors, brace, body = rule.rpartition("{")
            if not brace:
                continue
            declarations = _declarations(body)
            for selector in selectors.rsplit("}", 1)[-1].split(","):
                match = _SIMPLE_SELECTOR.fullmatch(selector.strip())
                if match is None or not any(match.groups()):
                    continue
                tag = match.group(1).lower() if match.group(1) and match.group(1) != "*" else None
                key = (tag, match.group(2), match.group(3))
                self.rules.setdefault(key, {}).update(declarations)

    def declarations(self, tag: str, attrib: dict[str, str]) -> dict[str, str]:
        if not self.rules:
            return {}
        keys: list[tuple[str | None, str | None, str | None]] = [(None, None, None), (tag, None, None)]
        for name in (attrib.get("class") or "").split():
            keys += [(None, ".", name), (tag, ".", name)]
        if attrib.get("id"):
            keys += [(None, "#", attrib["id"]), (tag, "#", attrib["id"])]
        merged: dict[str, str] = {}
        for key in keys:
            merged.update(self.rules.get(key, {}))
        return merged


_STYLING_ATTRIBUTES = frozenset({"style", "class", "id", "hidden", "dir"})
_DISPLAY_PROPERTIES = frozenset({
    "display", "visibility", "font-size", "opacity", "text-transform", "font-variant", "font-variant-caps",
    "direction", "unicode-bidi", "mso-hide", "color", "overflow", "width", "height", "max-width", "max-height",
    "position", "left", "top", "right", "text-indent"})
_BOX_SIZES = ("width", "height", "max-width", "max-height")
TINY_FONT_PX = 2.0  # text set smaller than this (in px or pt) cannot be read on screen
OFF_SCREEN_PX = 1000.0  # an element moved this far left/up is off every screen
_LENGTH = re.compile(r"(-?\d*\.?\d+)\s*(px|pt|em|rem|%|ex|ch|vw|vh)?")
_TRANSPARENT = re.compile(r"rgba\(\s*[\d.%]+\s*,\s*[\d.%]+\s*,\s*[\d.%]+\s*,\s*0*\.?0*\s*\)|#[0-9a-f]{6}00|#[0-9a-f]{3}0")


def _length(value: str) -> float | None:
    """A CSS length in px (pt counted as px, em as 16 px), or None when it is not one."""
    match = _LENGTH.fullmatch(value.strip())
    if match is None:
        return None
    number, unit = float(match.group(1)), (match.group(2) or "px")
    return number * 16 if unit in ("em", "rem") else number if unit in ("px", "pt") else None if number else 0.0


def _tiny(value: str, limit: float) -> bool:
    size = _length(value) if value else None
    return size is not None and 0 <= size < limit


def _off_screen(value: str) -> bool:
    size = _length(value) if value else None
    return size is not None and size <= -OFF_SCREEN_PX


def _shown(parent: _Shown, tag: str, attrib: dict[str, str], sheet: _StyleSheet) -> _Shown:
    if (tag not in _NOT_RENDERED and tag != "bdo" and not _STYLING_ATTRIBUTES.intersection(attrib)
            and (None, None, None) not in sheet.rules and (tag, None, None) not in sheet.rules):
        return parent  # nothing on this element can change how its text is shown
    declarations = sheet.declarations(tag, attrib)
    if attrib.get("style"):
        declarations.update(_declarations(_CSS_COMMENT.sub(" ", attrib["style"])))

    relevant = {k: v.replace("!important", "").strip() for k, v in declarations.items() if k in _DISPLAY_PROPERTIES}

    def value(name: str) -> str:
        return relevant.get(name, "")

    hidden = (parent.hidden or tag in _NOT_RENDERED or "hidden" in attrib
              or value("display") == "none" or value("visibility") in ("hidden", "collapse")
              or value("mso-hide") == "all" or _tiny(value("font-size"), TINY_FONT_PX)
              or (bool(value("opacity")) and _ZERO_SIZE.fullmatch(value("opacity")) is not None)
              or value("color") == "transparent" or _TRANSPARENT.fullmatch(value("color")) is not None
              or (value("overflow") == "hidden" and any(_tiny(value(name), 1.0) for name in _BOX_SIZES))
              or (value("position") in ("absolute", "fixed")
                  and any(_off_screen(value(name)) for name in ("left", "top", "right", "text-indent")))
              or _off_screen(value("text-indent")))
    transform = parent.transform
    if value("text-transform") in ("uppercase", "lowercase"):
        transform = value("text-transform")
    elif value("text-transform") == "none":
        transform = None
    elif value("font-variant") in ("small-caps", "all-small-caps") or value("font-variant-caps") in (
            "small-caps", "all-small-caps"):
        transform = "uppercase"  # small capitals read as capitals
    rtl = parent.rtl
    direction = (attrib.get("dir") or value("direction")).strip().lower()
    if tag == "bdo" or value("unicode-bidi") == "bidi-override":
        rtl = direction == "rtl" if direction in ("rtl", "ltr") else rtl
    return _Shown(hidden, transform, rtl)


def _transformed(text: str, shown: _Shown) -> str:
    if shown.transform == "uppercase":
        return text.upper()
    if shown.transform == "lowercase":
        return text.lower()
    return text


def _displayed_layout(chunks: list[str]) -> str:
    """Lay out the displayed reading, reversing each right-to-left override run
    (a <bdo dir=rtl> or U+202E ... U+202C): `NROFON//TERCES` is shown SECRET//NOFORN."""
    text = _layout(chunks)
    if "\u202e" in text or "\u202d" in text:
        text = _RLO_RUN.sub(lambda m: m.group(1)[::-1] if m.group(0)[0] == "\u202e" else m.group(1), text)
    return text


def _strip_tags(html: str, out_of_time: Callable[[], bool] | None = None) -> HtmlContent:
    """Linear reader for what libxml2 cannot read whole: text, comments, the same attributes
    as the parser path. About 1 s per 300,000 tags; it looks at the deadline as it goes."""
    chunks: list[str] = []
    uris: list[DataUri] = []
    position = 0
    unescape = html_lib.unescape
    for count, match in enumerate(_FALLBACK_TOKEN.finditer(html)):
        if out_of_time is not None and count % (5 * _CHECK_EVERY) == 0 and count and out_of_time():
            return HtmlContent(_layout(chunks), uris, stopped=True)
        start = match.start()
        if start > position:
            text = html[position:start]
            chunks.append(unescape(text) if "&" in text else text)
        position = match.end()
        comment, tag = match.groups()
        if comment is not None:
            chunks.append(f"\n{comment}\n")
            continue
        name_match = _FALLBACK_NAME.match(tag)
        if name_match is None:
            continue
        name = name_match.group(1).lower()
        if name in BLOCK_TAGS:
            chunks.append("\n")
        if "=" in tag and not tag.startswith("/"):  # an attribute without a value holds no text
            attributes: dict[str, str] = {}
            for attribute in _FALLBACK_ATTRIBUTE.finditer(tag, name_match.end()):
                value = next((v for v in attribute.groups()[1:] if v is not None), "")
                attributes.setdefault(attribute.group(1).lower(), unescape(value))
            _attribute_text(chunks, uris, name, attributes)
    text = html[position:]
    chunks.append(unescape(text) if "&" in text else text)
    return HtmlContent(_layout(chunks), uris)


def read_html_text(html: str, out_of_time: Callable[[], bool] | None = None) -> HtmlContent:
    """Everything an HTML document holds as text, and its `data:` URIs (see the module doc)."""
    if _too_many_attributes(html):
        content = _strip_tags(html, out_of_time)
        content.fallback = f"a tag with more than {MAX_ATTRIBUTE_TOKENS} attributes"
        return content
    parser = etree.HTMLParser(recover=True, no_network=True, remove_comments=False, remove_pis=False,
                              remove_blank_text=False, huge_tree=True, encoding="utf-8")
    try:
        root = etree.fromstring(html.encode("utf-8", "surrogatepass"), parser)
    except (etree.Error, ValueError):
        root = None
    if root is None:
        if not html.strip():
            return HtmlContent("")
        content = _strip_tags(html, out_of_time)
        content.fallback = "no element the HTML parser could read (only a comment or a fragment)"
        return content
    fatal = [e for e in parser.error_log if e.level == etree.ErrorLevels.FATAL]
    if fatal:
        content = _strip_tags(html, out_of_time)
        content.fallback = f"the HTML parser stopped early ({fatal[0].message.strip()})"[:300]
        return content

    chunks: list[str] = []
    shown: list[str] = []  # the displayed reading (see the module doc)
    uris: list[DataUri] = []
    stopped = False
    sheet = _StyleSheet()
    for style in root.iter("style"):
        if style.text:
            sheet.add(style.text)
    states = [_Shown()]
    for count, (event, element) in enumerate(etree.iterwalk(root, events=("start", "end", "comment", "pi"))):
        if out_of_time is not None and count % _CHECK_EVERY == 0 and count and out_of_time():
            stopped = True
            break
        tag = element.tag
        if not isinstance(tag, str):  # a comment (or a processing instruction read as one)
            if element.text and "<" in element.text:
                # Markup in a comment (Outlook's <!--[if mso]>...<![endif]-->) is read as
                # HTML, by the linear reader: a comment cannot nest the parser into itself.
                inner = _strip_tags(element.text, out_of_time)
                chunks.append(f"\n{inner.text}\n")
                uris.extend(inner.data_uris)
            elif element.text:
                chunks.append(f"\n{element.text}\n")
            if element.tail:
                chunks.append(element.tail)
                if not states[-1].hidden:
                    shown.append(_transformed(element.tail, states[-1]))
            continue
        tag = tag.rsplit("}", 1)[-1].lower()
        if event == "start":
            attrib = dict(element.attrib)
            state = _shown(states[-1], tag, attrib, sheet)
            if tag in BLOCK_TAGS:
                chunks.append("\n")
                shown.append("\n")
            if state.rtl and not states[-1].rtl:
                shown.append("\u202e")
            states.append(state)
            _attribute_text(chunks, uris, tag, attrib)
            for name in sheet.shown_attributes:
                if attrib.get(name):  # CSS `content: attr(name)` shows the value in place
                    chunks.append(f"\n{attrib[name]}\n")
                    if not state.hidden:
                        shown.append(_transformed(attrib[name], state))
            if element.text:
                if tag == "style":  # no prose, but generated content and url(data:)
                    chunks.extend(f"\n{text}\n" for text in css_text(element.text))
                    uris.extend(css_data_uris(element.text, "style url()"))
                else:
                    chunks.append(element.text)
                    if not state.hidden:
                        shown.append(_transformed(element.text, state))
        else:
            state = states.pop() if len(states) > 1 else states[0]
            if state.rtl and not states[-1].rtl:
                shown.append("\u202c")
            if tag in BLOCK_TAGS:
                chunks.append("\n")
                shown.append("\n")
            elif tag == "td":
                chunks.append("\t")
                shown.append("\t")
            if element.tail:
                chunks.append(element.tail)
                if not states[-1].hidden:
                    shown.append(_transformed(element.tail, states[-1]))
    text = _layout(chunks)
    displayed = _displayed_layout(shown)
    return HtmlContent(text, uris, stopped=stopped, displayed=displayed if displayed != text else None)


def html_to_text(html: str) -> str:
    """All text of an HTML document with entities decoded, hidden text included."""
    return read_html_text(html).text


_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)


def read_html(reader: Reader, data: bytes, location: str, depth: int, *,
              charset: str | None = None, text_kind: str = "body",
              decode: Callable[[Reader, bytes, str, str | None], str]) -> None:
    """Read an HTML part: its text, then each `data:` URI as a file of its own."""
    if not charset:
        meta = _META_CHARSET.search(data[:4096])
        charset = meta.group(1).decode("ascii") if meta else None
    content = read_html_text(decode(reader, data, location, charset), lambda: reader.timed_out(location))
    if content.fallback:
        reader.note(location, f"HTML read with tags removed: {content.fallback}")
    reader.segment(content.text, location, location, text_kind)
    if content.displayed:  # only its lines that the full reading does not already hold
        known = set(content.text.splitlines())
        changed = [line for line in content.displayed.splitlines() if line not in known]
        reader.segment("\n".join(changed), join(location, "as displayed"), location, text_kind)
    if content.stopped:
        return  # timed_out() has recorded the problem
    seen: set[tuple[str | None, str]] = set()
    for number, uri in enumerate(content.data_uris, 1):
        if (uri.media_type, uri.payload) in seen:
            continue  # the same spacer or icon in every cell is one file, not hundreds of members
        seen.add((uri.media_type, uri.payload))
        where = join(location, f"data: URI {number} ({uri.where})")
        if reader.timed_out(where) or reader.members_exhausted(where):
            return
        allowed = reader.budget.bytes_allowed()
        try:
            payload = decode_data_uri(uri, allowed)
        except (binascii.Error, ValueError) as exc:
            reader.problem(ProblemKind.CORRUPT, where, f"data: URI not decodable: {exc}"[:300])
            continue
        if payload is None:
            reader.limit(where, reader.budget.byte_limit_name(),
                         f"data: URI larger than the {allowed} bytes left; not read")
            continue
        reader.read_file(payload, where, filename=None, declared_type=uri.media_type, depth=depth + 1)
