"""ROC (Taiwan) markings: banner lines, header/footer band tokens, the 密等 field, ticked
check boxes, a letter's top line laid out with gaps, table cells, and a level right before
a declassification phrase.

The forms are described in the package docstring (detect/markings/__init__.py); the
level words and declassification conditions come from grammar.py. Scanners append
`Candidate`s; whether a candidate is a marking or a mention is decided in mentions.py.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from dlp_gateway.detect.markings.grammar import (
    _BANNER_START,
    _BASE_CONFIDENCE,
    _COPY,
    _DECLASS,
    _DECLASS_LINE,
    _DECOR,
    _HAN_CHAR,
    _LIST_WINDOW,
    _NEEDS_NFKC,
    _NOT_HAN_AFTER,
    _NOT_HAN_BEFORE,
    _PAGE,
    _ROC_C,
    _ROC_LEVEL,
    _ROC_S,
    _ROC_TS,
    _SP,
    C,
    Candidate,
    Lines,
    LineSite,
    R,
    S,
    SegmentQuestions,
    _anchor_positions,
    _han_before,
    _position,
    _roc_level,
    _spaced,
    normalize,
)
from dlp_gateway.detect.markings.mentions import _quoted
from dlp_gateway.detect.markings.prc import _is_simplified_jimi

# Handling words that share a banner line: 「機密　限閱」, 「極機密　親啟」.
_HANDLING = r"(?:限\s*閱|親\s*啟|勿\s*轉|不得[複复][製制]|注意保密|[請请]勿外[洩泄傳传])"
_COPY_PREFIX = (
    r"(?:[複复]\s*[製制]\s*物\s*(?:第\s*[0-9一二三四五六七八九十]+\s*[份號号])?"
    r"(?:\s*[,，、(（]?\s*共\s*[0-9一二三四五六七八九十]+\s*份\s*[)）]?)?)"
)
_ROC_BANNER_LINE = re.compile(
    rf"{_DECOR}*+(?P<copy0>{_COPY_PREFIX}{_DECOR}*+)?{_ROC_LEVEL}{_DECOR}*+(?P<declass>{_DECLASS_LINE})?"
    rf"{_DECOR}*+(?P<copy>{_COPY})?{_DECOR}*+(?:{_HANDLING}{_DECOR}*+)*(?:{_PAGE})?{_DECOR}*+"
)
# In a page's header or footer band the level may share the line with a title or a page
# number; it must still stand alone as a word (not inside 國家機密保護法 or 商業機密).
_ROC_BAND_TOKEN = re.compile(
    rf"{_NOT_HAN_BEFORE}{_ROC_LEVEL}(?:文件|資料|资料|公文)?(?P<declass>{_SP}{_DECLASS})?"
    rf"(?:{_NOT_HAN_AFTER}|(?={_SP}{_COPY}))(?![ \t]*[★☆*])"
)

# 「密等及解密條件或保密期限：機密（本件至…解密）」, older 「密等及解密條件：」, telegram 「密等：」.
_ROC_FIELD_LABEL = (
    rf"(?:{_spaced(['密', '等', '及', '解', '密', '[條条]', '件', '或', '保', '密', '期', '限'])}"
    rf"|{_spaced(['密', '等', '及', '解', '密', '[條条]', '件'])}"
    rf"|{_spaced(['[機机]', '密', '等', '[級级]'])}"
    rf"|{_spaced(['密', '等'])}"
    rf"|(?P<grade>{_spaced(['等', '[級级]'])}))"  # 「等級：機密」, only at the start of a line
)
_ROC_FIELD = re.compile(
    rf"(?P<label>{_ROC_FIELD_LABEL})[ \t\u3000:：]*\n?[ \t\u3000:：]*"  # OCR may put the colon on the next line
    rf"(?P<lvl>{_ROC_LEVEL})(?P<declass>{_SP}{_DECLASS})?(?:{_NOT_HAN_AFTER}|(?={_SP}{_COPY}))"
)
_ROC_FIELD_LABEL_RE = re.compile(_ROC_FIELD_LABEL)
# A form's 密等 as check boxes: 「密等：□普通　□密　■機密」; only the ticked box is the value.
_CHECKED_BOX_CHAR = re.compile("[■☑☒✔✓√▣◼]")
_CHECKED_BOX = re.compile(rf"[■☑☒✔✓√▣◼][ \t\u3000]*{_ROC_LEVEL}{_NOT_HAN_AFTER}")
_DECLASS_ANCHORS = (re.compile(r"解[ \t\u3000]*密"), re.compile(r"保[ \t\u3000]*密[ \t\u3000]*期"),
                    re.compile(r"[屆届]滿"))
_LIST_AFTER = re.compile(rf"[ \t\u3000]*[、，,及和與与或/／][ \t\u3000]*(?:{_ROC_TS}|{_ROC_S}|{_ROC_C})")
_FIELD_ANCHORS = (re.compile(r"密[ \t\u3000]*等"), re.compile(r"等[ \t\u3000]*[級级][ \t\u3000]*[:：]"))
_ROC_DECLASS = re.compile(rf"{_ROC_LEVEL}{_SP}(?P<declass>{_DECLASS})")
# OCR breaks a stamped, widely spaced level into lines (「極機\n密」): lines made only of
# level characters are joined back.
_LEVEL_CHARS = "絕绝對对極极機机密"
_OCR_LEVEL_BREAK = re.compile(
    rf"(?m)^([ \t\u3000]*[{_LEVEL_CHARS}][{_LEVEL_CHARS} \t\u3000]*)\n"
    rf"(?=[ \t\u3000]*[{_LEVEL_CHARS}][{_LEVEL_CHARS} \t\u3000]*$)"
)


# The English equivalent printed beside a ROC level: 「機密 CONFIDENTIAL」, 「極機密（SECRET）」.
_ENGLISH_EQUIVALENT = re.compile(
    r"[ \t\u3000]*[/／|｜]?[ \t\u3000]*[(（]?[ \t]*(?:TOP[ \t]+SECRET|SECRET|CONFIDENTIAL|RESTRICTED)[ \t]*[)）]?")
_TITLE_MARKS = ("《", "〈")  # 《機密》 is the title of a book or a film


def _roc_banner_match(line: str) -> re.Match[str] | None:
    """The whole line is a ROC banner, also with the English equivalent beside the level."""
    if any(mark in line for mark in _TITLE_MARKS):
        return None
    m = _ROC_BANNER_LINE.fullmatch(line)
    if m is None and ("ECRET" in line or "ONFIDENTIAL" in line or "ESTRICTED" in line):
        stripped = _ENGLISH_EQUIVALENT.sub("", line, count=1)
        if stripped != line and _HAN_CHAR.search(stripped):
            m = _ROC_BANNER_LINE.fullmatch(stripped)
    return m


def _table_cells(line: str, line_no: int, lines: Lines, kind: str, out: list[Candidate]) -> bool:
    """A table row (cells joined by tabs): a cell holding only a level is a banner, as when a
    letter template puts 「機密」 in the cell next to 「檔號」. In a register (收文登記簿,
    an inventory) the level is a column value: a 密等 column heading above, or 普通 in the
    rows around, says so; the row is then handled and nothing is a banner."""
    found = False
    base = lines.starts[line_no]
    position = _position(kind, lines, line_no)
    for cell in line.split("\t"):
        cell = cell.strip()
        if not cell or len(cell) > 40 or not _BANNER_START.match(cell):
            continue
        m = _roc_banner_match(normalize(cell) if _NEEDS_NFKC.search(cell) else cell)
        if m and _register(lines, line_no):
            return True
        if m:
            tags = ("copy",) if m.group("copy") or m.group("copy0") else ()
            out.append(Candidate("roc_banner", _roc_level(m), "ROC", cell, _BASE_CONFIDENCE[position] - 0.05,
                                 line_no, base, base + len(lines.lines[line_no]), position, tags, family="ROC"))
            found = True
    return found


_WORD_BEFORE_MI = frozenset("保秘祕親亲嚴严緊紧精周細细")  # 保密, 秘密, 親密 … spaced out
_LAYOUT_GAP = re.compile(r"[ \t]{2,}|[\t\u3000]+")


def _block_start(lines: Lines, line_no: int) -> bool:
    """The first line of a block: after a blank line or a separator (a pasted letter's top)."""
    return line_no == 0 or not lines.lines[line_no - 1].strip(" \t\u3000-=_*~—")


def _layout_chunks(line: str, line_no: int, base: int, position: str, out: list[Candidate]) -> bool:
    """A letter's top line laid out with gaps: 「外交部　　　　機密」, 「機密　　　檔號：…」.

    The level must fill a whole chunk between layout gaps. A lone 密 before a Han word is
    part of a spaced label (「密　　碼：」, 「密　　等：」).
    """
    chunks = _LAYOUT_GAP.split(line)
    found = False
    for index, chunk in enumerate(chunks):
        if not chunk or len(chunk) > 40 or not _BANNER_START.match(chunk):
            continue
        m = _roc_banner_match(normalize(chunk) if _NEEDS_NFKC.search(chunk) else chunk)
        if m is None:
            continue
        level = _roc_level(m)
        following = chunks[index + 1] if index + 1 < len(chunks) else ""
        if level == R and (_HAN_CHAR.match(following) is not None
                           or (index > 0 and chunks[index - 1].strip() in _WORD_BEFORE_MI)):
            continue  # 「密　　碼：」, 「保　　密」: a spaced word, not the 密 banner
        out.append(Candidate("roc_banner", level, "ROC", line, _BASE_CONFIDENCE[position] - 0.05, line_no,
                             base, base + len(line), position, family="ROC"))
        found = True
    return found


_REGISTER_HEADING = re.compile(r"[ \t\u3000]*(?:[機机]?密[ \t\u3000]*等(?:[ \t\u3000]*[級级])?|密[ \t\u3000]*[級级]|等[ \t\u3000]*[級级])[ \t\u3000]*")
_REGISTER_LOOKBACK = 60  # rows


def _register(lines: Lines, line_no: int) -> bool:
    """The row belongs to a table with a 密等 column (heading above) or 普通 values nearby."""
    if lines.register is None:  # one pass over the segment's table rows, on first use
        headings: list[int] = []
        plain: list[int] = []
        for index, row in enumerate(lines.lines):
            if "\t" not in row:
                continue
            cells = row.split("\t")
            if "普通" in row and any(cell.strip() == "普通" for cell in cells):
                plain.append(index)
            if ("等" in row or "級" in row or "级" in row) and any(_REGISTER_HEADING.fullmatch(c) for c in cells):
                headings.append(index)
        lines.register = (headings, plain)
    headings, plain = lines.register
    h = bisect_right(headings, line_no - 1)
    if h and headings[h - 1] >= line_no - _REGISTER_LOOKBACK:
        return True
    p = bisect_right(plain, line_no + _LIST_WINDOW)
    return bool(p) and plain[p - 1] >= line_no - _LIST_WINDOW and (plain[p - 1] != line_no or (
        p >= 2 and plain[p - 2] >= line_no - _LIST_WINDOW))


_UNTICKED_BOXES = "□☐◻▢○◯"


def _unticked(line: str, start: int) -> bool:
    """「機密等級：■一般　□限閱　□機密」 (an ISMS document-grade footer): a level after an
    empty check box is a choice not taken, not the document's marking."""
    before = line[max(0, start - 3):start].rstrip(" \t\u3000")
    return bool(before) and before[-1] in _UNTICKED_BOXES


def _spaced_prose(line: str, start: int, end: int) -> bool:
    """「國 家 機 密 保 護 法」: a level set off by single spaces inside spaced-out text.

    A layout gap (two or more blanks, a tab or an ideographic space) separates a banner
    from the agency name or page number in a band; one ASCII space between Han
    characters is just how the text was spaced (OCR, justified PDF text).
    """
    # Spaced prose spaces every character: the Han characters beside the level stand alone
    # between blanks. 「外交部 函 機密」 has words (外交部) beside it; 函 alone is not a run.
    before = line[max(0, start - 5):start][::-1]
    after = line[end:end + 5]
    return _isolated_run(before, start < 5) or _isolated_run(after, end + 5 > len(line))


def _isolated_run(side: str, reaches_edge: bool) -> bool:
    """`side` (read away from the level) is " X Y " (or " X" / " X Y" up to the line's
    edge): single Han characters, each set off by one space."""
    if len(side) < 2 or side[0] != " " or _HAN_CHAR.match(side[1]) is None:
        return False
    if len(side) == 2:
        return reaches_edge
    if side[2] != " " or len(side) < 4 or _HAN_CHAR.match(side[3]) is None:
        return False
    return side[4] == " " if len(side) > 4 else reaches_edge


def _checkbox_field(text: str, pos: int, lines: Lines, out: list[Candidate]) -> None:
    """The 密等 of a form filled in by ticking a box; the value runs to the end of the line
    (or the next line when the label stands alone)."""
    label = _ROC_FIELD_LABEL_RE.match(text, pos)
    if label is None or _han_before(text, pos):
        return
    line_no = lines.line_of(pos)
    if label.group("grade") and text[lines.starts[line_no]:pos].strip():
        return  # 等級 is a field label only where it opens the line
    last = min(line_no + 1, len(lines.starts) - 1)
    end = lines.starts[last] + len(lines.lines[last])
    for m in _CHECKED_BOX.finditer(text, label.end(), end):
        out.append(Candidate("roc_field", _roc_level(m), "ROC", text[pos:m.end()], 0.9,
                             lines.line_of(m.start()), pos, m.end(), "field", family="CHECKBOX"))


def line_candidates(site: LineSite, ask: SegmentQuestions, out: list[Candidate]) -> bool:
    """ROC grammar of one line: the whole line a banner (level + declassification, copy
    note, page number), a level token in a band line, or a level filling a chunk of a
    letter's top line. True when the line was taken (no other system looks at it then).

    A banner 机密 in simplified script is the PRC 'secret' (`ask.prc_script()`)."""
    line, line_no, base, position = site.line, site.line_no, site.base, site.position
    conf = site.conf
    m = _roc_banner_match(line)
    if m:
        level = _roc_level(m)
        system, rule = "ROC", "roc_banner"
        if level == C and not (m.group("declass") or m.group("copy") or m.group("copy0")) and _is_simplified_jimi(m) and ask.prc_script():
            level, system, rule = S, "PRC", "prc_banner"
        tags = ("copy",) if m.group("copy") or m.group("copy0") else ()
        if m.group("declass"):
            conf = max(conf, 0.9)
        out.append(Candidate(rule, level, system, line, conf, line_no, base, base + len(line),
                             position, tags, family=system))
        return True
    if site.band:
        found = False
        for m in _ROC_BAND_TOKEN.finditer(line):
            if (_quoted(line, m.start(), m.end()) or _spaced_prose(line, m.start(), m.end())
                    or _unticked(line, m.start())):
                continue
            out.append(Candidate("roc_banner", _roc_level(m), "ROC", line, 0.88, line_no,
                                 base + m.start(), base + m.end(), "band", family="ROC"))
            found = True
        return found
    return site.chunky and _layout_chunks(line, line_no, base, position, out)


def scan_fields(text: str, lines: Lines, out: list[Candidate]) -> None:
    """The 密等 field (「密等及解密條件或保密期限：機密（本件至…解密）」, a telegram's 密等,
    a form's ticked box) and a level right before a declassification phrase."""
    boxes = _CHECKED_BOX_CHAR.search(text) is not None
    for pos in _anchor_positions(text, _FIELD_ANCHORS):
        if pos > 0 and text[pos - 1] in "機机":  # 「機密等級」
            pos -= 1
        m = _ROC_FIELD.match(text, pos)
        if m is None:
            if boxes:
                _checkbox_field(text, pos, lines, out)
            continue
        if _han_before(text, m.start()) or _LIST_AFTER.match(text, m.end("lvl")):
            continue
        if m.group("grade") and text[lines.starts[lines.line_of(m.start())]:m.start()].strip():
            continue  # 等級 is a field label only where it opens the line
        out.append(Candidate("roc_field", _roc_level(m), "ROC", m.group(0), 0.95,
                             lines.line_of(m.start()), m.start(),
                             m.end(), "field", family="FIELD"))
    done = -1
    for pos in _anchor_positions(text, _DECLASS_ANCHORS):
        if pos > 0 and text[pos - 1] in "及或":
            continue  # inside the field label 「密等及解密條件或保密期限」
        line_no = lines.line_of(pos)
        if line_no == done:
            continue
        done = line_no
        start = lines.starts[line_no]
        end = lines.starts[line_no + 1] - 1 if line_no + 1 < len(lines.starts) else len(text)
        for m in _ROC_DECLASS.finditer(text, start, end):
            if _han_before(text, m.start()):
                continue
            out.append(Candidate("roc_declassification", _roc_level(m), "ROC", m.group(0), 0.9,
                                 line_no, m.start(), m.end(), "field", family="FIELD"))
