"""Documents for the fingerprint and trace tests, made by code from the texts below.

`CABLE` is the registered (or leaked) document: a five-paragraph instruction from the
ministry to its missions. `SAME_SUBJECT` is a different instruction on the same
subjects (missions, talks with the host government, trade talks, parliament, secrecy
rules) written independently: it shares vocabulary, not passages, and must not match.
`MEMO`/`MEMO_SAME_SUBJECT` are the same pair in English (word k-grams).
"""

from __future__ import annotations

import docgen

CABLE = (
    "外交部駐外館處應於每月五日前，將上月與駐在國政府官員會談之紀錄彙整後，以密件電報方式陳報本部。"
    "會談紀錄應載明時間、地點、參與人員及討論議題，並就駐在國對我國參與國際組織之立場提出具體分析。\n"
    "關於本年度雙邊經貿諮商會議之籌備事宜，請貴處先與駐在國經濟部主管司處聯繫，確認會議日期及議程草案，"
    "並於十日內回報。議程草案應包括農產品市場開放、投資保障協定之修正，以及半導體供應鏈合作等三項議題。\n"
    "駐在國國會外交委員會近期就區域安全情勢舉行聽證會，多位委員關切臺海和平穩定。請貴處持續蒐集相關發言內容，"
    "並評估其對駐在國行政部門政策之可能影響，於下週三前以專報方式陳核。\n"
    "另據悉駐在國總理預定於下月出訪東南亞三國，行程可能涉及南海議題之協商。請貴處透過適當管道瞭解其訪問重點，"
    "並注意是否涉及我國利益，如有重要發展應即時電告。\n"
    "本案各項資料均屬機敏性質，處理人員應確實遵守保密規定，不得以一般電子郵件傳送，亦不得於公務以外場合討論。"
    "相關文件閱畢後應依規定銷毀或歸檔，並填具處理紀錄備查。"
)

SAME_SUBJECT = (
    "外交部請各駐外館處注意，駐在國政府近期將調整簽證政策，可能影響我國國民入境之便利。請貴處與駐在國外交部"
    "領事司聯繫，瞭解新制實施日期及適用範圍，並於本月底前以電報陳報本部。\n"
    "有關雙邊經貿合作，駐在國經濟部表示願於明年上半年舉行部長級會議，討論數位經濟及綠色能源等議題。"
    "請貴處評估會議可行性，並就我方可提出之合作方案提供建議。\n"
    "駐在國國會近期通過決議案，支持我國參與世界衛生大會。請貴處向提案議員致謝，並持續與國會外交委員會保持聯繫，"
    "蒐集委員對區域安全情勢之看法。\n"
    "本案資料屬機敏性質，處理人員應遵守保密規定，相關文件閱畢後應依規定歸檔。"
)

MEMO = (
    "The delegation will meet the deputy foreign minister on Tuesday to discuss the renewal of the "
    "investment protection agreement. Our position is that the arbitration clause must stay unchanged "
    "and that any new exemption for state owned enterprises requires a review after three years.\n"
    "If the host side raises the question of agricultural quotas, the head of delegation may signal "
    "flexibility on seasonal fruit imports but must not commit to any figure before consulting the "
    "economic division. The fallback offer prepared by the trade office remains strictly internal.\n"
    "Notes of the meeting are to be sent by classified cable within twenty four hours."
)

MEMO_SAME_SUBJECT = (
    "The embassy reports that the host government intends to open talks on a new investment agreement "
    "next year. The foreign ministry has asked for our views on arbitration and on the treatment of "
    "state owned enterprises, and the economic division is preparing a short note on agricultural "
    "quotas and fruit imports. A delegation visit is being considered for the spring; the trade office "
    "will circulate a draft programme once dates are confirmed with the deputy minister's office."
)


def paragraphs(text: str) -> list[str]:
    return text.split("\n")


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters, paragraph breaks kept as empty lines."""
    lines: list[str] = []
    for paragraph in paragraphs(text):
        lines.extend(paragraph[i : i + width] for i in range(0, len(paragraph), width))
        lines.append("")
    return lines[:-1]


def cable_pdf() -> bytes:
    """The registered original: a one-page PDF with a text layer."""
    return docgen.make_pdf(["\n".join(wrap(CABLE, 36))], header="外交部", fontsize=12)


def cable_relaid_pdf() -> bytes:
    """The same text typeset again: other line breaks, font size, two pages, a cover line."""
    lines = ["轉寄參考資料"] + wrap(CABLE, 24)
    half = len(lines) // 2
    return docgen.make_pdf(["\n".join(lines[:half]), "\n".join(lines[half:])], fontsize=16)


def cable_docx() -> bytes:
    """The text pasted into a Word document with a note of its own before it."""
    return docgen.make_docx(["以下為本週彙整之參考資料，請查照。", *paragraphs(CABLE)])


def cable_scanned_pdf() -> bytes:
    """A scan of the cable: a raster image only, no text layer (one OCR page)."""
    return docgen.make_scanned_pdf(wrap(CABLE, 22), dpi=200, fontsize=24)
