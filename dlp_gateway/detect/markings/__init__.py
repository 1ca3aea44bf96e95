"""Classification markings: recognise how documents are *marked*, not where a word appears.

The word 機密 is everywhere in ordinary text (商業機密, 國家機密保護法, news about leaks,
training handouts that list the levels). A marking is a level standing in a place and
form that the marking rules prescribe, so detection works on that grammar:

- **ROC**: a banner line that is nothing but a level (絕對機密 / 極機密 / 機密 / 密), possibly
  spaced (「機　密」), bracketed, simplified, with its declassification condition and the
  複製物 copy note; the letter field 「密等及解密條件或保密期限：機密（本件至…解密）」 with a
  value (empty or 普通 does not count); a telegram's 密等 line; a level right before a
  declassification phrase; a bracketed level in a Subject (【機密】); the e-document
  XML's 密等 代碼 (a `Fact` from extraction). A letter's top line laid out with gaps
  (「外交部　　　機密」, 「機密　　　檔號：…」) counts when the level fills a chunk; a form's
  ticked box (「密等：□普通　■機密」) is the field's value; the English equivalent may
  stand beside the level (「機密 CONFIDENTIAL」); reply quoting (「> 機密」) is read
  through, and OCR lines holding only level characters are joined (「極機\n密」).
- **US**: whole-line upper-case banners with caveats (also the pre-2008 「SECRET/NOFORN」,
  「CONFIDENTIAL NOFORN」 forms), portion marks at paragraph start ((S//NF), (S/NF),
  (U//FOUO) = restricted), CUI / FOUO / SBU. A lone upper-case level without caveats counts only in a US document
  (repeated, portion-marked or with a classification authority). **NATO**: COSMIC TOP
  SECRET, NATO SECRET … with ATOMAL/BOHEMIA/BALK. **EU**: RESTREINT UE/EU RESTRICTED …
- **PRC**: 绝密★ / 机密★ / 秘密★ with their period, 密级 fields, 工作秘密 and 内部资料 lines.
  The PRC ladder is one step lower per word: 秘密 = confidential, 机密 = secret.
- **Office labels and classification headers** from facts and message headers.

Mentions are told apart from markings by position (a banner is a whole line; a field
has a label), by quoting (「機密」 in prose is a mention), by example cues (例如, 範例),
by lists (distinct levels on neighbouring lines are a list of levels), by definitions
(a level heading followed by 「指…」 / 「洩漏後…」 or by bulleted rules 「• 應…」), by
title marks (《機密》, also in subjects), by registers (a level in a table's 密等 column,
or among grade cells 一般 / 限閱 / 普通 of an ISMS asset table, is data), by empty check
boxes (「□機密」 is a choice not taken), and by document
context: a text that names three or more distinct levels, or a training, awareness or
news text that names a level twice, is a text *about* classification unless it carries
official-document signals (發文字號 `外政字第1150012345號`, telegram serial
`電報專號：USA1526`, a US classification authority, a PRC 文号), which also raise the
confidence of the markings in it. A paper laid out as a letter, memo or cable (主旨 /
說明 / 擬辦 / SUBJECT …), or whose first and last lines are the same banner, keeps its
edge banners too: the security office's own marked 簽 about a leak case is marked.

Before the grammar runs, each part's text is read as a person sees it
(`textnorm.normalize_markings`: invisible characters dropped, compatibility letters folded,
Cyrillic/Greek look-alikes in marking words mapped, spaced-out banners closed up). A
declassified document (banner struck through, or a 已解密 / 解密 / DECLASSIFIED-with-a-past-date
stamp among its first or last lines) gives `declassified` findings without a level (see
the "declassified" section below).

Layout (one module per marking system, the shared grammar in one place):

- `grammar.py`: the level words of each ladder, declassification conditions, copy notes,
  decoration; `Candidate` (what a scanner proposes), `Lines`, `LineSite` (one line as
  every system's line grammar sees it); the NFKC / line-ending hooks.
- `roc.py`, `prc.py`, `latin.py` (US / NATO / EU / CUI): each system's patterns, its
  `line_candidates(site, ...)` (banner lines, band tokens) and `scan_fields` (label +
  value grammar: 密等, 密级, stars) / portion marks.
- `subjects.py`: levels in a Subject, a file name, a letter's 主旨.
- `office.py`: Office labels, classification headers, document properties
  (`LabelFindings`, `classify_value`); `edoc.py`: the e-document 密等 fact.
- `declassified.py`: struck-through banners and declassification stamps.
- `context.py` (what a part says about itself) and `mentions.py` (`drop_mentions`):
  mention suppression.
- `detector.py`: `MarkingDetector`, the Detector that runs them per part:
  `detector.SYSTEMS = (roc, prc, latin)`, each a `grammar.MarkingSystem`, asked in that
  order about each line (the first that takes a line ends its scan) and for fields.
  A new marking system is a module with `line_candidates` and `scan_fields` added there.

Speed: a segment is only looked at line by line where a cheap trigger expression hits;
label and phrase scans start from literal anchors (a pattern that opens with a literal
is searched for with a fast substring search); NFKC is applied per candidate line, only
where a form it changes is present; the patterns are linear-time (atomic groups,
possessive runs). About 3 ms of CPU per 100 KB of letter text (bench/detect_bench.py).
"""

from __future__ import annotations

from dlp_gateway.detect.markings.detector import MarkingDetector
from dlp_gateway.detect.markings.grammar import normalize
from dlp_gateway.detect.markings.office import DEFAULT_LABEL_LEVELS, classify_value

__all__ = ["DEFAULT_LABEL_LEVELS", "MarkingDetector", "classify_value", "normalize"]
