"""XML documents, e-documents (.di/.sw/.si) above all, parsed safely.

The parser never loads a DTD, never expands an entity and never touches the network
(billion-laughs and XXE). E-documents legitimately carry an internal DOCTYPE subset that
declares their attachments as NDATA entities, so declarations alone are not refused; but a
declared entity with replacement text or an external parsed entity is hostile or at least
unreadable as intended, and is recorded. Encoding: UTF-8 or Big5 (older letters), BOM
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

_ENTITY_DECL = re.compile(rb"<!ENTITY\s+(%\s+)?([^\s>]+)\s+([^>]*)>", re.S)
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


def _hostile_entities(data: bytes) -> list[str]:
    head = data[: 1024 * 1024]
    found = []
    for match in _ENTITY_DECL.finditer(head):
        body = match.group(3)
        if b"NDATA" in body:
            continue  # an unparsed entity: an e-document attachment declaration
        found.append(match.group(2).decode("utf-8", "replace"))
    return found


def _parse_document(reader: Reader, data: bytes, location: str) -> etree._Element | None:
    hostile = _hostile_entities(data)
    if hostile:
        reader.problem(
            ProblemKind.LIMIT_EXCEEDED, location,
            f"XML declares {len(hostile)} parsed entit{'y' if len(hostile) == 1 else 'ies'} "
            f"({', '.join(hostile[:5])}); entity expansion and external entities are refused "
            "(possible billion-laughs or XXE), text read without them",
            "xml_entities",
        )
        head = 1024 * 1024  # the DOCTYPE is at the start; bound the regex's work
        data = _DOCTYPE_SUBSET.sub(b"", data[:head], count=1) + data[head:]
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


def read_xml(reader: Reader, data: bytes, location: str, depth: int, **_: object) -> None:
    root = _parse_document(reader, data, location)
    if root is None:
        return
    texts = [t.strip() for t in root.itertext() if t and t.strip()]
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
