"""Plain text and HTML: decoding in any declared charset, and HTML to text.

Mail from a mission arrives in whatever charset the client chose: UTF-8, Big5 (and its
cp950/HKSCS extensions), GB2312/GBK/GB18030, ISO-8859-x, Windows code pages. A declared
charset is read with its widest compatible superset (a "big5" mail written by Outlook is
really cp950); an unknown or wrong one falls back to detection and the fallback is
recorded, so a reader can see the text may be imperfect.
"""

from __future__ import annotations

import codecs
from html.parser import HTMLParser

# A declared charset is decoded with the widest superset that agrees with it.
_SUPERSETS: dict[str, tuple[str, ...]] = {
    "big5": ("cp950", "big5hkscs"),
    "big5-hkscs": ("big5hkscs", "cp950"),
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "gb18030": ("gb18030",),
    "iso-8859-1": ("cp1252",),
    "latin-1": ("cp1252",),
    "us-ascii": ("utf-8", "cp1252"),
    "ascii": ("utf-8", "cp1252"),
    "ks_c_5601-1987": ("cp949",),
    "euc-kr": ("cp949",),
    "shift_jis": ("cp932",),
    "tis-620": ("cp874",),
}


def _canonical(charset: str) -> str | None:
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return None


def _candidates(charset: str) -> list[str]:
    key = charset.strip().strip('"').lower()
    names: list[str] = []
    if key in _SUPERSETS:
        names.extend(_SUPERSETS[key])
    canon = _canonical(key)
    if canon is not None:
        for alias, supersets in _SUPERSETS.items():
            if _canonical(alias) == canon:
                names.extend(supersets)
        names.append(canon)
    return names


def _detect(data: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 256 * 1024]).best()
    return best.encoding if best is not None else "utf-8"


def decode_text(data: bytes, charset: str | None = None) -> tuple[str, str | None]:
    """Decode bytes to text. Returns (text, note): `note` says when a declared charset was
    unknown or wrong and detection was used instead; None when all went as declared."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace"), None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace"), None
    note: str | None = None
    if charset:
        candidates = _candidates(charset)
        for name in candidates:
            try:
                return data.decode(name), None
            except (UnicodeDecodeError, LookupError):
                continue
        if candidates:
            # Declared and known, but the bytes do not fit it: keep it, mark the bad bytes.
            return data.decode(candidates[0], "replace"), None
        note = f"unknown charset {charset!r}"
    try:
        return data.decode("utf-8"), note
    except UnicodeDecodeError:
        pass
    guessed = _detect(data)
    text = data.decode(guessed, "replace")
    if note:
        note += f"; decoded as {guessed} by detection"
    return text, note


class _HTMLText(HTMLParser):
    """Collects every piece of text, hidden or not (display:none, white on white, tiny
    fonts all hide text from the reader but not from the recipient's copy), plus the
    alt/title attributes. Only <style> is left out: it holds no prose."""

    _BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table",
              "title", "td", "th", "pre", "blockquote", "section", "article", "header", "footer"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "style":
            self._skip += 1
        if tag in self._BLOCK:
            self.chunks.append("\n")
        for name, value in attrs:
            if name in ("alt", "title") and value:
                self.chunks.append(f" {value} ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "style" and self._skip:
            self._skip -= 1
        if tag in self._BLOCK:
            self.chunks.append("\n")
        elif tag == "td":
            self.chunks.append("\t")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.chunks.append(data)

    def handle_comment(self, data: str) -> None:
        self.chunks.append(f"\n{data}\n")


def html_to_text(html: str) -> str:
    """All text of an HTML document with entities decoded, hidden text included."""
    parser = _HTMLText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is tolerant; this is belt and braces
        pass
    lines = (" ".join(line.split()) for line in "".join(parser.chunks).splitlines())
    return "\n".join(line for line in lines if line)
