"""OOXML: DOCX, XLSX, PPTX, read from their XML parts with the safe parser.

Reading the parts directly (rather than through python-docx & co.) reaches everything a
leak can hide in: headers and footers of every kind and section, comments, footnotes and
endnotes, tracked deletions, text boxes (VML and DrawingML, both branches of
`mc:AlternateContent`), `altChunk` imports (an HTML, RTF or DOCX file Word shows inline),
the glossary, every sheet's cells, print headers and footers, spreadsheet drawings, chart
titles and labels, SmartArt, slides and their notes, slide masters and layouts, document
properties, and `docProps/custom.xml`, where Microsoft Purview writes sensitivity labels
(`MSIP_Label_<GUID>_Name`, `_Enabled`, ...). Those become
`Fact("office.sensitivity_label", <name>)` plus `office.sensitivity_label.<property>` facts.
Images, embedded objects and altChunk imports go back through `Reader.read_file` (images
are OCR'd; an OLE `oleObject1.bin` is unpacked by the legacy reader).

Locations: `b.docx › body|header|footer|comments|notes|glossary|properties`,
`b.docx › afchunk.htm` (an altChunk), `b.xlsx › sheet <name>|comments|properties`,
`b.pptx › slide N`, `… › slide N › notes`, `b.pptx › slide master N|slide layout N`,
`… › drawing N|chart N|diagram N`, any other XML part by its name (`b.docx › word/x.xml`).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Container
from typing import TYPE_CHECKING

from lxml import etree

from dlp_gateway.content.archives import open_container, read_package_member
from dlp_gateway.content.walk import join
from dlp_gateway.content.xmldoc import local, parse
from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader

_MSIP = re.compile(r"^MSIP_Label_([0-9A-Fa-f-]{36})_(\w+)$")
_LABELISH = re.compile(r"classif|sensitiv|secrecy|marking|label|密", re.I)
_NUMBER = re.compile(r"(\d+)")
_MEDIA = re.compile(r"^(word|xl|ppt)/(media|embeddings)/[^/]+$")
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _numeric(name: str) -> tuple[int, str]:
    match = _NUMBER.search(posixpath.basename(name))
    return (int(match.group(1)) if match else 0, name)


_FIELD_STRING = re.compile(r'"([^"]+)"')
_OFF = frozenset({"0", "false", "off", "none"})


def _val(element: etree._Element, name: str = "val") -> str | None:
    """An attribute by local name, whatever its namespace (w:val, val)."""
    for key, value in element.attrib.items():
        if local(key) == name:
            return value
    return None


def _switched_on(element: etree._Element) -> bool:
    value = _val(element)
    return value is None or value.lower() not in _OFF


def caps_styles(styles_xml: bytes) -> frozenset[str]:
    """The ids of Word styles that show their text in capitals (`w:caps`/`w:smallCaps` in
    the style's run properties, or in a style it is based on)."""
    root = parse(styles_xml)
    capital: dict[str, bool] = {}
    based: dict[str, str] = {}
    # Only the `style` elements (a styles part has some 20,000 elements, mostly latent
    # styles): lxml's `{*}` selects the local name in any namespace, in C.
    for style in root.iter("{*}style"):
        if not _val(style, "styleId"):
            continue
        sid = _val(style, "styleId") or ""
        for child in style.iter("{*}basedOn", "{*}caps", "{*}smallCaps"):
            name = local(child.tag)
            if name == "basedOn" and _val(child):
                based[sid] = _val(child) or ""
            elif name in ("caps", "smallCaps"):
                capital[sid] = _switched_on(child)
    found = set()
    for sid in {*capital, *based}:
        current, steps = sid, 0
        while current and current not in capital and steps < 20:
            current, steps = based.get(current, ""), steps + 1
        if capital.get(current):
            found.add(sid)
    return frozenset(found)


def xml_text(data: bytes, cached_values: bool = False, capital_styles: Container[str] = frozenset()) -> str:
    """The text of a WordprocessingML/DrawingML part, one line per paragraph.

    `t` (text), `delText` (tracked deletion) are text; `tab`/`br`/`cr` are white space;
    the end of a `p` (paragraph) or `si` (shared string) ends a line, and a text box
    (`txbxContent`, `txBody`) anchored inside a paragraph is lines of its own, and so is
    the alt text (`descr`, `title`) of a picture or shape (`docPr`, `cNvPr`). With
    `cached_values` (charts) the cached `v` values (series names, category labels the
    chart draws) are text too, one per line.

    Text is given as displayed (red-team B16): a run in capitals (`w:caps`, `w:smallCaps`,
    a style among `capital_styles`, DrawingML `cap="all"`) is upper-cased, as Word shows
    `secret//noforn` set in caps as SECRET//NOFORN. The quoted strings of a field's
    instruction (`QUOTE "..."`, B13) are lines of their own: Word shows them on update.
    Hidden runs (`w:vanish`) are read, and a paragraph that holds some is read a second
    time as displayed, without them.
    """
    root = parse(data)
    out: list[str] = []
    shown: list[str] = []  # the paragraph as displayed: hidden runs left out
    starts: list[list[int]] = []  # each open paragraph: its start in `out`, in `shown`, hidden runs seen
    paragraph_caps = run_caps = run_hidden = False
    instruction: list[str] = []

    def field_strings(text: str) -> None:
        out.extend(f"\n{m.group(1)}\n" for m in _FIELD_STRING.finditer(text))

    for event, element in etree.iterwalk(root, events=("start", "end")):
        name = local(element.tag)
        if event == "start":
            if name in ("t", "delText") and element.text:
                text = element.text.upper() if run_caps else element.text
                out.append(text)
                if not run_hidden and name == "t":
                    shown.append(text)
                elif run_hidden:
                    for start in starts:
                        start[2] = 1
            elif name == "p":
                paragraph_caps = run_caps = run_hidden = False
                starts.append([len(out), len(shown), 0])
            elif name == "r":
                run_caps, run_hidden = paragraph_caps, False
            elif name == "pStyle":
                paragraph_caps = run_caps = (_val(element) or "") in capital_styles
            elif name == "rStyle" and (_val(element) or "") in capital_styles:
                run_caps = True
            elif name in ("caps", "smallCaps"):
                run_caps = _switched_on(element)
            elif name in ("vanish", "webHidden", "specVanish"):
                run_hidden = _switched_on(element)
            elif name in ("rPr", "defRPr", "endParaRPr") and element.get("cap") in ("all", "small"):
                run_caps = True
            elif name == "instrText" and element.text:
                instruction.append(element.text)
            elif name == "fldChar" and instruction and _val(element, "fldCharType") in ("separate", "end"):
                field_strings("".join(instruction))
                instruction.clear()
            elif name == "fldSimple" and _val(element, "instr"):
                field_strings(_val(element, "instr") or "")
            elif name == "v" and cached_values and element.text:
                out.append(f"\n{element.text}\n")
            elif name == "tab":
                out.append("\t")
                shown.append("\t")
            elif name in ("br", "cr", "txbxContent", "txBody"):
                out.append("\n")  # a text box starts a line of its own
                shown.append("\n")
            elif name in ("docPr", "cNvPr"):  # a picture's or shape's alt text and title
                for attribute in ("title", "descr"):
                    if element.get(attribute):
                        out.append(f"\n{element.get(attribute)}\n")
        else:
            if name == "p" and starts:
                # Hidden runs (w:vanish) inside a visible banner: `SEC` + hidden `xyz` + `RET`
                # shows SECRET (red-team B15 for Word). The displayed paragraph follows
                # the full one when they differ; both are inspected.
                out_start, shown_start, hidden = starts.pop()
                displayed = "".join(shown[shown_start:])
                if hidden and displayed.strip() and displayed != "".join(out[out_start:]):
                    out.append(f"\n{displayed}\n")
            if name in ("p", "si", "comment", "cm", "txbxContent", "txBody"):
                out.append("\n")
                shown.append("\n")
    if instruction:
        field_strings("".join(instruction))
    lines = (line.strip() for line in "".join(out).splitlines())
    return "\n".join(line for line in lines if line)


def _capital_styles(zf: zipfile.ZipFile) -> frozenset[str]:
    if "word/styles.xml" not in zf.namelist():
        return frozenset()
    try:
        return caps_styles(zf.read("word/styles.xml"))
    except Exception:  # a damaged styles part costs the capitals, not the text
        return frozenset()


class _PackageCapitalStyles:
    """The capital styles of a Word package, read from styles.xml when a part first asks
    about a style (`w:pStyle`, `w:rStyle`): a document that references no style never
    pays for parsing that part, often the package's largest."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self._zf = zf
        self._ids: frozenset[str] | None = None

    def __contains__(self, style_id: object) -> bool:
        if self._ids is None:
            self._ids = _capital_styles(self._zf)
        return style_id in self._ids


def _read_xml_part(reader: Reader, zf: zipfile.ZipFile, name: str, location: str,
                   capital_styles: Container[str] = frozenset()) -> str:
    try:
        return xml_text(zf.read(name), capital_styles=capital_styles)
    except Exception as exc:
        reader.problem(ProblemKind.CORRUPT, join(location, name), f"unreadable XML part: {exc}"[:300])
        return ""


def _join_parts(reader: Reader, zf: zipfile.ZipFile, names: list[str], location: str,
                capital_styles: Container[str] = frozenset()) -> str:
    texts = [_read_xml_part(reader, zf, n, location, capital_styles) for n in sorted(names, key=_numeric)]
    unique: list[str] = []
    for text in texts:
        if text and text not in unique:
            unique.append(text)
    return "\n".join(unique)


_EOCD = b"PK\x05\x06"


def zip_packages(data: bytes) -> list[tuple[int, int]]:
    """The (start, end) of each ZIP package laid end to end in `data`, found from the
    front: an end-of-central-directory record closes a package when its central directory
    ends exactly where the record starts, counted from the end of the previous package.

    A ZIP glued after an Office or ODF file (red-team B28) makes `zipfile`, which reads
    only the LAST central directory, see only the glued archive: the document itself would
    go unread. A ZIP stored inside a member does not match (its offsets count from its own
    start, not from the package's), nor does a ZIP64 record (its offsets are 0xFFFFFFFF)."""
    packages: list[tuple[int, int]] = []
    start = 0
    position = data.find(_EOCD)
    while position >= 0 and position + 22 <= len(data):
        size = int.from_bytes(data[position + 12:position + 16], "little")
        offset = int.from_bytes(data[position + 16:position + 20], "little")
        end = position + 22 + int.from_bytes(data[position + 20:position + 22], "little")
        if offset + size == position - start and end <= len(data):
            packages.append((start, end))
            start = end
        position = data.find(_EOCD, position + 4)
    return packages


def read_glued_packages(reader: Reader, data: bytes, location: str, depth: int) -> bool:
    """When `data` is several ZIP packages glued together, read each (and what follows the
    last) as a file of its own and return True; Word and LibreOffice repair such a file
    and 7-Zip lists the glued archive, so every package is something a recipient sees."""
    packages = zip_packages(data)
    if len(packages) < 2:
        return False
    reader.note(location, f"{len(packages)} ZIP packages glued together (data appended to the file); each read")
    for number, (start, end) in enumerate(packages, 1):
        if reader.timed_out(location) or reader.members_exhausted(location):
            return True
        reader.read_file(data[start:end], join(location, f"package {number}"), filename=None,
                         declared_type=None, depth=depth + 1)
    rest = data[packages[-1][1]:]
    if rest.strip(b"\0 \t\r\n"):
        reader.read_file(rest, join(location, "appended data"), filename=None, declared_type=None, depth=depth + 1)
    return True


def read_ooxml(reader: Reader, data: bytes, location: str, depth: int, **_: object) -> None:
    if read_glued_packages(reader, data, location, depth):
        return
    zf = open_container(reader, data, location, "Office file")
    if zf is None:
        return
    with zf:
        names = zf.namelist()
        if any(i.flag_bits & 0x1 for i in zf.infolist()):
            reader.problem(ProblemKind.ENCRYPTED, location, "Office file with encrypted parts; not readable")
            return
        steps = []
        if "word/document.xml" in names:
            steps.append(_read_word)
        elif "xl/workbook.xml" in names:
            steps.append(_read_excel)
        elif "ppt/presentation.xml" in names:
            steps.append(_read_powerpoint)
        steps += [_read_shared_parts, _read_other_parts, _read_cached_data, _read_properties]
        for step in steps:
            try:
                step(reader, zf, names, location, depth)
            except Exception as exc:  # a damaged part costs that part, not the document
                reader.problem(ProblemKind.CORRUPT, location, f"damaged Office part: {type(exc).__name__}: {exc}"[:300])
        for name in names:
            if _MEDIA.match(name) and not reader.timed_out(location):
                read_package_member(reader, zf, name, location, depth)


def _read_word(reader: Reader, zf: zipfile.ZipFile, names: list[str], location: str, depth: int) -> None:
    def matching(pattern: str) -> list[str]:
        return [n for n in names if re.fullmatch(pattern, n)]

    caps = _PackageCapitalStyles(zf)

    def parts(pattern: str) -> str:
        return _join_parts(reader, zf, matching(pattern), location, caps)

    reader.segment(_read_xml_part(reader, zf, "word/document.xml", location, caps), join(location, "body"), location, "body")
    reader.segment(parts(r"word/header\d*\.xml"), join(location, "header"), location, "header_band")
    reader.segment(parts(r"word/footer\d*\.xml"), join(location, "footer"), location, "footer_band")
    reader.segment(parts(r"word/comments\w*\.xml"), join(location, "comments"), location, "comment")
    reader.segment(parts(r"word/(footnotes|endnotes)\.xml"), join(location, "notes"), location, "note")
    reader.segment(parts(r"word/glossary/(document|header\d*|footer\d*|footnotes|endnotes)\.xml"),
                   join(location, "glossary"), location, "body")
    # altChunk: a whole file (HTML, MHT, RTF, text, another DOCX) Word imports and shows inline.
    for rels_name in matching(r"word/_rels/[^/]+\.xml\.rels"):
        for kind, target in _rels(zf, rels_name).values():
            if kind != "aFChunk" or target not in names or reader.timed_out(location):
                continue
            read_package_member(reader, zf, target, location, depth)


# Parts shared by the three formats that carry text a reader shows: (pattern, location
# with {n} for the part's number, segment kind). Masters and layouts draw on every slide.
_SHARED_PARTS = (
    (r"(?:word|xl|ppt)/drawings/drawing(\d+)\.xml", "drawing {n}", "body"),
    (r"(?:word|xl|ppt)/drawings/vmlDrawing(\d+)\.vml", "drawing {n} (vml)", "body"),
    (r"(?:word|xl|ppt)/charts/chart(\d+)\.xml", "chart {n}", "body"),
    (r"(?:word|xl|ppt)/diagrams/data(\d+)\.xml", "diagram {n}", "body"),
    (r"ppt/slideMasters/slideMaster(\d+)\.xml", "slide master {n}", "page"),
    (r"ppt/slideLayouts/slideLayout(\d+)\.xml", "slide layout {n}", "page"),
    (r"ppt/notesMasters/notesMaster(\d+)\.xml", "notes master {n}", "note"),
    (r"ppt/handoutMasters/handoutMaster(\d+)\.xml", "handout master {n}", "page"),
)


def _read_shared_parts(reader: Reader, zf: zipfile.ZipFile, names: list[str], location: str, depth: int) -> None:
    for pattern, label, kind in _SHARED_PARTS:
        for name in sorted((n for n in names if re.fullmatch(pattern, n)), key=_numeric):
            if reader.timed_out(location):
                return
            number = re.fullmatch(pattern, name).group(1)  # type: ignore[union-attr]
            where = join(location, label.format(n=number))
            try:
                data = zf.read(name)
                text = _vml_text(data) if name.endswith(".vml") else xml_text(data, cached_values="/charts/" in name)
            except Exception as exc:
                reader.problem(ProblemKind.CORRUPT, join(location, name), f"unreadable XML part: {exc}"[:300])
                continue
            reader.segment(text, where, location, kind)


# Parts read by name above (pivot caches and custom XML by `_read_cached_data`), and parts
# that hold no text a reader shows (styles, themes, settings, the package's own
# bookkeeping); any other XML part is read
# by `_read_other_parts`, so a part under an unexpected name is not a hiding place.
_KNOWN_PARTS = re.compile(
    r"\[Content_Types\]\.xml|(?:.*/)?_rels/.*|docProps/.*|customXml/.*"
    r"|word/(?:document|header\d*|footer\d*|comments\w*|footnotes|endnotes)\.xml"
    r"|word/glossary/(?:document|header\d*|footer\d*|footnotes|endnotes)\.xml"
    r"|xl/(?:sharedStrings|workbook)\.xml|xl/(?:worksheets|chartsheets|dialogsheets|macrosheets)/[^/]+\.xml"
    r"|xl/(?:comments\d*|comments/[^/]+|threadedComments/[^/]+)\.xml"
    r"|xl/(?:pivotCache|pivotTables|externalLinks|queryTables|tables|connections|ctrlProps|persons)(?:/.*|\.xml)"
    r"|ppt/(?:presentation|presProps|viewProps|tableStyles|commentAuthors|authors)\.xml"
    r"|ppt/(?:slides|notesSlides|comments|tags)/[^/]+\.xml"
    r"|(?:word|xl|ppt)/drawings/(?:drawing\d+\.xml|vmlDrawing\d+\.vml)|(?:word|xl|ppt)/charts/chart\d+\.xml"
    r"|(?:word|xl|ppt)/diagrams/(?:data|drawing)\d+\.xml"
    r"|ppt/(?:slideMasters/slideMaster|slideLayouts/slideLayout|notesMasters/notesMaster|handoutMasters/handoutMaster)\d+\.xml"
    r"|(?:.*/)?(?:styles|stylesWithEffects|settings|fontTable|webSettings|numbering|people|calcChain"
    r"|theme\d*|themeOverride\d*|colors\d*|style\d*|quickStyle\d*|layout\d*|vbaData|metadata)\.xml",
    re.I)


def _read_other_parts(reader: Reader, zf: zipfile.ZipFile, names: list[str], location: str, depth: int) -> None:
    """Every XML part not read by name: text in a part Word, Excel or PowerPoint shows
    under a name this reader does not know (a header called `word/hdr_a.xml`)."""
    for name in sorted(names, key=_numeric):
        if not name.lower().endswith((".xml", ".vml")) or _KNOWN_PARTS.fullmatch(name):
            continue
        if reader.timed_out(location):
            return
        try:
            data = zf.read(name)
            text = _vml_text(data) if name.lower().endswith(".vml") else xml_text(data)
        except Exception as exc:
            reader.problem(ProblemKind.CORRUPT, join(location, name), f"unreadable XML part: {exc}"[:300])
            continue
        reader.segment(text, join(location, name), location, "body")


_PIVOT_CACHE = re.compile(r"xl/pivotCache/pivotCache(?:Definition|Records)(\d+)\.xml")
_CUSTOM_XML = re.compile(r"customXml/item(\d+)\.xml")


def _read_cached_data(reader: Reader, zf: zipfile.ZipFile, names: list[str], location: str, depth: int) -> None:
    """Data a recipient can bring up that is in no sheet or page (red-team B37): the string
    values of a pivot cache (Excel rebuilds the whole source table with "Show Details", even
    after the source sheet is deleted), each distinct value once; and the custom XML data
    store (`customXml/itemN.xml`), where labelling tools and SharePoint columns keep the
    values Word shows in content controls and the document information panel."""
    caches: dict[str, dict[str, None]] = {}
    for name in sorted((n for n in names if _PIVOT_CACHE.fullmatch(n)), key=_numeric):
        if reader.timed_out(location):
            return
        values = caches.setdefault(_PIVOT_CACHE.fullmatch(name).group(1), {})  # type: ignore[union-attr]
        try:
            with zf.open(name) as stream:
                for _, element in etree.iterparse(stream, events=("end",), tag=("{*}s", "{*}cacheField"),
                                                  resolve_entities=False, no_network=True, load_dtd=False):
                    value = element.get("v") if local(element.tag) == "s" else element.get("name")
                    if value:
                        values[value] = None
                    element.clear()
        except Exception as exc:
            reader.problem(ProblemKind.CORRUPT, join(location, name), f"unreadable XML part: {exc}"[:300])
    for number, values in caches.items():
        reader.segment("\n".join(values), join(location, f"pivot cache {number}"), location, "cell")
    for name in sorted((n for n in names if _CUSTOM_XML.fullmatch(n)), key=_numeric):
        try:
            root = parse(zf.read(name))
        except Exception as exc:
            reader.problem(ProblemKind.CORRUPT, join(location, name), f"unreadable XML part: {exc}"[:300])
            continue
        text = "\n".join(t.strip() for t in root.itertext() if t.strip())
        reader.segment(text, join(location, f"custom XML {_CUSTOM_XML.fullmatch(name).group(1)}"),  # type: ignore[union-attr]
                       location, "metadata")


def _vml_text(data: bytes) -> str:
    """The text of VML text boxes (form controls and shapes in legacy drawings); VML
    written by Excel is often not well-formed XML, so it is parsed in recovery mode."""
    root = parse(data, recover=True)
    boxes = [e for e in root.iter() if local(e.tag) == "textbox"]
    lines = ("\n".join(t.strip() for t in box.itertext() if t.strip()) for box in boxes)
    return "\n".join(line for line in lines if line)


def _rels(zf: zipfile.ZipFile, rels_name: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type suffix, target path resolved against the part's folder)."""
    if rels_name not in zf.namelist():
        return {}
    base = posixpath.dirname(posixpath.dirname(rels_name))
    out: dict[str, tuple[str, str]] = {}
    for rel in parse(zf.read(rels_name)):
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
        out[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], path)
    return out


def _read_excel(reader: Reader, zf: zipfile.ZipFile, names: list[str], location: str, depth: int) -> None:
    shared: list[str] = []
    if "xl/sharedStrings.xml" in names:
        for si in parse(zf.read("xl/sharedStrings.xml")):
            shared.append("".join(t.text or "" for t in si.iter() if local(t.tag) == "t"))
    rels = _rels(zf, "xl/_rels/workbook.xml.rels")
    workbook = parse(zf.read("xl/workbook.xml"))
    for sheet in workbook.iter():
        if local(sheet.tag) != "sheet" or reader.timed_out(location):
            continue
        title = sheet.get("name", "")
        target = rels.get(sheet.get(f"{{{_REL_NS}}}id", ""), ("", ""))[1]
        if target not in names:
            continue
        bands: dict[str, list[str]] = {"header": [], "footer": []}
        try:
            rows = _sheet_rows(zf, target, shared, bands)
        except Exception as exc:
            reader.problem(ProblemKind.CORRUPT, join(location, f"sheet {title}"), f"damaged sheet: {type(exc).__name__}: {exc}"[:300])
            continue
        reader.segment("\n".join(rows), join(location, f"sheet {title}"), location, "cell")
        # Print headers and footers: where a classified sheet carries its marking.
        reader.segment("\n".join(bands["header"]), join(location, f"sheet {title}", "header"), location, "header_band")
        reader.segment("\n".join(bands["footer"]), join(location, f"sheet {title}", "footer"), location, "footer_band")
        reader.segment("\n".join(bands.get("messages", [])), join(location, f"sheet {title}", "input messages"), location, "comment")
    comments = [n for n in names if re.fullmatch(r"xl/(comments\d*|comments/[^/]+|threadedComments/[^/]+)\.xml", n)]
    reader.segment(_join_parts(reader, zf, comments, location), join(location, "comments"), location, "comment")
    # Text Excel shows that is in no cell (red-team B9): the literals of custom number
    # formats (a cell formatted `"SECRET//NOFORN"` shows the banner whatever its number)
    # and string constants of defined names (the Name Manager).
    if "xl/styles.xml" in names:
        formats = [_format_literals(e.get("formatCode", "")) for e in parse(zf.read("xl/styles.xml")).iter()
                   if local(e.tag) == "numFmt"]
        reader.segment("\n".join(f for f in formats if f.strip()), join(location, "number formats"), location, "cell")
    constants = [_formula_literals(e.text or "") for e in workbook.iter() if local(e.tag) == "definedName"]
    reader.segment("\n".join(c for c in constants if c.strip()), join(location, "defined names"), location, "cell")


_FORMAT_TOKEN = re.compile(r'"([^"]*)"|\\(.)|(;)')
_FORMULA_STRING = re.compile(r'"((?:[^"]|"")*)"')


def _format_literals(code: str) -> str:
    """The literal text of a number format, one line per section (`;`): `"SEC"0"RET"` shows
    SEC…RET around the number; quoted strings and backslash-escaped characters are literal."""
    sections: list[str] = [""]
    for quoted, escaped, separator in _FORMAT_TOKEN.findall(code):
        if separator:
            sections.append("")
        else:
            sections[-1] += quoted or escaped
    return "\n".join(s.strip() for s in sections if s.strip())


FORMULA_CHARS = 8192  # Excel's own limit on a formula's length; longer text is cut (bounds the scan)


def _formula_literals(formula: str) -> str:
    """The string constants of a formula, joined: `="SECRET"&"//NOFORN"` shows SECRET//NOFORN."""
    return "".join(m.group(1).replace('""', '"') for m in _FORMULA_STRING.finditer(formula[:FORMULA_CHARS]))


# Print header/footer codes (ECMA-376 18.3.1.39): &L &C &R open a section (a layout gap
# here), &"font", &K colour, &nn size and one-letter fields are formatting; && is "&".
_HF_SECTION = re.compile(r"&[LCR]")
_HF_CODE = re.compile(r'&"[^"]*"|&K(?:[0-9A-Fa-f]{6}|\d\d[+-]\d{3})|&\d+|&[PNDTFAZGBIUESXYH]?')


def _header_footer_text(code: str) -> str:
    parts = [_HF_CODE.sub(lambda m: "1" if m.group(0) in ("&P", "&N") else "", piece)
             for piece in _HF_SECTION.split(code.replace("&&", "\0"))]
    return "    ".join(p.strip() for p in parts if p.strip()).replace("\0", "&")


def _sheet_rows(zf: zipfile.ZipFile, target: str, shared: list[str],
                bands: dict[str, list[str]] | None = None) -> list[str]:
    """The rows of one worksheet, tab-separated, streamed (a sheet can be 100 MB of XML);
    the print header and footer texts go into `bands` ("header" / "footer"), the input
    and error messages of data validations into `bands["messages"]`."""
    rows: list[str] = []
    names: tuple[str, str, str, str, str] | None = None
    with zf.open(target) as stream:
        for _, row in etree.iterparse(stream, events=("end",), tag=("{*}row", "{*}headerFooter", "{*}dataValidation"),
                                      resolve_entities=False, no_network=True, load_dtd=False,
                                      huge_tree=False):
            if local(row.tag) == "dataValidation":
                # the input message Excel pops up on the cell, and the error it shows
                for attribute in ("promptTitle", "prompt", "errorTitle", "error"):
                    if bands is not None and row.get(attribute):
                        bands.setdefault("messages", []).append(row.get(attribute, ""))
                continue
            if local(row.tag) == "headerFooter":
                for child in row:
                    text = _header_footer_text(child.text or "")
                    if bands is not None and text:
                        bands["footer" if "Footer" in local(child.tag) else "header"].append(text)
                continue
            if names is None:
                ns = row.tag[: row.tag.index("}") + 1] if row.tag.startswith("{") else ""
                names = (ns + "c", ns + "v", ns + "is", ns + "t", ns + "f")
            c_tag, v_tag, is_tag, t_tag, f_tag = names
            cells: list[str] = []
            for cell in row.iterchildren(c_tag):
                v = cell.find(v_tag)
                if v is not None and v.text:
                    value = v.text
                    if cell.get("t") == "s" and value.isdigit() and int(value) < len(shared):
                        value = shared[int(value)]
                else:
                    inline = cell.find(is_tag)
                    value = "".join(inline.itertext(t_tag)) if inline is not None else ""
                    formula = cell.find(f_tag)
                    if not value and formula is not None and formula.text:
                        # No cached value (a generator wrote none): Excel computes and shows
                        # the formula's result on opening; its string constants are that text.
                        value = _formula_literals(formula.text)
                if value:
                    cells.append(value)
            if cells:
                rows.append("\t".join(cells))
            row.clear()
            parent = row.getparent()
            while parent is not None and row.getprevious() is not None:
                del parent[0]
    return rows


def _read_powerpoint(reader: Reader, zf: zipfile.ZipFile, names: list[str], location: str, depth: int) -> None:
    rels = _rels(zf, "ppt/_rels/presentation.xml.rels")
    order: list[str] = []
    try:
        presentation = parse(zf.read("ppt/presentation.xml"))
        for element in presentation.iter():
            if local(element.tag) == "sldId":
                target = rels.get(element.get(f"{{{_REL_NS}}}id", ""), ("", ""))[1]
                if target in names:
                    order.append(target)
    except Exception:
        order = []
    if not order:
        order = sorted((n for n in names if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)), key=_numeric)
    for number, slide in enumerate(order, start=1):
        if reader.timed_out(location):
            return
        where = join(location, f"slide {number}")
        reader.segment(_read_xml_part(reader, zf, slide, location), where, location, "page")
        slide_rels = _rels(zf, posixpath.join(posixpath.dirname(slide), "_rels", posixpath.basename(slide) + ".rels"))
        for kind, target in slide_rels.values():
            if kind == "notesSlide" and target in names:
                reader.segment(_read_xml_part(reader, zf, target, location), join(where, "notes"), location, "note")
            elif kind == "comments" and target in names:
                reader.segment(_read_xml_part(reader, zf, target, location), join(where, "comments"), location, "comment")
    modern = [n for n in names if re.fullmatch(r"ppt/comments/[^/]+\.xml", n)]
    reader.segment(_join_parts(reader, zf, modern, location), join(location, "comments"), location, "comment")


def _read_properties(reader: Reader, zf: zipfile.ZipFile, names: list[str], location: str, depth: int) -> None:
    where = join(location, "properties")
    lines: list[str] = []
    for part in ("docProps/core.xml", "docProps/app.xml"):
        if part not in names:
            continue
        try:
            root = parse(zf.read(part))
        except Exception as exc:
            reader.problem(ProblemKind.CORRUPT, join(location, part), f"unreadable properties: {exc}"[:300])
            continue
        for element in root:
            name = local(element.tag)
            text = (element.text or "").strip()
            if text and name in ("title", "subject", "creator", "keywords", "description", "category",
                                 "lastModifiedBy", "contentStatus", "Company", "Manager"):
                lines.append(f"{name}: {text}")
    labels: dict[str, dict[str, str]] = {}
    if "docProps/custom.xml" in names:
        try:
            root = parse(zf.read("docProps/custom.xml"))
        except Exception as exc:
            reader.problem(ProblemKind.CORRUPT, join(location, "docProps/custom.xml"), f"unreadable properties: {exc}"[:300])
            root = None
        for prop in root if root is not None else []:
            name = prop.get("name", "")
            value = "".join(prop.itertext()).strip()
            match = _MSIP.match(name)
            if match:
                labels.setdefault(match.group(1).lower(), {})[match.group(2)] = value
                continue
            if name and value:
                lines.append(f"{name}: {value}")
                if _LABELISH.search(name):
                    reader.fact(f"office.custom.{name.lower()}", value, where, location)
    for guid, props in labels.items():
        label_name = props.get("Name", "")
        reader.fact("office.sensitivity_label", label_name, where, location)
        reader.fact("office.sensitivity_label.id", guid, where, location)
        for key, value in sorted(props.items()):
            if key != "Name":
                reader.fact(f"office.sensitivity_label.{key.lower()}", value, where, location)
        if label_name:
            lines.append(f"sensitivity label: {label_name}")
    reader.segment("\n".join(lines), where, location, "metadata")
