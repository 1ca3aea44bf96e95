"""XML documents, e-documents (.di/.sw/.si) above all, parsed safely.

The parser never loads a DTD, never expands an entity and never touches the network
(billion-laughs and XXE). Internal entities are common in real files (Illustrator writes
`<!ENTITY ns_svg "http://www.w3.org/2000/svg">` into every SVG) and a reader shows their
text, so they are expanded here, before parsing, by plain substitution whose total size is
computed first and bounded by `limits.max_xml_entity_expansion`: a billion-laughs file
stops at that bound (`limit_exceeded`, read without expansion). External entities
(SYSTEM/PUBLIC) and parameter entities are never fetched nor expanded; they are recorded
(`xml_entities`) and their references read as empty. E-documents legitimately carry an
internal DOCTYPE subset that declares their attachments as NDATA entities; those are
unparsed entities and are left alone. Encoding: UTF-8 or Big5 (older letters), BOM
tolerated; libxml2 reads the declaration, and Python's codecs step in when it cannot.

E-document facts: the 密等 element's 代碼 becomes `Fact("edoc.secrecy", 代碼)` and the
text of 解密條件或保密期限 (older: 解密條件) `Fact("edoc.declassify", text)`; an
unclassified letter has an empty `<密等 />` and gives no secrecy fact.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lxml import etree

from dlp_gateway.content.text import decode_text
from dlp_gateway.model import ProblemKind

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader

_ENTITY_DECL = re.compile(rb"""<!ENTITY\s+(%\s+)?([^\s>]+)\s+(?:"([^"]*)"|'([^']*)'|([^>]*))\s*>""", re.S)
_ENTITY_REF = re.compile(rb"&([A-Za-z_:][-A-Za-z0-9._:]*);")
_PREDEFINED = {b"amp", b"lt", b"gt", b"quot", b"apos"}
_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^\[>]*\[.*?\]\s*>", re.S)
_ENCODING_DECL = re.compile(r"^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*['\"][^'\"]*['\"]", re.S)
_EDOC_ROOTS = {"函", "簽", "書函", "令", "公告", "開會通知單", "呈", "咨", "交換表單", "線上簽核", "便簽", "報告"}


def safe_parser(recover: bool = False) -> etree.XMLParser:
    """An lxml parser with DTD loading, entity expansion and network access all off."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, recover=recover,
                           remove_pis=True)


def parse(data: bytes, recover: bool = False) -> etree._Element:
    """Parse XML safely; raises lxml's XMLSyntaxError on failure (for Office/ODF parts)."""
    root = etree.fromstring(data, safe_parser(recover))
    if root is None:
        raise ValueError("empty XML document")
    return root


def local(tag: object) -> str:
    """The local name of an element tag (namespace dropped); '' for comments and PIs."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


class _Entities:
    """The entity declarations of a document's internal DTD subset."""

    def __init__(self, head: bytes) -> None:
        self.internal: dict[bytes, bytes] = {}
        self.forbidden: list[str] = []  # external or parameter entities, by name
        for match in _ENTITY_DECL.finditer(head):
            parameter, name, double, single, other = match.groups()
            value = double if double is not None else single
            if parameter:
                self.forbidden.append("%" + name.decode("utf-8", "replace"))
            elif value is not None:
                self.internal.setdefault(name, value)
            elif other is not None and b"NDATA" not in other:
                self.forbidden.append(name.decode("utf-8", "replace"))
            # NDATA: an unparsed entity (an e-document attachment declaration), harmless

    def expanded_length(self, name: bytes, memo: dict[bytes, int], stack: tuple[bytes, ...] = ()) -> int:
        """Length of `name` fully expanded, computed without expanding it."""
        if name in memo:
            return memo[name]
        if name in stack:
            raise ValueError(f"entity {name.decode('utf-8', 'replace')} refers to itself")
        value = self.internal[name]
        total = len(value)
        for ref in _ENTITY_REF.finditer(value):
            inner = ref.group(1)
            if inner in self.internal:
                total += self.expanded_length(inner, memo, (*stack, name)) - len(ref.group(0))
        memo[name] = total
        return total

    def expand(self, text: bytes, cache: dict[bytes, bytes]) -> bytes:
        """`text` with every internal entity reference replaced (others left, external ones emptied)."""
        forbidden = {f.encode() for f in self.forbidden}

        def one(match: re.Match[bytes]) -> bytes:
            name = match.group(1)
            if name in self.internal:
                if name not in cache:
                    cache[name] = self.expand(self.internal[name], cache)
                return cache[name]
            return b"" if name in forbidden else match.group(0)

        return _ENTITY_REF.sub(one, text)


def _expand_entities(reader: Reader, data: bytes, location: str) -> bytes:
    """The document with internal entities expanded (bounded) and the DOCTYPE subset removed,
    or `data` unchanged when it declares no parsed entity."""
    head_size = 1024 * 1024  # the DOCTYPE is at the start; bound the regex's work
    head = data[:head_size]
    subset = _DOCTYPE_SUBSET.search(head)
    if subset is None:
        return data
    entities = _Entities(subset.group(0))
    if not entities.internal and not entities.forbidden:
        return data
    if entities.forbidden:
        names = entities.forbidden
        reader.problem(
            ProblemKind.LIMIT_EXCEEDED, location,
            f"XML declares {len(names)} external or parameter entit{'y' if len(names) == 1 else 'ies'} "
            f"({', '.join(names[:5])}); they are never fetched (possible XXE), text read without them",
            "xml_entities",
        )
    document = data[subset.end():]
    limit = reader.limits.max_xml_entity_expansion
    memo: dict[bytes, int] = {}
    total = 0
    try:
        for ref in _ENTITY_REF.finditer(document):
            name = ref.group(1)
            if name in entities.internal:
                total += entities.expanded_length(name, memo)
                if total > limit:
                    break
    except ValueError as exc:  # a recursive entity: never well-formed, never expandable
        total = limit + 1
        reader.problem(ProblemKind.CORRUPT, location, f"XML entity not expandable: {exc}"[:300])
    if total > limit:
        reader.limit(location, "max_xml_entity_expansion",
                     f"XML entities would expand beyond {limit} bytes (possible billion-laughs); "
                     "text read without expanding them")
        empty = {name: b"" for name in entities.internal}
        return data[:subset.start()] + entities.expand(document, empty)
    return data[:subset.start()] + entities.expand(document, {})


def _parse_document(reader: Reader, data: bytes, location: str) -> etree._Element | None:
    data = _expand_entities(reader, data, location)
    try:
        return parse(data)
    except Exception as first:
        error = first
    # libxml2 may not know the declared encoding (e.g. some Big5 variants): decode in Python.
    declared = re.search(rb"encoding\s*=\s*['\"]([A-Za-z0-9_.:-]+)['\"]", data[:200])
    text, _ = decode_text(data, declared.group(1).decode() if declared else None)
    text = _ENCODING_DECL.sub(r"\1", text.lstrip("\ufeff"), count=1)
    try:
        return parse(text.encode("utf-8"))
    except Exception:
        pass
    try:
        root = parse(text.encode("utf-8"), recover=True)
        reader.problem(ProblemKind.CORRUPT, location, f"malformed XML, read what could be recovered: {error}"[:300])
        return root
    except Exception:
        reader.problem(ProblemKind.CORRUPT, location, f"unreadable XML: {error}"[:300])
        return None


_SVG_RUNS = frozenset({"tspan", "textPath", "a", "tref"})


def _zero(value: str | None) -> bool:
    try:
        return value is None or all(float(v.rstrip("px")) == 0 for v in value.replace(",", " ").split())
    except ValueError:
        return False


def svg_text_lines(text: etree._Element) -> list[str]:
    """The lines one SVG <text> element draws (red-team B23): its <tspan> runs continue the
    line, as a viewer lays them out, unless a run moves to another line (a `y` of its own
    or a non-zero `dy`); an `x` alone (kerning, as Illustrator writes) stays on the line."""
    pieces: list[str] = [text.text or ""]
    current_y = text.get("y")

    def walk(element: etree._Element) -> None:
        nonlocal current_y
        for child in element:
            if local(child.tag) not in _SVG_RUNS:
                pieces.append(child.tail or "")
                continue
            y = child.get("y")
            if (y is not None and y != current_y) or not _zero(child.get("dy")):
                pieces.append("\n")
                current_y = y if y is not None else current_y
            pieces.append(child.text or "")
            walk(child)
            pieces.append(child.tail or "")

    walk(text)
    return [line.strip() for line in "".join(pieces).splitlines() if line.strip()]


def read_xml(reader: Reader, data: bytes, location: str, depth: int, **_: object) -> None:
    root = _parse_document(reader, data, location)
    if root is None:
        return
    texts = [t.strip() for t in root.itertext() if t and t.strip()]
    if local(root.tag) == "svg":  # text split into runs, as drawn: one line per drawn line
        known = set(texts)
        for element in root.iter():
            if local(element.tag) == "text" and len(element):
                texts.extend(line for line in svg_text_lines(element) if line not in known)
    reader.segment("\n".join(texts), location, location, "xml")
    root_name = local(root.tag)
    if root_name in _EDOC_ROOTS:
        reader.fact("edoc.type", root_name, location, location)
    for element in root.iter():
        name = local(element.tag)
        if name == "密等":
            code = (element.get("代碼") or element.text or "").strip()
            if code:
                reader.fact("edoc.secrecy", code, location, location)
        elif name in ("解密條件或保密期限", "解密條件", "保密期限"):
            text = "".join(element.itertext()).strip()
            if text:
                reader.fact("edoc.declassify", text, location, location)
