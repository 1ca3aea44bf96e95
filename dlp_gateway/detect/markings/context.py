"""What a whole part (file or body) says about itself, computed lazily once per part:
official-document signals (發文字號, telegram serial, US classification authority, PRC
文号), letter/memo layout, texts naming several levels (about classification), training
and news cues, and whether the text is in PRC script. mentions.py uses it to tell
mentions from markings; detector.py to raise the confidence of official documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from dlp_gateway.detect.markings.prc import _PRC_YEAR, _ROC_YEAR, _SIMP_RE, _TRAD_RE

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



@dataclass
class PartContext:
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


def _part_context(text: str) -> PartContext:
    return PartContext(text)


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
