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

Speed: a segment is only looked at line by line where a cheap trigger expression hits;
label and phrase scans start from literal anchors (a pattern that opens with a literal
is searched for with a fast substring search); NFKC is applied per candidate line, only
where a form it changes is present; the patterns are linear-time (atomic groups,
possessive runs). About 3 ms of CPU per 100 KB of letter text (bench/detect_bench.py).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from dlp_gateway.detect.textnorm import STRIKE_MARKS, normalize_markings, normalize_markings_many
from dlp_gateway.model import Fact, Finding, Inspection, Level, Segment

TS, S, C, R = Level.TOP_SECRET, Level.SECRET, Level.CONFIDENTIAL, Level.RESTRICTED

# --------------------------------------------------------------------------- lexicon

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SP = r"[ \t\u3000]*"  # white space allowed between the characters of a level


def _spaced(chars: Iterable[str]) -> str:
    """`["[機机]", "密"]` -> a pattern allowing blanks between the characters."""
    return _SP.join(chars)


# ROC levels, longest first; simplified variants accepted (the ROC ladder applies).
_ROC_TS = _spaced(["[絕绝]", "[對对]", "[機机]", "密"])
_ROC_S = _spaced(["[極极]", "[機机]", "密"])
_ROC_C = _spaced(["[機机]", "密"])
_ROC_R_LONG = _spaced(["一", "般", "公", "[務务]", "[機机]", "密"])
_ROC_R = "密"
_ROC_LEVEL = (
    rf"(?:(?P<ts>{_ROC_TS})|(?P<s>{_ROC_S})|(?P<rl>{_ROC_R_LONG})|(?P<c>{_ROC_C})|(?P<r>{_ROC_R}))"
    rf"(?:{_SP}件)?"
)
# PRC levels (simplified; traditional look-alikes tolerated).
_PRC_LEVEL = r"(?:(?P<pts>[绝絕]\s*密)|(?P<ps>[机機]\s*密)|(?P<pc>秘\s*密))"
_PRC_PERIOD = (
    r"(?:\s*(?:\d+\s*(?:年|个月|個月)|[一二三四五六七八九十]+\s*年|[长長]\s*期|[启啟]\s*用\s*前"
    r"|[解][密]\s*[时時]\s*[间間][^\n]{0,12}))"
)

_NOT_HAN_BEFORE = rf"(?<![{_HAN}])"
_HAN_CHAR = re.compile(f"[{_HAN}]")
_NOT_HAN_AFTER = rf"(?![{_HAN}])"

_OPEN = "【[(（〔<＜《〈"
_CLOSE = "】])）〕>＞》〉"
_QUOTE_OPEN = "「『“\"‘'"
_QUOTE_CLOSE = "」』”\"’'"
_DECOR = r"[\s【】\[\]()（）〔〕<>＜＞《》〈〉*＊\-—–_=|·•.:：~～#]"

# Declassification conditions (國家機密保護法 art. 11 wording seen on documents).
_DECLASS_INNER = (
    r"(?:[^()（）\n]{0,40}?(?:解\s*密|保\s*密\s*期\s*限[^()（）\n]{0,20})[^()（）\n]{0,10}?)"
)
_DECLASS_BARE = (
    r"(?:(?:本件|本案|本文|附件|保存年限|保密期限)[^()（）\n，。；]{0,30}?(?:解\s*密|年|[屆届]滿))"
)
_DECLASS = rf"(?:[（(]{_DECLASS_INNER}[)）]|{_DECLASS_BARE})"
# In a banner line the opening bracket is taken by the decoration run before it.
_DECLASS_LINE = rf"(?:{_DECLASS_INNER}[)）]|{_DECLASS_BARE})"
_COPY = r"(?:[複复]\s*[製制]\s*物[^\n]{0,24})"
_PAGE = (
    r"(?:第\s*\d+\s*[頁页](?:\s*[,，/、]?\s*共\s*\d+\s*[頁页])?|共\s*\d+\s*[頁页]"
    r"|\d+\s*/\s*\d+|-\s*\d+\s*-|\d+|Page\s+\d+(?:\s+of\s+\d+)?)"
)

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

_PRC_FIELD = re.compile(
    rf"(?P<label>密\s*[级級]){_SP}[:：]?[ \t\u3000]*\n?[ \t\u3000]*"
    rf"(?:{_PRC_LEVEL}|(?P<roc>{_ROC_TS}|{_ROC_S}))(?P<star>\s*[★☆*]?{_PRC_PERIOD}?)"
    rf"{_NOT_HAN_AFTER}"
)
_PRC_STAR = re.compile(
    rf"{_PRC_LEVEL}\s*(?:[★☆](?P<period>{_PRC_PERIOD})?|\*(?P<period2>{_PRC_PERIOD}))"
)
_STAR = re.compile(r"[★☆*]")
_PRC_BANNER_LINE = re.compile(rf"{_DECOR}*{_PRC_LEVEL}(?:\s*[★☆])?(?:{_PRC_PERIOD})?{_DECOR}*")
_PRC_RESTRICTED_WORD = r"(?:工\s*作\s*秘\s*密|[内內]\s*部\s*[资資]\s*料)"
_PRC_RESTRICTED_TAIL = (
    r"(?:[\s,，、;；]*(?:注意保存|不得外[传傳]|严禁外传|[请請]勿外[传傳]|妥善保管|[内內]部使用"
    r"|注意保密|[严嚴]禁[复複][制製]|用[后後][收]回))*"
)
_PRC_RESTRICTED_LINE = re.compile(
    rf"{_DECOR}*(?P<word>{_PRC_RESTRICTED_WORD})(?:\s*[★☆])?{_PRC_RESTRICTED_TAIL}{_DECOR}*"
)
_PRC_RESTRICTED_BAND = re.compile(
    rf"{_NOT_HAN_BEFORE}(?P<word>{_PRC_RESTRICTED_WORD}){_PRC_RESTRICTED_TAIL}{_NOT_HAN_AFTER}"
)

# US / NATO banners: upper case, whole line (or a chunk of a band line set off by 2+ blanks).
# Caveat words: one unambiguous way to read "//REL TO USA, TWN//NOFORN" (no run of the
# character class can also match the separators), held in an atomic group so that a line
# that fails later does not make the engine try every split: linear time on any input.
_CAVEAT = r"[A-Z0-9]+(?:(?:, ?| |[./&-])[A-Z0-9]+(?![a-z]))*"
_US_CAVEATS = rf"(?>(?:[ \t]*//[ \t]*{_CAVEAT})*)"
# Before the 2008 register, caveats followed a single slash or a blank: 「SECRET/NOFORN」,
# 「CONFIDENTIAL NOFORN」. Only the dissemination controls themselves are accepted that way.
_OLD_CONTROLS = r"(?:NOFORN|NOCONTRACT|ORCON|PROPIN|WNINTEL|NODIS|EXDIS|LIMDIS|STADIS)(?![A-Za-z])"
_US_BANNER_CAVEATS = rf"(?>(?:[ \t]*//[ \t]*{_CAVEAT}|(?:[ \t]*/[ \t]*|[ \t]+){_OLD_CONTROLS})*)"
_PORTION_CAVEATS = r"(?://[A-Z0-9][A-Z0-9 ,./&-]*|/(?:NF|NOFORN|OC|ORCON|PR|PROPIN|REL[A-Z ,]*|FOUO|SBU|LES))"
_US_WORDS = {"TOPSECRET": TS, "SECRET": S, "CONFIDENTIAL": C}
_NATO_WORDS = {"COSMIC TOP SECRET": TS, "NATO SECRET": S, "NATO CONFIDENTIAL": C, "NATO RESTRICTED": R}
_NATO_SUFFIX = r"(?>(?:[ \t]*[-–/]*[ \t]*(?:ATOMAL|BOHEMIA|BALK))*)"
# Cables spell the banner out: "S E C R E T SECTION 01 OF 02 TAIPEI 001234".
_US_BANNER = (
    r"(?P<us>TOP\s+SECRET|SECRET|CONFIDENTIAL|T ?O ?P {1,3}S E C R E T|S E C R E T|C O N F I D E N T I A L)"
    rf"(?P<caveats>{_US_BANNER_CAVEATS})"
)
_CABLE_TAIL = r"(?P<cable>(?:[ \t]+SECTION[ \t]+\d+[ \t]+OF[ \t]+\d+)?[ \t]+[A-Z]+(?: [A-Z]+){0,3}[ \t]+\d{3,7})?"
_LABEL_PREFIX = r"(?:(?:CLASSIFICATION|Classification)\s*:\s*)?"
_NATO_BANNER = (
    r"(?P<nato>COSMIC\s+TOP\s+SECRET|NATO\s+SECRET|NATO\s+CONFIDENTIAL|NATO\s+RESTRICTED)"
    rf"(?P<suffix>{_NATO_SUFFIX})(?:{_US_CAVEATS})(?>(?:[ \t]+[-–][ \t]+{_CAVEAT}(?=[ \t]*$|\s\s|\t|[\])]))?)"
)
_CUI_BANNER = (
    rf"(?P<cui>CUI{_US_CAVEATS}|CONTROLLED\s+UNCLASSIFIED\s+INFORMATION"
    r"|(?:UNCLASSIFIED\s*//\s*)?(?:FOR\s+OFFICIAL\s+USE\s+ONLY|FOUO|SBU|SENSITIVE\s+BUT\s+UNCLASSIFIED"
    rf"|LIMITED\s+OFFICIAL\s+USE){_US_CAVEATS})"
)
# EU classified information (a mission to the EU meets it): 「RESTREINT UE/EU RESTRICTED」.
_EU_BANNER = (
    r"(?P<eu>(?:TR[ÈE]S\s+SECRET\s+UE|SECRET\s+UE|CONFIDENTIEL\s+UE|RESTREINT\s+UE)\s*/\s*"
    r"EU\s+(?:TOP\s+SECRET|SECRET|CONFIDENTIAL|RESTRICTED)|EU\s+(?:TOP\s+SECRET|SECRET|CONFIDENTIAL|RESTRICTED))"
)
_EU_WORDS = {"TOP SECRET": TS, "SECRET": S, "CONFIDENTIAL": C, "RESTRICTED": R}
_LATIN_DECOR = r"[\s\[\]()*=_\-–—|.]"
_LATIN_PAGE = r"(?:(?:Page|PAGE)\s+\d+(?:\s+(?:of|OF)\s+\d+)?|\d+\s*/\s*\d+|-\s*\d+\s*-|\d+)"
_LATIN_BANNER_LINE = re.compile(
    rf"{_LATIN_DECOR}*+{_LABEL_PREFIX}(?:{_NATO_BANNER}|{_EU_BANNER}|{_US_BANNER}{_CABLE_TAIL}|{_CUI_BANNER})"
    rf"{_LATIN_DECOR}*+(?:{_LATIN_PAGE})?{_LATIN_DECOR}*+"
)
_LATIN_BAND_CHUNK = re.compile(
    rf"(?:^|(?<=\s\s)|(?<=\t))[\[(]?{_LABEL_PREFIX}(?:{_NATO_BANNER}|{_EU_BANNER}|{_US_BANNER}{_CABLE_TAIL}|{_CUI_BANNER})[\])]?(?=\s\s|\t|\s*$)",
    re.M,
)
# Portion marks at paragraph start: (TS), (S//NF), (C), (U), (CUI), (U//FOUO), NATO (NS).
_PORTION = re.compile(
    r"^[ \t]*(?:\d{1,2}\.|[a-z]\.|[-•*])?[ \t]*\((?P<mark>TS|S|C|U|CUI|FOUO|SBU|CTS|NS|NC|NR|NU)(?P<caveats>"
    + _PORTION_CAVEATS + r")?\)"
    r"[ \t]+(?P<rest>\S[^\n]{0,60})",
    re.M,
)
_PORTION_LEVEL: dict[str, tuple[Level | None, str]] = {
    "TS": (TS, "US"), "S": (S, "US"), "C": (C, "US"), "U": (None, "US"),
    "CUI": (R, "US"), "FOUO": (R, "US"), "SBU": (R, "US"),
    "CTS": (TS, "NATO"), "NS": (S, "NATO"), "NC": (C, "NATO"), "NR": (R, "NATO"), "NU": (None, "NATO"),
}
# (U//FOUO), (U//SBU), (U//CUI): unclassified but controlled, as the FOUO banner.
_CONTROLLED_CAVEAT = re.compile(r"//\s*(?:FOUO|SBU|LES|CUI|SENSITIVE)")


def _portion_level(mark: str, caveats: str) -> tuple[Level | None, str]:
    level, system = _PORTION_LEVEL[mark]
    if level is None and mark == "U" and caveats and _CONTROLLED_CAVEAT.match(caveats):
        return R, system
    return level, system


_ENUM_START = re.compile(r"^[ \t]*\((?:A|B|D|E)\)[ \t]", re.M)

# Subject lines: 【機密】 anywhere, a level as first word, US portion mark or banner first.
_SUBJECT_PREFIX = re.compile(r"^(?:\s*(?:RE|FW|FWD|AW|WG|TR|回覆|回复|轉寄|转发|答覆)\s*[:：])+", re.I)
# 《機密》 / 〈機密〉 in a subject are title marks (a book, a film, a news headline).
_SUBJECT_OPEN = _OPEN.replace("《", "").replace("〈", "")
_SUBJECT_CLOSE = _CLOSE.replace("》", "").replace("〉", "")
_SUBJECT_ROC = re.compile(
    rf"(?:(?P<ob>[{re.escape(_SUBJECT_OPEN)}])|^)\s*{_ROC_LEVEL}"
    rf"(?(ob)(?:文件|資料|资料|電報|电报|公文)?\s*[{re.escape(_SUBJECT_CLOSE)}]|(?:{_SP}{_DECLASS})?\s*[:：\-－—|｜/／_])"
)
_SUBJECT_PRC = re.compile(
    rf"[{re.escape(_SUBJECT_OPEN)}]\s*(?:{_PRC_LEVEL}|(?P<prcr>{_PRC_RESTRICTED_WORD}))\s*[★☆]?\s*[{re.escape(_SUBJECT_CLOSE)}]"
)
_SUBJECT_LATIN = re.compile(
    rf"^\s*(?:\((?P<mark>TS|S|C|U|CUI|FOUO|SBU|CTS|NS|NC|NR)(?P<pcaveats>{_PORTION_CAVEATS})?\)"
    rf"|(?P<ob>\[)?(?:{_NATO_BANNER}|{_EU_BANNER}|{_US_BANNER}|{_CUI_BANNER})(?(ob)\]|\s*(?:[:\-–|]|$)))"
)
# Subject lines inside a body (a letter's 主旨, a forwarded mail's Subject:). One regex per
# label: a pattern that opens with a literal is scanned for with a fast substring search,
# an alternation is tried at every position (ten times slower on 100 KB).
_BODY_SUBJECT_LINES = tuple(re.compile(p + r"[ \t\u3000]*[:：][ \t\u3000]*(?P<rest>[^\n]+)") for p in (
    r"主[ \t\u3000]*旨", r"主[ \t\u3000]*題", r"Subject", r"SUBJECT"))

# Official-document signals: they tell a real document from a text about documents.
_DOC_NUMBER = re.compile(r"字\s*第\s*\d{9,12}[A-Za-z0-9]*\s*[號号]")
# Telegram serials: 「電報專號：USA1526」, also 「來電號碼：第1234號」-style headers.
_TELEGRAM_SERIAL = re.compile(
    r"(?:[電电][ \t]*[報报]|[來来去][ \t]*[電电])[ \t]*(?:[專专][ \t]*[號号]|[號号][ \t]*[碼码])[ \t]*[:：]?[ \t]*"
    r"(?:[A-Z]{2,5}[ \t]*-?[ \t]*\d{2,6}|第?[ \t]*\d{2,8}[ \t]*[號号]?)"
)
_US_AUTHORITY = re.compile(r"^\s*(?:Classified\s+By|Declassify\s+On|Derived\s+From)\s*:", re.M | re.I)
_PRC_DOC_NUMBER = re.compile(r"[〔\[［(（]\s*20\d\d\s*[〕\]］)）]\s*\d{1,5}\s*号")

# Texts about classification: they name several distinct levels.
_LATIN_MENTION = re.compile(r"(?:TOP SECRET|SECRET|CONFIDENTIAL)(?![A-Z])")  # on upper-cased text
# Training and awareness material, and leak-case reporting. General news words (記者,
# 報導, Reuters) are left out on purpose: classified analyses quote the news all the time.
_TOPICAL_CUES = (
    "宣導", "宣导", "講習", "讲习", "教育訓練", "教育训练", "培訓", "培训", "教材", "課程", "课程",
    "測驗", "测验", "保密教育", "洩密案", "泄密案", "起訴", "起诉", "判決", "判决", "地檢署", "检察院",
    "ecurity awareness", "raining course", "quiz", "ccording to court",
)
_LATIN_MENTION_WORDS = ("SECRET", "Secret", "secret", "CONFIDENTIAL", "Confidential", "confidential")
_US_AUTHORITY_WORDS = ("lassified By", "LASSIFIED BY", "lassified by", "eclassify On", "ECLASSIFY ON",
                       "eclassify on", "erived From", "ERIVED FROM")
_EXAMPLE_CUE = re.compile(r"例如|範例|范例|舉例|举例|示例|例\s*[:：]|寫法|写法|格式|標示為|标示为|標註|标注|應標示|应标示|e\.g\.|for example|such as", re.I)
_DISCLAIMER_CUE = re.compile(
    r"intended|recipient|privileged|e-?mail|disclos|notify the sender|prohibited|attachments?", re.I
)

# Cheap trigger: a segment without any of these has no marking.
_TRIGGER = re.compile(
    r"密|★|SECRET|CONFIDENTIAL|S E C R E T|C O N F I D|RESTRICTED|CUI|FOUO|SBU|OFFICIAL USE|UNCLASSIFIED|内部|內部|\((?:TS|S|C|U|CTS|NS|NC|NR)[)/]"
    r"|ＳＥＣ|ＣＯＮ|ＣＵＩ|ＲＥＳ|ＦＯＵ|（Ｔ|（Ｓ|（Ｃ|（Ｎ"  # full-width Latin, normalised per line
)
_LATIN_TRIGGER = re.compile(r"SECRET|CONFIDENTIAL|S E C R E T|C O N F I D|RESTRICTED|CUI|FOUO|SBU|OFFICIAL USE|UNCLASSIFIED")

# Script detection for bare 机密/機密: traditional-only vs simplified-only common characters.
_TRAD_ONLY = "國這說們為發會關於與對時來經過動實現應該進區書長問門見車東開學從當點還體將給沒"
_SIMP_ONLY = "国这说们为发会关于与对时来经过动实现应该进区书长问门见车东开学从当点还体将给没"
_ROC_YEAR = re.compile(r"(?<!\d)1[0-2]\d[ \t]*年")
_PRC_YEAR = re.compile(r"(?<!\d)20\d\d[ \t]*年")
_TRAD_RE = re.compile(f"[{_TRAD_ONLY}]")
_SIMP_RE = re.compile(f"[{_SIMP_ONLY}]")

_BAND_KINDS = frozenset({"header_band", "footer_band", "header", "footer"})
_SUBJECT_KINDS = frozenset({"subject", "filename"})
_BANNER_START = re.compile(
    rf"(?:{_DECOR}|[［］])*"
    r"(?:[複复絕绝極极機机秘内內工A-Z\uff21-\uff3a]|一(?=般)|密(?![ \t\u3000]*[等級级碼码切度])"
    r"|\d{1,2}\.|[a-z]\.)"
)
# Full-width Latin letters and digits, full-width square brackets, compatibility ideographs:
# the forms NFKC changes that the line grammar does not already accept as they are.
_NEEDS_NFKC = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff3b\uff3d\uff0f\uf900-\ufaff]")
# OCR breaks a stamped, widely spaced level into lines (「極機\n密」): lines made only of
# level characters are joined back.
_LEVEL_CHARS = "絕绝對对極极機机密"
_OCR_LEVEL_BREAK = re.compile(
    rf"(?m)^([ \t\u3000]*[{_LEVEL_CHARS}][{_LEVEL_CHARS} \t\u3000]*)\n"
    rf"(?=[ \t\u3000]*[{_LEVEL_CHARS}][{_LEVEL_CHARS} \t\u3000]*$)"
)
_MAX_BANNER_CHARS = 80  # longer lines are prose, never a banner
_EDGE_LINES = 3  # first/last non-empty lines of a page or body where banners stand
_LIST_WINDOW = 6  # lines: distinct banner levels this close together form a list of levels
_MAX_FINDINGS_PER_PART = 25
_EVIDENCE_CHARS = 120


def _roc_level(m: re.Match[str]) -> Level:
    if m.group("ts"):
        return TS
    if m.group("s"):
        return S
    if m.group("c"):
        return C
    return R  # rl / r


def _prc_level(m: re.Match[str]) -> Level:
    if m.group("pts"):
        return TS
    if m.group("ps"):
        return S
    return C


def _latin_level(m: re.Match[str]) -> tuple[Level, str]:
    groups = m.groupdict()
    if groups.get("nato"):
        return _NATO_WORDS[re.sub(r"\s+", " ", groups["nato"])], "NATO"
    if groups.get("eu"):
        english = re.sub(r"\s+", " ", groups["eu"]).rsplit("EU ", 1)[1]
        return _EU_WORDS[english], "EU"
    if groups.get("us"):
        return _US_WORDS[re.sub(r"\s+", "", groups["us"])], "US"
    return R, "US"


def normalize(text: str) -> str:
    """NFKC (full-width forms, ideographic space, compatibility ideographs) and LF lines."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return _lf(text)


def _lf(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\xa0" in text:  # HTML mail lays a letter's top line out with &nbsp;
        text = text.replace("\xa0", " ")
    return text


def _han_before(text: str, start: int) -> bool:
    return start > 0 and _HAN_CHAR.match(text, start - 1) is not None


def _evidence(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _EVIDENCE_CHARS else text[: _EVIDENCE_CHARS - 1] + "…"


# --------------------------------------------------------------------------- context


@dataclass
class _PartContext:
    """What the whole part (file or body) says about itself; computed once, lazily."""

    text: str
    mention_counts: dict[str, int] = field(default_factory=dict)

    @cached_property
    def official(self) -> bool:
        """An official document: 發文字號, telegram serial, US classification authority, PRC 文号."""
        text = self.text
        return bool(
            ("字" in text and _DOC_NUMBER.search(text))
            or (any(w in text for w in ("專號", "专号", "號碼", "号码")) and _TELEGRAM_SERIAL.search(text))
            or (any(w in text for w in _US_AUTHORITY_WORDS) and _US_AUTHORITY.search(text))
            or ("号" in text and _PRC_DOC_NUMBER.search(text))
        )

    @cached_property
    def structured(self) -> bool:
        """Laid out as a letter, memo or cable (two of 主旨 / 說明 / 擬辦 / 受文者 / 簽 於 /
        SUBJECT / MEMORANDUM …): a security office's own marked 簽 about a leak case or a
        training plan is still a marked document, though it talks about classification."""
        if self.official:
            return True
        labels: set[str] = set()
        for m in _STRUCTURE.finditer(self.text):
            labels.add(re.sub(r"[ \t\u3000]", "", m.group(1))[:2].upper())
            if len(labels) >= 2:
                return True
        return False

    @cached_property
    def about_roc(self) -> bool:
        """Names >= 3 distinct ROC levels: a text about classification."""
        return len(_roc_mentions(self.text)) >= 3

    @cached_property
    def about_latin(self) -> bool:
        text = self.text
        if not any(w in text for w in _LATIN_MENTION_WORDS):
            return False
        return len(set(_LATIN_MENTION.findall(text.upper()))) >= 3

    @cached_property
    def about_prc(self) -> bool:
        return len(_prc_mentions(self.text)) >= 3

    @cached_property
    def topical(self) -> bool:
        """Words of training material, awareness campaigns, news and court reports."""
        return any(cue in self.text for cue in _TOPICAL_CUES)

    def mentions(self, system: str) -> int:
        """Memoised: the filter asks once per candidate."""
        if system not in self.mention_counts:
            self.mention_counts[system] = self._count_mentions(system)
        return self.mention_counts[system]

    def _count_mentions(self, system: str) -> int:
        text = self.text
        if system == "ROC":
            return text.count("機密") + text.count("机密")
        if system == "PRC":
            return text.count("秘密") + text.count("机密") + text.count("绝密")
        return len(_LATIN_MENTION.findall(text.upper())) if any(w in text for w in _LATIN_MENTION_WORDS) else 0

    @cached_property
    def prc_script(self) -> bool:
        """Simplified script or PRC document signals dominate, and no ROC document number."""
        text = self.text
        if "字" in text and _DOC_NUMBER.search(text):
            return False
        if "★" in text or ("号" in text and _PRC_DOC_NUMBER.search(text)):
            return True
        if "年" in text:  # ROC years have three digits (115年), PRC ones four (2026年)
            roc_years, prc_years = len(_ROC_YEAR.findall(text)), len(_PRC_YEAR.findall(text))
            if roc_years != prc_years:
                return prc_years > roc_years
        return len(_SIMP_RE.findall(text)) > len(_TRAD_RE.findall(text))


_STRUCTURE = re.compile(
    r"^[ \t\u3000]*(主[ \t\u3000]*旨|[說说][ \t\u3000]*明|擬[ \t\u3000]*[辦办]|受[ \t\u3000]*文[ \t\u3000]*者"
    r"|[發发][ \t\u3000]*文[ \t\u3000]*日[ \t\u3000]*期|簽[ \t\u3000]+於|SUBJECT|MEMORANDUM|REF|TAGS)[ \t\u3000]*[:：]?",
    re.M)
_NO_CONTEXT = _PartContext("")


def _part_context(text: str) -> _PartContext:
    return _PartContext(text)


def _roc_mentions(text: str) -> set[str]:
    """Which ROC levels the text names (as words, anywhere): counted with fast substring search."""
    ts = text.count("絕對機密") + text.count("绝对机密")
    s = text.count("極機密") + text.count("极机密")
    general = text.count("一般公務機密") + text.count("一般公务机密")
    c = text.count("機密") + text.count("机密") - ts - s - general
    return {name for name, n in (("ts", ts), ("s", s), ("c", c)) if n > 0}


def _prc_mentions(text: str) -> set[str]:
    ts = text.count("绝密") + text.count("絕密")
    s = text.count("机密") + text.count("機密") - text.count("极机密") - text.count("绝对机密") - text.count("極機密") - text.count("絕對機密")
    c = text.count("秘密") - text.count("工作秘密") - text.count("营业秘密") - text.count("營業秘密")
    return {name for name, n in (("ts", ts), ("s", s), ("c", c)) if n > 0}


# --------------------------------------------------------------------------- candidates


@dataclass(slots=True)
class _Candidate:
    rule: str
    level: Level
    system: str
    evidence: str
    confidence: float
    line: int  # line index within the segment (for the list-of-levels check)
    start: int  # offsets in the normalised segment text
    end: int
    position: str  # band | edge | middle | field | subject | fact
    tags: tuple[str, ...] = ()
    family: str = ""  # which candidates may form a list of levels together


@dataclass(slots=True)
class _Lines:
    text: str
    starts: list[int] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    edge: set[int] = field(default_factory=set)
    register: tuple[list[int], list[int]] | None = None  # table rows: 密等 headings, 普通 cells

    @classmethod
    def of(cls, text: str) -> _Lines:
        lines = text.split("\n")
        starts, pos = [], 0
        for line in lines:
            starts.append(pos)
            pos += len(line) + 1
        nonempty = [i for i, line in enumerate(lines) if line.strip()]
        edge = set(nonempty[:_EDGE_LINES]) | set(nonempty[-_EDGE_LINES:])
        return cls(text, starts, lines, edge)

    def line_of(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1


_QUOTE_REACH = 200  # characters


def _quoted(text: str, start: int, end: int) -> bool:
    """A marking inside 「…」, 『…』, “…” or "…" on its line is quoted prose, not a marking.

    Only _QUOTE_REACH characters either side are looked at, so a page-long line with
    thousands of candidates costs linear time, not quadratic."""
    low = max(0, start - _QUOTE_REACH)
    line_start = text.rfind("\n", low, start) + 1 or low
    line_end = text.find("\n", end, end + _QUOTE_REACH)
    head = text[line_start:start]
    tail = text[end:line_end if line_end >= 0 else min(len(text), end + _QUOTE_REACH)]
    for open_, close in (("「", "」"), ("『", "』"), ("“", "”"), ("‘", "’")):
        if head.count(open_) > head.count(close) and close in tail:
            return True
    return head.count('"') % 2 == 1 and '"' in tail


def _example(lines: _Lines, line_no: int, start: int) -> bool:
    """An example cue earlier on the line, or ending the line just before (「範例：」)."""
    line_start = max(lines.starts[line_no], start - _QUOTE_REACH)
    head = lines.text[line_start:start]
    if _EXAMPLE_CUE.search(head):
        return True
    if line_no == 0:
        return False
    previous = lines.lines[line_no - 1].rstrip()
    # 「範例：」 introducing the next line; not a cue word somewhere in the previous sentence
    return previous.endswith((":", "：")) and bool(_EXAMPLE_CUE.search(previous[-20:]))


_DEFINITION = re.compile(
    r"[ \t\u3000]*(?:[係是意乃]指|指(?![示導导派定揮挥出正])|適用於|适用于|定義為|定义为|洩漏後|泄露后|泄漏后|means\b|refers to"
    r"|(?:is )?defined as|[Ii]nformation (?:whose|that|the unauthorized))")


# A level heading followed by bulleted handling rules (「機密」 / 「• 應存放於保險櫃」) is a
# training slide's heading; 應邀 / 應美方… (at the invitation of) opens ordinary prose.
_RULES_BULLET = re.compile(
    r"[ \t\u3000]*(?:[•·‧●○◆■□▪\-*–]|\d{1,2}[.、)）]|[（(]?[一二三四五六七八九十]{1,2}[、)）])[ \t\u3000]*"
    r"(?:應(?!邀|[美日英法德韓歐中][^\n]{0,3}方)|不得|須|必須|禁止|嚴禁|严禁|請勿|请勿|勿|应(?!邀)|不可)")


def _defined_next(lines: _Lines, line_no: int) -> bool:
    """A level heading followed by its definition (「機密」 / 「指洩漏後…」) or by bulleted
    handling rules (「• 應存放於保險櫃」) is a handout's term."""
    for following in lines.lines[line_no + 1:line_no + 3]:
        if following.strip():
            return _DEFINITION.match(following) is not None or _RULES_BULLET.match(following) is not None
    return False


def _position(kind: str, lines: _Lines, line_no: int) -> str:
    if kind in _BAND_KINDS:
        return "band"
    return "edge" if line_no in lines.edge else "middle"


_BASE_CONFIDENCE = {"band": 0.9, "edge": 0.85, "middle": 0.7}


def _scan_lines(segment: Segment, text: str, lines: _Lines, ctx_of, out: list[_Candidate]) -> None:
    """Whole-line grammar (banners, band tokens, portion marks) on the lines a trigger hit."""
    kind = segment.kind
    band = kind in _BAND_KINDS
    portions: list[tuple[int, re.Match[str]]] = []
    us_documents: dict[str, bool] = {}

    def us_document(word: str) -> bool:  # once per segment, not once per banner line
        if word not in us_documents:
            us_documents[word] = _us_document(text, ctx_of, word)
        return us_documents[word]

    # A lone SECRET / TOP SECRET as the very first line of a mail body or page is the
    # banner of a message marked only at its top (short classified e-mails often are).
    first_line = next((i for i, ln in enumerate(lines.lines) if ln.strip()), -1)
    opens_text = kind in ("body", "page", "ocr")

    for line_no in _hit_lines(text, lines):
        raw = lines.lines[line_no]
        line = raw.strip()
        quote = 0
        if line.startswith(">"):  # a reply quoting the marked mail: 「> 機密」, 「>> SECRET//NOFORN」
            quote = len(line) - len(line := _REPLY_QUOTE.sub("", line, count=1))
        if "\t" in line and _table_cells(line, line_no, lines, kind, out):
            continue
        chunky = (not band and len(line) <= _MAX_BANNER_CHARS
                  and ("\u3000" in line or "\t" in line or "  " in line)
                  and (line_no in lines.edge or _block_start(lines, line_no)))
        if not line or not (band or chunky or _BANNER_START.match(line)):
            continue  # prose: a banner or portion mark would open the line
        if len(line) > _MAX_BANNER_CHARS:  # a long paragraph: only a portion mark can open it
            if "(" in line[:6] or "（" in line[:6]:
                pm = _PORTION.match(normalize(line[:40]))
                if pm:
                    portions.append((line_no, pm))
            continue
        if _NEEDS_NFKC.search(line):
            line = normalize(line)
        base = lines.starts[line_no] + (len(raw) - len(raw.lstrip())) + quote
        position = _position(kind, lines, line_no)
        conf = _BASE_CONFIDENCE[position]
        # ROC banner: the whole line is a level (+ declassification, copy note, page number)
        m = _roc_banner_match(line)
        if m:
            level = _roc_level(m)
            system, rule = "ROC", "roc_banner"
            if level == C and not (m.group("declass") or m.group("copy") or m.group("copy0")) and _is_simplified_jimi(m) and ctx_of().prc_script:
                level, system, rule = S, "PRC", "prc_banner"
            tags = ("copy",) if m.group("copy") or m.group("copy0") else ()
            if m.group("declass"):
                conf = max(conf, 0.9)
            out.append(_Candidate(rule, level, system, line, conf, line_no, base, base + len(line),
                                  position, tags, family=system))
            continue
        if band:
            found = False
            for m in _ROC_BAND_TOKEN.finditer(line):
                if (_quoted(line, m.start(), m.end()) or _spaced_prose(line, m.start(), m.end())
                        or _unticked(line, m.start())):
                    continue
                out.append(_Candidate("roc_banner", _roc_level(m), "ROC", line, 0.88, line_no,
                                      base + m.start(), base + m.end(), "band", family="ROC"))
                found = True
            if found:
                continue
        elif chunky and _layout_chunks(line, line_no, base, position, out):
            continue
        # PRC banner without star (only in PRC documents) and 工作秘密 / 内部资料 lines
        m = _PRC_BANNER_LINE.fullmatch(line)
        if m and ("★" in line or "☆" in line or ctx_of().prc_script):
            out.append(_Candidate("prc_banner", _prc_level(m), "PRC", line, conf, line_no, base,
                                  base + len(line), position, family="PRC"))
            continue
        m = _PRC_RESTRICTED_LINE.fullmatch(line) or (
            _PRC_RESTRICTED_BAND.search(line) if band else None
        )
        if m and _is_simplified_restricted(m.group("word")):
            out.append(_Candidate("prc_restricted", R, "PRC", line, conf, line_no, base,
                                  base + len(line), position, family="PRC-R"))
            continue
        # US / NATO / CUI banners (upper case, whole line or band chunk)
        if _LATIN_TRIGGER.search(line):
            m = _LATIN_BANNER_LINE.fullmatch(line)
            matches = [m] if m else (list(_LATIN_BAND_CHUNK.finditer(line)) if band else [])
            for m in matches:
                level, system = _latin_level(m)
                if system == "US" and level != R and not band and _disclaimer_follows(lines, line_no):
                    continue
                if (system == "US" and level != R and not band and not m.groupdict().get("caveats")
                        and not m.groupdict().get("cable") and not _LABEL_PREFIX_RE.match(line)
                        and not us_document("CONFIDENTIAL" if level == C else "SECRET")
                        and not (opens_text and line_no == first_line and level >= S
                                 and not _caps_headings_elsewhere(lines.lines, line_no))):
                    continue  # a lone CONFIDENTIAL heading, or TOP SECRET inside a text, is not a US banner
                rule = ("cui_banner" if m.groupdict().get("cui")
                        else {"NATO": "nato_banner", "EU": "eu_banner"}.get(system, "us_banner"))
                if m.groupdict().get("cui") and not band and position == "middle" and ctx_of().about_latin:
                    continue
                out.append(_Candidate(rule, level, system, line, conf, line_no, base, base + len(line),
                                      position, family="LATIN" if rule != "cui_banner" else "CUI"))
            if matches:
                continue
        if "(" in line[:6]:
            pm = _PORTION.match(line)
            if pm:
                portions.append((line_no, pm))
    _portion_candidates(text, lines, portions, out)


_CAPS_HEADING = re.compile(r"[A-Z][A-Z0-9&'’ -]{2,40}")


def _caps_headings_elsewhere(lines: list[str], line_no: int) -> bool:
    """Another all-capitals heading line (「SPORTS DAY」): the top line is one section title
    among several, as in a newsletter, not a banner."""
    for index, raw in enumerate(lines):
        line = raw.strip()
        if index != line_no and _CAPS_HEADING.fullmatch(line) and not _LATIN_TRIGGER.search(line):
            return True
    return False


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


def _table_cells(line: str, line_no: int, lines: _Lines, kind: str, out: list[_Candidate]) -> bool:
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
            out.append(_Candidate("roc_banner", _roc_level(m), "ROC", cell, _BASE_CONFIDENCE[position] - 0.05,
                                  line_no, base, base + len(lines.lines[line_no]), position, tags, family="ROC"))
            found = True
    return found


_WORD_BEFORE_MI = frozenset("保秘祕親亲嚴严緊紧精周細细")  # 保密, 秘密, 親密 … spaced out
_REPLY_QUOTE = re.compile(r"^(?:>[ \t]?)+")
_LAYOUT_GAP = re.compile(r"[ \t]{2,}|[\t\u3000]+")


def _block_start(lines: _Lines, line_no: int) -> bool:
    """The first line of a block: after a blank line or a separator (a pasted letter's top)."""
    return line_no == 0 or not lines.lines[line_no - 1].strip(" \t\u3000-=_*~—")


def _layout_chunks(line: str, line_no: int, base: int, position: str, out: list[_Candidate]) -> bool:
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
        out.append(_Candidate("roc_banner", level, "ROC", line, _BASE_CONFIDENCE[position] - 0.05, line_no,
                              base, base + len(line), position, family="ROC"))
        found = True
    return found


_REGISTER_HEADING = re.compile(r"[ \t\u3000]*(?:[機机]?密[ \t\u3000]*等(?:[ \t\u3000]*[級级])?|密[ \t\u3000]*[級级]|等[ \t\u3000]*[級级])[ \t\u3000]*")
_REGISTER_LOOKBACK = 60  # rows


def _register(lines: _Lines, line_no: int) -> bool:
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


def _hit_lines(text: str, lines: _Lines) -> list[int]:
    """Line numbers where the trigger hits, one regex search per hit line (not per hit)."""
    out: list[int] = []
    pos = 0
    search = _TRIGGER.search
    while (m := search(text, pos)) is not None:
        line_no = lines.line_of(m.start())
        out.append(line_no)
        if line_no + 1 >= len(lines.starts):
            break
        pos = lines.starts[line_no + 1]
    return out


def _is_simplified_jimi(m: re.Match[str]) -> bool:
    return "机" in (m.group("c") or "")


def _is_simplified_restricted(word: str) -> bool:
    # 工作秘密 is PRC by its wording; 内部资料 only counts in simplified script, since
    # 內部資料 is an everyday label of Taiwanese company papers.
    return "工" in word or ("资" in word)


_US_PORTION_ANY = re.compile(r"^[ \t]*(?:\d{1,2}\.[ \t]*)?\((?:TS|S|C|U)(?:/{1,2}[^)\n]*)?\)[ \t]", re.M)


_LABEL_PREFIX_RE = re.compile(r"\W*Classification\s*:", re.I)


def _us_document(text: str, ctx_of: Callable[[], _PartContext], word: str) -> bool:
    """US classified documents repeat the banner top and bottom, mark portions, or name an authority."""
    return (text.count(word) >= 2 or bool(_US_PORTION_ANY.search(text))
            or ctx_of().official)


def _disclaimer_follows(lines: _Lines, line_no: int) -> bool:
    after = " ".join(lines.lines[line_no + 1:line_no + 3])
    return bool(_DISCLAIMER_CUE.search(after))


def _portion_candidates(text: str, lines: _Lines, portions: list[tuple[int, re.Match[str]]],
                        out: list[_Candidate]) -> None:
    """Portion marks count when the text is portion-marked, not a lettered list."""
    if not portions:
        return
    lettered = bool(_ENUM_START.search(text))
    for line_no, pm in portions:
        mark, caveats = pm.group("mark"), pm.group("caveats") or ""
        level, system = _portion_level(mark, caveats)
        if level is None:
            continue
        ambiguous = mark in ("S", "C") and not caveats
        if ambiguous and (lettered or len(portions) < 2 or pm.group("rest")[:1].isdigit()
                          or pm.group("rest").lower().startswith("copyright")):
            continue
        start = lines.starts[line_no]
        out.append(_Candidate("nato_portion" if system == "NATO" else "us_portion", level, system,
                              pm.group(0).strip(), 0.7 if ambiguous else 0.85, line_no, start,
                              start + len(pm.group(0)), "portion", family="PORTION"))


def _anchor_positions(text: str, patterns: tuple[re.Pattern[str], ...]) -> list[int]:
    """Start offsets of every pattern's matches, in text order."""
    if len(patterns) == 1:
        return [m.start() for m in patterns[0].finditer(text)]
    return sorted({m.start() for pattern in patterns for m in pattern.finditer(text)})


def _line_openers(text: str, patterns: tuple[re.Pattern[str], ...]) -> list[re.Match[str]]:
    """Matches of the patterns that open their line (only blanks before them)."""
    out = []
    for pattern in patterns:
        for m in pattern.finditer(text):
            line_start = text.rfind("\n", 0, m.start()) + 1
            if not text[line_start:m.start()].strip():
                out.append(m)
    return sorted(out, key=lambda m: m.start())


def _checkbox_field(text: str, pos: int, lines: _Lines, out: list[_Candidate]) -> None:
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
        out.append(_Candidate("roc_field", _roc_level(m), "ROC", text[pos:m.end()], 0.9,
                              lines.line_of(m.start()), pos, m.end(), "field", family="CHECKBOX"))


def _scan_fields(text: str, lines: _Lines, out: list[_Candidate]) -> None:
    """Label + value grammar: the 密等 field, PRC 密级, and levels before a declassification phrase."""
    if "密" not in text:
        return
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
        out.append(_Candidate("roc_field", _roc_level(m), "ROC", m.group(0), 0.95,
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
            out.append(_Candidate("roc_declassification", _roc_level(m), "ROC", m.group(0), 0.9,
                                  line_no, m.start(), m.end(), "field", family="FIELD"))
    for m in _PRC_FIELD.finditer(text):
        if _han_before(text, m.start()):
            continue
        if m.group("roc"):
            level = TS if "對" in m.group("roc") or "对" in m.group("roc") else S
        else:
            level = _prc_level(m)
        out.append(_Candidate("prc_field", level, "PRC", m.group(0), 0.95, lines.line_of(m.start()),
                              m.start(), m.end(), "field", family="FIELD"))
    seen_star: set[int] = set()
    for star in _STAR.finditer(text):  # the PRC grammar hangs on the star: look around each one
        m = _PRC_STAR.search(text, max(0, star.start() - 8), star.end() + 24)
        if m is None or m.start() in seen_star or _han_before(text, m.start()):
            continue
        seen_star.add(m.start())
        out.append(_Candidate("prc_star", _prc_level(m), "PRC", m.group(0), 0.92,
                                  lines.line_of(m.start()), m.start(), m.end(), "field", family="STAR"))


_PROPERTY_LINE = re.compile(r"^[ \t]*(?P<key>[^:：\n]{1,40}?)[ \t]*[:：][ \t]*(?P<value>[^\n]{1,80})$", re.M)
_PROPERTY_KEY = re.compile(
    r"classification|classif|protective[ _-]?marking|security[ _-]?(?:level|label|marking)|"
    r"密[ \t]*等|密[ \t]*[級级]|[機机]密等[級级]|^等[級级]$", re.I)


def _scan_properties(text: str, lines: _Lines, out: list[_Candidate], labels: Mapping[str, str | None]) -> None:
    """Document properties that hold a classification (custom 「密等」, "Classification")."""
    for m in _PROPERTY_LINE.finditer(text):
        if not _PROPERTY_KEY.search(m.group("key").strip()):
            continue
        result = classify_value(m.group("value"), labels)
        if result:
            out.append(_Candidate("document_property", result[0], "OFFICE", m.group(0).strip(), 0.9,
                                  lines.line_of(m.start()), m.start(), m.end(), "field", family="PROPERTY"))


def _scan_subject(text: str, base_line: int, offset: int, out: list[_Candidate], *, prc_script: Callable[[], bool],
                  rule_prefix: str = "subject") -> None:
    subject = _SUBJECT_PREFIX.sub("", normalize(text)).strip()
    m = _SUBJECT_ROC.search(subject)
    if m:
        level, system = _roc_level(m), "ROC"
        if level == C and "机" in (m.group("c") or "") and prc_script():
            level, system = S, "PRC"
        out.append(_Candidate(f"{system.lower()}_{rule_prefix}", level, system, subject, 0.88, base_line,
                              offset, offset + len(text), "subject"))
        return
    m = _SUBJECT_PRC.search(subject)
    if m:
        if m.group("prcr"):
            if not _is_simplified_restricted(m.group("prcr")):
                return
            level = R
        else:
            level = _prc_level(m)
        out.append(_Candidate(f"prc_{rule_prefix}", level, "PRC", subject, 0.88, base_line, offset,
                              offset + len(text), "subject"))
        return
    m = _SUBJECT_LATIN.match(subject)
    if m:
        if m.group("mark"):
            level, system = _portion_level(m.group("mark"), m.group("pcaveats") or "")
            if level is None:
                return
        else:
            level, system = _latin_level(m)
            if (system == "US" and level != R and not m.group("ob") and not m.group("caveats")
                    and not m.group(0).rstrip().endswith(subject.rstrip())):
                return  # 「TOP SECRET: Friday surprise party」: office banter, not a classified subject
        out.append(_Candidate(f"{system.lower()}_{rule_prefix}", level, system, subject, 0.85,
                              base_line, offset, offset + len(text), "subject"))


# --------------------------------------------------------------------------- filtering


_ABOUT: dict[str, Callable[[_PartContext], bool]] = {
    "ROC": lambda ctx: ctx.about_roc, "US": lambda ctx: ctx.about_latin,
    "NATO": lambda ctx: ctx.about_latin, "PRC": lambda ctx: ctx.about_prc,
}


_MENTION_SYSTEM = {"ROC": "ROC", "PRC": "PRC", "US": "LATIN", "NATO": "LATIN"}


def _never(_ctx: _PartContext) -> bool:
    return False


def _filter(cands: list[_Candidate], text: str, lines: _Lines, ctx: _PartContext, kind: str) -> list[_Candidate]:
    """Drop mentions: quoted levels, examples, lists of levels, texts about classification."""
    if not cands:
        return cands
    # Lists of levels: distinct levels of one family within a few lines of each other.
    by_family: dict[str, list[_Candidate]] = {}
    for cand in cands:
        if cand.position in ("band", "edge", "middle", "field"):
            by_family.setdefault(cand.family, []).append(cand)
    listed: set[int] = set()
    for group in by_family.values():
        listed |= _listed(group)
    kept: list[_Candidate] = []
    for cand in cands:
        if cand.position == "subject":
            kept.append(cand)
            continue
        if id(cand) in listed:
            continue
        if _quoted(text, cand.start, cand.end):
            continue
        if cand.position != "band" and _example(lines, cand.line, cand.start):
            continue
        if cand.position in ("edge", "middle") and _defined_next(lines, cand.line):
            continue
        if cand.position in ("edge", "middle") and cand.rule == "roc_banner" and _grade_column(lines, cand.line):
            continue
        if cand.position != "band" and not _mirrored(lines, cand):
            # A text naming three or more levels is about classification; only an official
            # document (or one laid out as a letter, memo or cable) keeps the markings in
            # its structural places.
            kept_in_place = cand.position != "middle" and ctx.structured
            if _ABOUT.get(cand.system, _never)(ctx) and not kept_in_place:
                continue
            # Training, awareness and news texts that name a level more than once: only
            # an official or structured document's markings count.
            if not kept_in_place and ctx.mentions(_MENTION_SYSTEM.get(cand.system, "")) >= 2 and ctx.topical:
                continue
        kept.append(cand)
    # One finding per place: a field also matches the declassification rule, etc.
    kept.sort(key=lambda c: (c.start, -(c.end - c.start), -c.confidence))
    result: list[_Candidate] = []
    for cand in kept:
        if result and cand.start < result[-1].end and cand.level == result[-1].level:
            continue
        result.append(cand)
    return result


_GRADE_REACH = 12  # lines: a few table rows of five or six cells
_SPEED_LABEL = re.compile(r"速[ \t\u3000]*[別别]")
_GRADE_WORDS = frozenset({"普通", "一般", "限閱", "限阅", "敏感", "公開", "公开", "非機密", "內部", "内部", "內部使用"})


def _grade_column(lines: _Lines, line_no: int) -> bool:
    """A lone level among lines that are grade values (「一般」, 「限閱」, 「普通」): a table's
    grade column read one cell per line (an ISMS asset inventory: 機密 / 限閱 / 一般), not a
    banner. Two such cells within _GRADE_REACH lines either side are asked for, and a 普通
    that is a form's 速別 value (the cell after 「速別」) does not count, so a letter form's
    「機密 … 速別 / 普通」 stays marked. Bounded work per candidate: linear."""
    found = 0
    for index in range(max(0, line_no - _GRADE_REACH), min(len(lines.lines), line_no + _GRADE_REACH + 1)):
        if index == line_no or lines.lines[index].strip(" \t\u3000") not in _GRADE_WORDS:
            continue
        if index and _SPEED_LABEL.fullmatch(lines.lines[index - 1].strip(" \t\u3000:：")):
            continue
        found += 1
        if found >= 2:
            return True
    return False


def _mirrored(lines: _Lines, cand: _Candidate) -> bool:
    """The same banner is the first and the last non-empty line: how a marked page is laid out."""
    if cand.position != "edge" or not lines.edge:
        return False
    first, last = min(lines.edge), max(lines.edge)
    if first == last or cand.line not in (first, last):
        return False
    return lines.lines[first].strip() == lines.lines[last].strip()


def _listed(group: list[_Candidate]) -> set[int]:
    """Candidates with another level within _LIST_WINDOW lines: a sliding window over the
    candidates in line order (linear; a page of 20,000 banner lines must not be quadratic)."""
    ordered = sorted(group, key=lambda c: c.line)
    counts: dict[Level, int] = {}
    out: set[int] = set()
    lo = hi = 0
    for cand in ordered:
        while hi < len(ordered) and ordered[hi].line <= cand.line + _LIST_WINDOW:
            counts[ordered[hi].level] = counts.get(ordered[hi].level, 0) + 1
            hi += 1
        while ordered[lo].line < cand.line - _LIST_WINDOW:
            left = ordered[lo].level
            counts[left] -= 1
            if not counts[left]:
                del counts[left]
            lo += 1
        if len(counts) > 1:
            out.add(id(cand))
    return out


# --------------------------------------------------------------------------- facts & headers

DEFAULT_LABEL_LEVELS: dict[str, str | None] = {
    "top secret": "top_secret", "絕對機密": "top_secret", "绝对机密": "top_secret", "绝密": "top_secret",
    "cosmic top secret": "top_secret",
    "secret": "secret", "極機密": "secret", "极机密": "secret", "nato secret": "secret",
    "confidential": "confidential", "highly confidential": "confidential", "機密": "confidential",
    "nato confidential": "confidential",
    "restricted": "restricted", "密": "restricted", "一般公務機密": "restricted", "cui": "restricted",
    "fouo": "restricted", "for official use only": "restricted", "official use only": "restricted",
    "sensitive but unclassified": "restricted", "sbu": "restricted", "nato restricted": "restricted",
    "工作秘密": "restricted", "内部资料": "restricted",
    "general": None, "public": None, "personal": None, "non-business": None, "internal": None,
    "unclassified": None, "普通": None, "一般": None, "公開": None, "非機密": None,
}
_OUTLOOK_SENSITIVITY = frozenset({"personal", "private", "company-confidential", "normal"})
_LABEL_NAME = re.compile(r"MSIP_Label_[0-9A-Za-z-]+_Name\s*=\s*([^;]+)", re.I)
_LABEL_SPLIT = re.compile(r"\s*(?:\\|/|\||-|–|:)\s*")
_HEADER_SYSTEMS = ("x-classification", "x-security-classification", "x-classification-marking",
                   "x-protective-marking", "classification", "x-msip-labels", "msip_labels",
                   "x-sensitivity-label")


def _lookup_label(name: str, labels: Mapping[str, str | None]) -> tuple[Level | None, bool]:
    """(level, known): known=False when the label is not in the map at all."""
    key = normalize(name).strip().casefold()
    if key in labels:
        value = labels[key]
        return (Level.parse(value) if value else None), True
    first = _LABEL_SPLIT.split(key, maxsplit=1)[0]
    if first in labels:
        value = labels[first]
        return (Level.parse(value) if value else None), True
    for word in sorted(labels, key=len, reverse=True):  # "highly confidential" before "confidential"
        if len(word) >= 2 and re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", key):
            value = labels[word]
            return (Level.parse(value) if value else None), True
    return None, False


def classify_value(value: str, labels: Mapping[str, str | None]) -> tuple[Level, str] | None:
    """Level of a header or label value ("SECRET//NOFORN", "機密", MSIP label list…)."""
    text = normalize(normalize_markings(value)).strip()
    if not text:
        return None
    names = _LABEL_NAME.findall(text)
    if names:
        best = None
        for name in names:
            level, _known = _lookup_label(name, labels)
            if level and (best is None or level > best[0]):
                best = (level, "OFFICE")
        return best
    sec = re.search(r"SEC\s*=\s*(TOP[- ]SECRET|SECRET|CONFIDENTIAL)", text, re.I)
    if sec:
        return {"TOP": TS, "SEC": S, "CON": C}[sec.group(1)[:3].upper()], "HEADER"
    upper = text.upper()
    m = _LATIN_BANNER_LINE.fullmatch(upper)
    if m:
        return _latin_level(m)[0], "HEADER"
    m = _ROC_BANNER_LINE.fullmatch(text)
    if m:
        return _roc_level(m), "HEADER"
    m = _PRC_BANNER_LINE.fullmatch(text)
    if m:
        return _prc_level(m), "HEADER"
    level, known = _lookup_label(text, labels)
    return (level, "HEADER") if level else None


# --------------------------------------------------------------------------- declassified
#
# A declassified document still shows its old marking: struck through (a paper copy's
# banner crossed out, which OCR or a word processor renders as letters with the combining
# overlay U+0336), or left standing beside a stamp 「已解密」 / 「本件已解密」 / 「解密」 or
# 「DECLASSIFIED ON <date>」 with a date in the past. Such a marking is not a current one:
# it is reported as a finding with rule `declassified`, tag `declassified`, no Level (so
# `level_at_least` does not hold and the default policy delivers), the old level kept in
# the tag `former_level:<level>`; its JSON summary says `"level": "declassified"`.
# A site that wants declassified papers reviewed holds on `finding: {rule: declassified}`.
#
# Guarding against a forged stamp: a stamp counts only as a line of its own (decoration,
# the old level and a date allowed on it) among the first or last lines of a page or body
# (or in a header/footer band); 「DECLASSIFIED」 needs a date, on its line or
# on the two lines after it (a NARA stamp's 「Authority NND …」 / 「Date 5/1/2001」), and the
# date must lie in the past; a partly struck banner is still a banner; one stamp
# declassifies the markings of its own document (part) only, never those of another
# attachment; and headers, labels and e-document facts are never declassified by text.

_STAMP_DECOR = r"[\s【】\[\]()（）〔〕<>＜＞《》〈〉*＊\-—–_=|·•.:：~～#/／]"
_DATE_TAIL = r"[\d \t\u3000年月日./\-民國国中華华]{0,24}"
_ROC_STAMP = re.compile(
    rf"{_STAMP_DECOR}*(?:{_ROC_LEVEL}{_STAMP_DECOR}*)?"
    r"(?:(?:本件|本案|本文|此件|全案|原件)[ \t\u3000]*)?"
    r"(?:(?:業[ \t\u3000]*)?已[ \t\u3000]*(?:於[^\n]{1,20}?)?)?"
    rf"解[ \t\u3000]*密{_STAMP_DECOR}*(?:{_DATE_TAIL}{_STAMP_DECOR}*)?"
)
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_LATIN_STAMP = re.compile(
    r"[\s\[\](){}*=_\-–—|.]*DECLASSIFIED(?P<rest>(?:[ \t]*[:;,/\-–][ \t]*|[ \t]+)[^\n]{0,80})?", re.I)
_DATE_PATTERNS = (
    (re.compile(r"(?<!\d)(\d{4})[-./](\d{1,2})[-./](\d{1,2})(?!\d)"), "ymd"),
    (re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)"), "ymd"),
    (re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)"), "mdy"),
    (re.compile(r"(?<!\d)(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?,?\s+(\d{4})(?!\d)"), "dMy"),
    (re.compile(r"(?<![A-Za-z])([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})(?!\d)"), "Mdy"),
    (re.compile(r"(?<!\d)(\d{2,4})[ \t]*年[ \t]*(\d{1,2})[ \t]*月(?:[ \t]*(\d{1,2})[ \t]*日)?"), "cjk"),
    (re.compile(r"(?<![\d.])((?:19|20)\d\d)(?![\d.])"), "y"),
)


def _stamp_date(text: str) -> tuple[int, int, int] | None:
    """The first date in `text` as (year, month, day); ROC years (2-3 digits) converted."""
    for pattern, form in _DATE_PATTERNS:
        m = pattern.search(text)
        if not m:
            continue
        try:
            if form == "ymd":
                y, mo, d = int(m[1]), int(m[2]), int(m[3])
            elif form == "mdy":
                mo, d, y = int(m[1]), int(m[2]), int(m[3])
            elif form == "dMy":
                d, mo, y = int(m[1]), _MONTHS[m[2].lower()], int(m[3])
            elif form == "Mdy":
                mo, d, y = _MONTHS[m[1].lower()], int(m[2]), int(m[3])
            elif form == "cjk":
                y, mo, d = int(m[1]), int(m[2]), int(m[3] or 1)
                if y < 1000:  # 民國 year
                    y += 1911
            else:
                y, mo, d = int(m[1]), 12, 31
        except KeyError:
            continue
        if 1 <= mo <= 12 and 1 <= d <= 31 and 1900 <= y <= 2200:
            return y, mo, d
    return None


def _in_the_past(date: tuple[int, int, int]) -> bool:
    import time

    today = time.gmtime()
    return date < (today.tm_year, today.tm_mon, today.tm_mday)


def _lines_with(text: str, needle: str) -> Iterable[tuple[int, str]]:
    """(start offset, line) of each line holding `needle`, found by substring search."""
    pos = text.find(needle)
    while pos >= 0:
        start = text.rfind("\n", 0, pos) + 1
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        yield start, text[start:end]
        pos = text.find(needle, end)


_STAMP_EDGE_LINES = 5  # a stamp stands among the first or last lines of a page or body


def _at_edge(segment: Segment, text: str, start: int) -> bool:
    """The line starting at `start` is in a band, or among the first or last
    _STAMP_EDGE_LINES non-empty lines of its segment: where a stamp is put. A 「已解密」 in
    the middle of a document (a register's status column, prose) declassifies nothing."""
    if segment.kind in _BAND_KINDS:
        return True
    before = [ln for ln in text[:start].split("\n") if ln.strip()]
    if len(before) < _STAMP_EDGE_LINES:
        return True
    after = [ln for ln in text[start:].split("\n")[1:] if ln.strip()]
    return len(after) < _STAMP_EDGE_LINES


# Where a ROC stamp can be: 已 … 解 on a line, or 解 opening a line (after decoration). Both
# searches start with a literal, so a letter full of 「密等及解密條件」 fields costs little.
_ALREADY_DECLASSIFIED = re.compile("已[^\n]{0,24}?解")
_LINE_OPENS_WITH_DECLASS = re.compile(f"\n[{re.escape(' ' + chr(9) + chr(0x3000))}【\\[(（〔<＜《〈*＊\\-—–_=|·•.:：~～#/／]{{0,8}}解")


def _stamp_lines(text: str) -> Iterable[tuple[int, str]]:
    """(start offset, line) of the lines that may hold a ROC declassification stamp."""
    seen: set[int] = set()
    positions = [m.start() for m in _ALREADY_DECLASSIFIED.finditer(text)]
    positions += [m.start() + 1 for m in _LINE_OPENS_WITH_DECLASS.finditer("\n" + text)]
    for pos in sorted(positions):
        pos = min(pos, len(text) - 1) if text else 0
        start = text.rfind("\n", 0, pos) + 1
        if start in seen:
            continue
        seen.add(start)
        end = text.find("\n", pos)
        yield start, text[start:len(text) if end < 0 else end]


def _declassification_stamp(segments: list[Segment], texts: list[str]) -> str | None:
    """The stamp line that declassifies this part, if any (see the section comment)."""
    joined = "\n".join(texts)
    roc = "解" in joined
    latin = "ECLASSIFIED" in joined or "eclassified" in joined
    if not (roc or latin):
        return None
    for segment, text in zip(segments, texts, strict=True):
        if segment.kind in _SUBJECT_KINDS or not text:
            continue
        for start, line in _stamp_lines(text) if roc else ():
            line = line.strip()
            if len(line) > _MAX_BANNER_CHARS:
                continue
            if "已" in line:
                stamp = _ROC_STAMP.fullmatch(line)
            else:
                stamp = line.lstrip(_STAMP_DECOR_CHARS).startswith("解") and _ROC_BARE_STAMP.fullmatch(line)
            if stamp and _at_edge(segment, text, start):
                return line
        for needle in ("ECLASSIFIED", "eclassified") if latin else ():
            for start, line in _lines_with(text, needle):
                m = _LATIN_STAMP.fullmatch(line.strip())
                if not m or len(line) > 2 * _MAX_BANNER_CHARS or not _at_edge(segment, text, start):
                    continue
                following = text[start + len(line):start + len(line) + 2 * _MAX_BANNER_CHARS].split("\n")[1:3]
                date = _stamp_date(" ".join([m.group("rest") or "", *following]))
                if date is not None and _in_the_past(date):
                    return " ".join(line.split())
    return None


_STAMP_DECOR_CHARS = " \t\u3000【】[]()（）〔〕<>＜＞《》〈〉*＊-—–_=|·•.:：~～#/／"


# A stamp that is 「解密」 alone (with decoration or a date): a stamp, not a condition.
_ROC_BARE_STAMP = re.compile(rf"{_STAMP_DECOR}*解[ \t\u3000]*密{_STAMP_DECOR}*(?:{_DATE_TAIL}{_STAMP_DECOR}*)?")


def _declassified(finding: Finding, stamp: str) -> Finding:
    """A marking of a declassified document: kept as a record, without a current level."""
    assert finding.level is not None
    return Finding(finding.detector, "declassified", finding.location,
                   _evidence(f"{finding.evidence} [declassified: {stamp}]"), None, finding.system,
                   finding.confidence, ("declassified", f"former_level:{finding.level.label}", "stamp"))


_LEVEL_GROUPS = ("ts", "s", "rl", "c", "r", "us", "nato", "eu", "cui", "pts", "ps", "pc")


def _struck_banners(segment: Segment, text: str) -> list[Finding]:
    """Banner lines whose level is struck through, every character of it: declassified
    markings. Caveats after the level (「//NOFORN」) may be left unstruck."""
    if not any(mark in text for mark in STRIKE_MARKS):
        return []
    out = []
    for line in text.split("\n"):
        line = line.strip()
        if not line or len(line) > 2 * _MAX_BANNER_CHARS or not any(m in line for m in STRIKE_MARKS):
            continue
        chars: list[str] = []
        struck: list[bool] = []
        for i, ch in enumerate(line):
            if ch not in STRIKE_MARKS:
                chars.append(ch)
                struck.append(i + 1 < len(line) and line[i + 1] in STRIKE_MARKS)
        plain = "".join(chars)
        level: Level | None = None
        system = ""
        m = _roc_banner_match(plain)
        if m:
            level, system = _roc_level(m), "ROC"
        elif (m := _LATIN_BANNER_LINE.fullmatch(plain)) is not None:
            level, system = _latin_level(m)
        elif (m := _PRC_BANNER_LINE.fullmatch(plain)) is not None:
            level, system = _prc_level(m), "PRC"
        if m is None or level is None:
            continue
        groups = m.groupdict()
        name = next((g for g in _LEVEL_GROUPS if groups.get(g)), None)
        if name is None:
            continue
        span = [i for i in range(*m.span(name)) if not plain[i].isspace()]
        if len(span) >= 2 and all(struck[i] for i in span):
            out.append(Finding("markings", "declassified", segment.location, _evidence(f"{line} (struck through)"),
                               None, system, 0.9, ("declassified", f"former_level:{level.label}", "struck_through")))
    return out


# --------------------------------------------------------------------------- detector


class MarkingDetector:
    """Classification markings of ROC, US, NATO and PRC documents, Office labels and headers."""

    name = "markings"
    description = "Classification markings (ROC, US, NATO, PRC grammar), e-document 密等, Office labels, classification headers"

    def __init__(self, label_levels: Mapping[str, str | None] | None = None,
                 classification_headers: Iterable[str] = _HEADER_SYSTEMS) -> None:
        labels = dict(DEFAULT_LABEL_LEVELS)
        for key, value in (label_levels or {}).items():
            labels[normalize(key).strip().casefold()] = value or None
        self.labels = labels
        self.headers = tuple(h.lower() for h in classification_headers)

    def detect(self, inspection: Inspection) -> list[Finding]:
        findings: list[Finding] = []
        findings.extend(self._facts(inspection.facts))
        findings.extend(self._headers(inspection, findings))
        by_part: dict[str, list[Segment]] = {}
        for segment in inspection.segments:
            if segment.part == "headers":  # classification headers are read from facts/headers
                continue
            by_part.setdefault(segment.part, []).append(segment)
        for part, segments in by_part.items():
            findings.extend(self._part(part, segments))
        return findings

    # ----------------------------------------------------------------- text

    def _part(self, part: str, segments: list[Segment]) -> list[Finding]:
        context: list[_PartContext] = []

        # The text as a reader sees it: invisible characters, homoglyphs, spaced-out and
        # compatibility-form banners undone (textnorm.normalize_markings).
        texts = normalize_markings_many([_lf(s.text) for s in segments])

        def ctx_of() -> _PartContext:
            if not context:
                context.append(_part_context("\n".join(texts)))
            return context[0]

        findings: list[Finding] = []
        for segment, text in zip(segments, texts, strict=True):
            if not text:
                continue
            findings.extend(_struck_banners(segment, text))
            if segment.kind == "ocr" and "\n" in text:
                text = _OCR_LEVEL_BREAK.sub(r"\1", text)
            if not _TRIGGER.search(text):
                continue
            lines = _Lines.of(text)
            cands: list[_Candidate] = []
            if segment.kind in _SUBJECT_KINDS:
                _scan_subject(text, 0, 0, cands, prc_script=lambda text=text: _prc_script_quick(text),
                              rule_prefix="subject" if segment.kind == "subject" else "filename")
            else:
                for m in _line_openers(text, _BODY_SUBJECT_LINES):
                    _scan_subject(m.group("rest"), lines.line_of(m.start()), m.start("rest"), cands,
                                  prc_script=lambda: ctx_of().prc_script)
                _scan_lines(segment, text, lines, ctx_of, cands)
                _scan_fields(text, lines, cands)
                if segment.kind == "metadata":
                    _scan_properties(text, lines, cands, self.labels)
            if not cands:
                continue
            ctx = ctx_of() if segment.kind not in _SUBJECT_KINDS else _NO_CONTEXT
            for cand in _filter(cands, text, lines, ctx, segment.kind):
                tags = cand.tags + (("official_document",) if ctx.official else ())
                confidence = min(1.0, cand.confidence + (0.05 if ctx.official else 0.0))
                findings.append(Finding("markings", cand.rule, segment.location, _evidence(cand.evidence),
                                        cand.level, cand.system, confidence, tags))
        stamp = _declassification_stamp(segments, texts)
        if stamp is not None:
            findings = [_declassified(f, stamp) if f.level is not None else f for f in findings]
        return _dedupe(findings)[:_MAX_FINDINGS_PER_PART]

    # ----------------------------------------------------------------- facts and headers

    def _facts(self, facts: list[Fact]) -> list[Finding]:
        out: list[Finding] = []
        for fact in facts:
            name = fact.name.lower()
            if name == "edoc.secrecy":
                value = normalize(fact.value).strip()
                m = re.fullmatch(_ROC_LEVEL, value)
                if m:
                    out.append(Finding("markings", "edoc_secrecy", fact.location, f'<密等 代碼="{value}">',
                                       _roc_level(m), "EDOC", 0.99, ("official_document",)))
            elif name == "office.sensitivity_label":
                level, known = _lookup_label(fact.value, self.labels)
                result = (level, "OFFICE") if level else (None if known else classify_value(fact.value, self.labels))
                if result:
                    out.append(Finding("markings", "office_label", fact.location,
                                       _evidence(f"sensitivity label: {fact.value}"), result[0], "OFFICE", 0.9))
            elif name.startswith("mail.header."):
                if name == "mail.header.sensitivity" and fact.value.strip().lower() in _OUTLOOK_SENSITIVITY:
                    continue  # Outlook's own flag (RFC 2156), set by the sender, not a classification
                result = classify_value(fact.value, self.labels)
                if result:
                    header = name.removeprefix("mail.header.")
                    out.append(Finding("markings", "classification_header", fact.location,
                                       _evidence(f"{header}: {fact.value}"), result[0],
                                       "OFFICE" if result[1] == "OFFICE" else "HEADER", 0.9))
        return out

    def _headers(self, inspection: Inspection, seen: list[Finding]) -> list[Finding]:
        have = {f.evidence for f in seen if f.rule == "classification_header"}
        out: list[Finding] = []
        for name in self.headers:
            for value in inspection.headers.get(name, []):
                evidence = _evidence(f"{name}: {value}")
                if evidence in have:
                    continue
                result = classify_value(value, self.labels)
                if result:
                    have.add(evidence)
                    out.append(Finding("markings", "classification_header", "headers", evidence,
                                       result[0], "OFFICE" if result[1] == "OFFICE" else "HEADER", 0.9))
        return out


def _prc_script_quick(text: str) -> bool:
    return len(_SIMP_RE.findall(text)) > len(_TRAD_RE.findall(text))


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, Level | None, str]] = set()
    out = []
    for f in findings:
        key = (f.rule, f.location, f.level, f.evidence)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
