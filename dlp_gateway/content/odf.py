"""ODF (OpenDocument) text, spreadsheet and presentation, read from their XML parts.

Government editable documents are ODF (CNS 15251), so headers and footers of every kind
(in the master pages of styles.xml: default, first page, left pages), the rest of each
master page (a presentation's master draws its frames on every slide), text boxes in
frames, footnotes and endnotes (their own segment, so a note's text is not glued to the
line that cites it), annotations, every sheet's cells, slides with their notes, embedded
objects (`Object 1/content.xml`: charts, formulas, embedded documents; a binary `Object 2`
is an OLE object read as a file) and the metadata are all read. Pictures go back through
`Reader.read_file` for OCR.

Locations: `a.odt › body|header|footer|notes|comments|properties`, `a.ods › sheet <name>`,
`a.odp › slide N`, `… › slide N › notes`, `a.odp › master page <name>`,
`a.odt › Object 1 › body|…`, `a.odt › Object 2 › …`.
"""

from __future__ import annotations

import zipfile
from typing import TYPE_CHECKING

from lxml import etree

from dlp_gateway.content.archives import open_container, read_package_member
from dlp_gateway.content.office import read_glued_packages
from dlp_gateway.content.walk import join
from dlp_gateway.content.xmldoc import local, parse
from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader

_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


_STYLE_NS = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
_FO_NS = "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
_STYLE_NAME = f"{{{_TEXT_NS}}}style-name"


def text_styles(root: etree._Element) -> dict[str, tuple[bool, bool]]:
    """{style name: (shown in capitals, hidden)} of the styles declared in this part
    (automatic styles, where an editor puts direct formatting, and named ones):
    `fo:text-transform="uppercase"` or `fo:font-variant="small-caps"`, `text:display="none"`,
    inherited through `style:parent-style-name`."""
    own: dict[str, tuple[bool | None, bool | None]] = {}
    parents: dict[str, str] = {}
    for style in root.iter(f"{{{_STYLE_NS}}}style"):
        name = style.get(f"{{{_STYLE_NS}}}name")
        if not name:
            continue
        parents[name] = style.get(f"{{{_STYLE_NS}}}parent-style-name") or ""
        caps: bool | None = None
        hidden: bool | None = None
        for props in style.iter(f"{{{_STYLE_NS}}}text-properties"):
            transform = props.get(f"{{{_FO_NS}}}text-transform")
            if transform:
                caps = transform == "uppercase"
            if props.get(f"{{{_FO_NS}}}font-variant") == "small-caps":
                caps = True
            display = props.get(f"{{{_TEXT_NS}}}display")
            if display:
                hidden = display == "none"
        own[name] = (caps, hidden)
    resolved: dict[str, tuple[bool, bool]] = {}
    for name in own:
        values: list[bool | None] = [None, None]
        current, steps = name, 0
        while current in own and steps < 20 and None in values:
            for i in (0, 1):
                if values[i] is None:
                    values[i] = own[current][i]
            current, steps = parents.get(current, ""), steps + 1
        if values[0] or values[1]:
            resolved[name] = (bool(values[0]), bool(values[1]))
    return resolved


def odf_text(element: etree._Element, styles: dict[str, tuple[bool, bool]],
             skip: frozenset[str] = frozenset({"annotation", "notes", "note"})) -> str:
    """The text under an ODF element: paragraphs and headings end lines, `text:s` is
    spaces, `text:tab` a tab, a text box starts a line; elements named in `skip` are left out.

    Text is given as displayed (red-team B16): a span or paragraph whose style shows
    capitals is upper-cased. Hidden text (`text:display="none"`) is read, and a paragraph
    holding some is read a second time without it, as displayed (B15). `styles` are the
    part's `text_styles`, worked out once per part by the caller."""
    out: list[str] = []
    shown: list[str] = []
    opened: list[list[int]] = []  # each open paragraph: its start in `out`, in `shown`, hidden seen

    def add(text: str, caps: bool, hidden: bool) -> None:
        text = text.upper() if caps else text
        out.append(text)
        if not hidden:
            shown.append(text)
        elif text.strip():
            for paragraph in opened:
                paragraph[2] = 1

    def walk(node: etree._Element, caps: bool, hidden: bool) -> None:
        name = local(node.tag)
        if name in skip:
            return
        style = styles.get(node.get(_STYLE_NAME, "")) if styles else None
        if style is not None:
            caps, hidden = caps or style[0], hidden or style[1]
        if name in ("p", "h"):
            opened.append([len(out), len(shown), 0])
        if name == "s":
            add(" " * int(node.get(f"{{{_TEXT_NS}}}c", "1") or 1), caps, hidden)
        elif name == "tab":
            add("\t", caps, hidden)
        elif name in ("line-break", "text-box", "title", "desc"):
            add("\n", caps, False)  # a text box or a frame's title/description is lines of its own
        if node.text and name:
            add(node.text, caps, hidden)
        for child in node:
            walk(child, caps, hidden)
            if child.tail:
                add(child.tail, caps, hidden)
        if name in ("p", "h") and opened:
            out_start, shown_start, hidden_seen = opened.pop()
            displayed = "".join(shown[shown_start:])
            if hidden_seen and displayed.strip() and displayed != "".join(out[out_start:]):
                out.append(f"\n{displayed}\n")
        if name in ("p", "h", "title", "desc"):
            add("\n", caps, False)

    walk(element, False, False)
    lines = (line.strip() for line in "".join(out).splitlines())
    return "\n".join(line for line in lines if line)


def read_odf(reader: Reader, data: bytes, location: str, depth: int, **_: object) -> None:
    if read_glued_packages(reader, data, location, depth):  # a ZIP appended (red-team B28)
        return
    zf = open_container(reader, data, location, "OpenDocument file")
    if zf is None:
        return
    with zf:
        names = zf.namelist()
        try:
            manifest = zf.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in names else b""
        except Exception:
            manifest = b""
        if b"encryption-data" in manifest:
            reader.problem(ProblemKind.ENCRYPTED, location, "password-protected OpenDocument file; not readable")
            return
        _read_parts(reader, zf, names, "", location)
        # Embedded objects: a sub-document in its own folder, or an OLE object as a file.
        folders = sorted({n.split("/", 1)[0] for n in names if n.startswith("Object ") and "/" in n})
        for folder in folders:
            if not reader.timed_out(location):
                _read_parts(reader, zf, names, folder + "/", join(location, folder))
        for name in names:
            if name.startswith("Object ") and "/" not in name and not reader.timed_out(location):
                read_package_member(reader, zf, name, location, depth)
        for name in names:
            if name.startswith("Pictures/") and not name.endswith("/") and not reader.timed_out(location):
                read_package_member(reader, zf, name, location, depth)


def _read_parts(reader: Reader, zf: zipfile.ZipFile, names: list[str], prefix: str, location: str) -> None:
    """content.xml, styles.xml and meta.xml of the document (or of an embedded object under `prefix`)."""
    for part, step in (("content.xml", _read_content), ("styles.xml", _read_styles), ("meta.xml", _read_meta)):
        if prefix + part not in names:
            continue
        try:
            step(reader, parse(zf.read(prefix + part)), location)
        except Exception as exc:  # a damaged part costs that part, not the document
            reader.problem(ProblemKind.CORRUPT, join(location, part), f"damaged part: {type(exc).__name__}: {exc}"[:300])


def _read_content(reader: Reader, root: etree._Element, location: str) -> None:
    body = next((e for e in root.iter() if local(e.tag) == "body"), None)
    if body is None:
        return
    styles = text_styles(root)
    comments = [odf_text(e, styles, frozenset()) for e in body.iter() if local(e.tag) == "annotation"]
    reader.segment("\n".join(comments), join(location, "comments"), location, "comment")
    notes = [odf_text(e, styles, frozenset({"note-citation", "annotation"})) for e in body.iter() if local(e.tag) == "note"]
    reader.segment("\n".join(notes), join(location, "notes"), location, "note")
    for kind in body:
        name = local(kind.tag)
        if name == "text":
            reader.segment(odf_text(kind, styles), join(location, "body"), location, "body")
        elif name == "spreadsheet":
            for table in kind.iter():
                if local(table.tag) == "table":
                    title = next((v for k, v in table.attrib.items() if local(k) == "name"), "")
                    rows = []
                    for row in table.iter():
                        if local(row.tag) == "table-row":
                            cells = [odf_text(c, styles) for c in row if local(c.tag) == "table-cell"]
                            if any(cells):
                                rows.append("\t".join(c for c in cells if c))
                    reader.segment("\n".join(rows), join(location, f"sheet {title}"), location, "cell")
        elif name == "presentation":
            # Slide header/footer/date texts are declared once and shown on the slides using them.
            declared: dict[str, list[str]] = {"header": [], "footer": []}
            for decl in kind:
                band = {"header-decl": "header", "footer-decl": "footer", "date-time-decl": "footer"}.get(local(decl.tag))
                if band:
                    declared[band].append(odf_text(decl, styles))
            reader.segment("\n".join(t for t in declared["header"] if t), join(location, "header"), location, "header_band")
            reader.segment("\n".join(t for t in declared["footer"] if t), join(location, "footer"), location, "footer_band")
            number = 0
            for page in kind:
                if local(page.tag) != "page":
                    continue
                number += 1
                where = join(location, f"slide {number}")
                reader.segment(odf_text(page, styles), where, location, "page")
                for notes in page:
                    if local(notes.tag) == "notes":
                        reader.segment(odf_text(notes, styles, frozenset()), join(where, "notes"), location, "note")
        else:
            reader.segment(odf_text(kind, styles), join(location, "body"), location, "body")


def _read_styles(reader: Reader, root: etree._Element, location: str) -> None:
    styles = text_styles(root)
    headers: list[str] = []
    footers: list[str] = []
    for element in root.iter():
        name = local(element.tag)
        if name.startswith("header") and name in ("header", "header-left", "header-first"):
            headers.append(odf_text(element, styles))
        elif name in ("footer", "footer-left", "footer-first"):
            footers.append(odf_text(element, styles))
    reader.segment("\n".join(dict.fromkeys(h for h in headers if h)), join(location, "header"), location, "header_band")
    reader.segment("\n".join(dict.fromkeys(f for f in footers if f)), join(location, "footer"), location, "footer_band")
    # The rest of each master page: frames and shapes a presentation draws on every slide.
    bands = frozenset({"header", "header-left", "header-first", "footer", "footer-left", "footer-first"})
    for master in root.iter():
        if local(master.tag) == "master-page":
            title = next((v for k, v in master.attrib.items() if local(k) == "name"), "")
            reader.segment(odf_text(master, styles, bands), join(location, f"master page {title}"), location, "page")


def _read_meta(reader: Reader, root: etree._Element, location: str) -> None:
    lines = []
    for element in root.iter():
        name = local(element.tag)
        text = "".join(element.itertext()).strip()
        if not text:
            continue
        if name in ("title", "subject", "description", "keyword", "creator", "initial-creator"):
            lines.append(f"{name}: {text}")
        elif name == "user-defined":
            key = next((v for k, v in element.attrib.items() if local(k) == "name"), "")
            lines.append(f"{key}: {text}")
    reader.segment("\n".join(lines), join(location, "properties"), location, "metadata")
