"""A third, independent corpus of realistic mission mail for the marking detector.

Written by a third engineer, before reading the detector's grammar, in a different style
from tests/markings_corpus.py and tests/markings_realistic.py: whole messages as they
arrive at a gateway — Outlook forwards in Chinese (寄件者 / 傳送時間 / 收件者 / 主旨) and
English (From / Sent / To / Subject), replies with signatures and disclaimers, bilingual
covers, and attachments in every format the extractor reads (PDF bands, DOCX, XLSX, PPTX,
ODT, RTF in Big5, e-document XML, HTML mail, GB18030 bodies, a ZIP holding a marked DOCX,
an .eml forwarded as an attachment).

The negatives are what a ministry sends every day and what trips naive detectors: press
releases and news on espionage trials quoting 洩漏國家機密, a leak-inquiry report, lecture
slides defining the four levels, ISMS documents (機密性、完整性、可用性; asset tables graded
機密 / 限閱 / 一般; footers 「文件機密等級：一般」), a procedure for destroying classified
paper, procurement 保密協定, 秘書處 / 密集 / 機要, disclaimers, Outlook's Sensitivity line,
"UNCLASSIFIED//FOR PUBLIC RELEASE", "UNITED NATIONS SECRETARIAT", a "(C) 2026" copyright.

Batches: the first two were written before reading the detector's grammar; later ones
after each round of fixes, still from how documents look (the module says which).

Left out on purpose (a security officer would not agree on them): a checked 「■機密」 in an
ISMS document-grade footer (ISMS grade, not a national-secret marking — or is it?), PRC
「内部资料　不得外传」 alone, an English "Confidential" Purview label (a company grade), a
vendor PDF with a lone "CONFIDENTIAL" page footer (looks exactly like a US banner), a lone
uncaveated "TOP SECRET" heading on one slide (a newsletter titles its gossip column the
same way), a DOCX whose core title is 「機密」, and a register of document numbers with a
密等 column (is a register of classified papers itself classified?).
"""

from __future__ import annotations

from collections.abc import Iterator

import docgen
from corpus_scoring import DOCX, ODP, ODS, ODT, PDF, PPTX, RTF, TS, XLSX, XML, ZIP, C, R, S
from corpus_scoring import LabelledCase as FreshCase
from corpus_scoring import mail as _mail


def _att(subject: str, body: str, name: str, data: bytes, mime: str, **kw) -> bytes:
    return _mail(subject, body, [(name, data, mime)], **kw)


# --------------------------------------------------------------------------- building blocks

SIGNATURE = """
敬祝　順安

陳怡安 Yi-An Chen
外交部亞東太平洋司第二科　科員
Tel: +886-2-2348-2000 ext. 2415
"""

DISCLAIMER_ZH = """
--
本電子郵件及附件所載資訊可能含有機密或受法律保護之內容，僅供指定之收件人使用。
若您非指定收件人，請勿閱讀、使用、揭露或散布，並請立即通知寄件者後刪除本郵件。
"""

DISCLAIMER_EN = """
CONFIDENTIALITY NOTICE: This e-mail and any attachments are confidential and may be
privileged. If you are not the intended recipient, please notify the sender immediately
and delete it. Any unauthorised use, disclosure or copying is strictly prohibited.
"""


def outlook_zh(sender: str, subject: str, quoted: str, note: str = "請參。") -> str:
    return f"""{note}
{SIGNATURE}
-----原始郵件-----
寄件者: {sender}
傳送時間: 2026年3月4日 星期三 下午 4:12
收件者: 亞太司二科 <asia2@mofa.example>
副本: 主任秘書室 <sec@mofa.example>
主旨: {subject}

{quoted}
"""


def outlook_en(sender: str, subject: str, quoted: str, note: str = "FYI, see below.") -> str:
    return f"""{note}

Best,
Daniel

From: {sender}
Sent: Wednesday, March 4, 2026 9:41 AM
To: Political Section <pol@taipei-mission.example>
Cc: DCM Office <dcm@taipei-mission.example>
Subject: {subject}

{quoted}
"""


def letter(field: str, subject: str = "檢送本部與日方第5屆海洋事務對話會議紀錄1份，請查照。") -> str:
    return f"""檔　　號：115/0521.03
保存年限：10年

外交部　函

機關地址：10048臺北市中正區凱達格蘭大道2號
承辦人：陳怡安
電話：(02)2348-2415

受文者：駐日本台北經濟文化代表處
發文日期：中華民國115年3月4日
發文字號：外亞二字第11500213450號
速別：速件
密等及解密條件或保密期限：{field}
附件：會議紀錄1份

主旨：{subject}
說明：
一、依本部115年2月26日外亞二字第11500198760號函辦理。
二、檢附會議紀錄1份，請卓參。

正本：駐日本台北經濟文化代表處
副本：本部條約法律司
"""


def telegram(level_line: str, serial: str = "JPN0345") -> str:
    return f"""外交部收電

發電機關：駐日本代表處
電報專號：{serial}
收電日期：115年3月4日 14:20
{level_line}
速別：最速件
受電者：外交部亞東太平洋司

主旨：日方對第5屆海洋事務對話之後續立場研析
一、日方外務省亞洲大洋洲局官員於3日晚間向本處表示……
二、本處研判……謹陳。
"""


def sign_memo(top: str) -> str:
    return f"""{top}
簽　於亞東太平洋司
日期：115年3月4日

主旨：擬派員赴東京洽商海洋事務對話後續事宜，簽請核示。
說明：
一、日方提議於4月中旬舉行工作層級會議。
二、所需經費由本司年度預算項下支應。
擬辦：奉核後函知駐日本代表處。
"""


# --------------------------------------------------------------------------- positives

def positives() -> Iterator[FreshCase]:
    # ---- ROC, in the body of whole messages
    yield FreshCase("Outlook zh forward of a 函, field 機密 至116年6月30日",
                    _mail("FW: 函稿", outlook_zh("林科長", "函稿請核", letter("機密（本件至116年6月30日解密）")) + DISCLAIMER_ZH), C, "body")
    yield FreshCase("Outlook zh forward of a 函, field 極機密 保存年限屆滿後解密",
                    _mail("轉寄: 函稿", outlook_zh("林科長", "函稿", letter("極機密（保存年限屆滿後解密）"))), S, "body")
    yield FreshCase("函 field 密（附件抽存後解密）, reply with signature",
                    _mail("RE: 函稿", "已修正如下，請再檢視。\n" + SIGNATURE + "\n" + letter("密（附件抽存後解密）")), R, "body")
    yield FreshCase("函 field 絕對機密 本件於公布時解密 in Big5",
                    _mail("函稿", letter("絕對機密（本件於公布時解密）"), charset="big5"), TS, "body")
    yield FreshCase("函 old field name 密等及解密條件",
                    _mail("函稿", letter("機密（本件於公布時解密）").replace("密等及解密條件或保密期限", "密等及解密條件")), C, "body")
    yield FreshCase("函 field without brackets: 機密 本件至116年6月30日解密",
                    _mail("函稿", letter("機密　本件至116年6月30日解密")), C, "body")
    yield FreshCase("telegram 密等：機密 with 電報專號",
                    _mail("電報轉陳", telegram("密等：機密")), C, "body")
    yield FreshCase("telegram 密　等：極機密 (spaced label)",
                    _mail("電報轉陳", telegram("密　　等：極機密")), S, "body")
    yield FreshCase("telegram 密等：密 in an English cover mail",
                    _mail("Cable from Tokyo", "Dear Director,\n\nPlease see the cable below, received this afternoon.\n\nRegards,\nAmy\n\n"
                          + telegram("密等：密")), R, "body")
    yield FreshCase("telegram Big5 密等：機密（本件於公布時解密）",
                    _mail("電報", telegram("密等：機密（本件於公布時解密）"), charset="big5"), C, "body")
    yield FreshCase("簽 with 機密 top and copy 複製物 第2份",
                    _mail("簽稿", sign_memo("機密\n複製物 第2份")), C, "body")
    yield FreshCase("簽 with 極機密 and condition line",
                    _mail("簽稿", sign_memo("極機密（本件於公布時解密）")), S, "body")
    yield FreshCase("簽 with 絕對機密 and 複製物（第1份，共3份）",
                    _mail("簽稿", sign_memo("絕對機密　複製物（第1份，共3份）")), TS, "body")
    yield FreshCase("簽 top-right laid out with spaces: 簽　　　　機密",
                    _mail("簽稿", sign_memo("").replace("簽　於亞東太平洋司", "簽　於亞東太平洋司　　　　　　　　機密")), C, "body")
    yield FreshCase("level and condition at the end of a document",
                    _mail("說帖", "說帖：我國參與區域海洋合作之立場\n一、……\n二、……\n\n（機密，本件至116年6月30日解密）"), C, "body")
    yield FreshCase("Outlook en forward, 【極機密】 in the quoted Subject",
                    _mail("FW: readout", outlook_en("Lin, Chih-Ming <cmlin@mofa.example>", "【極機密】日方研判報告",
                                                     "附件為研判報告，請勿再轉寄。"), ), S, "body")
    yield FreshCase("Outlook zh forward, 主旨 with (機密)",
                    _mail("FW: 人事", outlook_zh("人事處", "(機密) 115年駐外人員調動名單", "名單如附，請查收。")), C, "body")
    yield FreshCase("bilingual telegram cover with 密等 in the middle of English",
                    _mail("Cable", "Ambassador,\n\nFor your reference:\n\n密等：極機密\n電報專號：USA1526\n主旨：美方對台軍售案後續\n\nRegards"), S, "body")
    yield FreshCase("開會通知單 機密（會議結束後解密） with disclaimer",
                    _mail("開會通知", "外交部　開會通知單\n\n受文者：亞太司\n發文日期：中華民國115年3月4日\n發文字號：外亞二字第11500213460號\n速別：速件\n"
                          "密等及解密條件或保密期限：機密（會議結束後解密）\n開會事由：研商海洋事務對話後續\n開會時間：115年3月10日上午10時\n" + DISCLAIMER_ZH), C, "body")
    yield FreshCase("HTML-only Outlook forward with a 【機密】 quoted subject",
                    _mail("FW: 訪團", "請見下方。", html="<html><body><p>請參。</p><hr><p><b>寄件者:</b> 北美司<br><b>傳送時間:</b> 2026年3月4日<br>"
                          "<b>收件者:</b> 禮賓處<br><b>主旨:</b> 【機密】美方參議員訪團名單</p><p>名單如下……</p></body></html>"), C, "body")
    yield FreshCase("HTML mail letter table 密等 cell",
                    _mail("函", "請見下方。", html="<table><tr><td>發文字號</td><td>外亞二字第11500213450號</td></tr>"
                          "<tr><td>密等及解密條件或保密期限</td><td>極機密（本件於公布時解密）</td></tr>"
                          "<tr><td>主旨</td><td>日方研判</td></tr></table>"), S, "body")

    # ---- subjects
    yield FreshCase("subject 【極機密】", _mail("【極機密】駐處人員調動案", "如附，請核。"), S, "subject")
    yield FreshCase("subject ［密］ full-width square brackets", _mail("［密］本司年度考評資料", "請於週五前回覆。"), R, "subject")
    yield FreshCase("subject 〔機密〕", _mail("〔機密〕東京會談紀要", "紀要如附。"), C, "subject")
    yield FreshCase("subject [機密] before FW:", _mail("[機密] FW: 會談紀要", "請參。"), C, "subject")
    yield FreshCase("subject 【密件】", _mail("【密件】駐外館處安全檢查結果", "請參閱附件。"), R, "subject")
    yield FreshCase("subject 回覆: 【絕對機密】", _mail("回覆: 【絕對機密】專案進度", "收悉。"), TS, "subject")
    yield FreshCase("subject SECRET//REL TO USA, TWN", _mail("SECRET//REL TO USA, TWN - meeting readout", "Attached."), S, "subject")

    # ---- US / NATO / PRC in bodies
    yield FreshCase("US memo SECRET//REL TO USA, TWN banners",
                    _mail("readout", "SECRET//REL TO USA, TWN\n\nMEMORANDUM FOR THE RECORD\n\nSUBJECT: (U) Readout of March 3 Meeting\n\n"
                          "1. (S//REL TO USA, TWN) Participants discussed maritime domain awareness.\n2. (U) Next meeting in April.\n\n"
                          "SECRET//REL TO USA, TWN"), S, "body")
    yield FreshCase("US portion marks only, no banner",
                    _mail("notes", "Notes from the working group\n\n(S//REL TO USA, TWN) The delegation raised the schedule of deliveries.\n\n"
                          "(C) The vendor confirmed the second lot.\n\n(U) Next meeting: April 14."), S, "body")
    yield FreshCase("US CONFIDENTIAL cable with Classified By / Declassify On",
                    _mail("cable", "CONFIDENTIAL\n\nE.O. 13526: DECL: 03/04/2036\nTAGS: PREL, TW, JA\nSUBJECT: MARITIME DIALOGUE FOLLOW-UP\n\n"
                          "Classified By: Political Counselor, reasons 1.4 (b) and (d).\n\n1. (C) Summary: ...\n\nCONFIDENTIAL"), C, "body")
    yield FreshCase("US CUI block with Controlled by",
                    _mail("export license", "CUI\n\nControlled by: Department of State\nControlled by: DDTC\nCUI Category: EXPT\n"
                          "Limited Dissemination Control: FEDCON\nPOC: J. Smith, 202-555-0100\n\nThe license application for ...\n\nCUI"), R, "body")
    yield FreshCase("US UNCLASSIFIED//FOR OFFICIAL USE ONLY",
                    _mail("guidance", "UNCLASSIFIED//FOR OFFICIAL USE ONLY\n\nGuidance for visiting delegations.\n\nUNCLASSIFIED//FOR OFFICIAL USE ONLY"), R, "body")
    yield FreshCase("US SENSITIVE BUT UNCLASSIFIED cable",
                    _mail("cable", "SENSITIVE BUT UNCLASSIFIED\n\nSUBJECT: VISA FRAUD TRENDS\n\n1. (SBU) Post has seen an increase ...\n\nSENSITIVE BUT UNCLASSIFIED"), R, "body")
    yield FreshCase("NATO SECRET memo",
                    _mail("NAC", "NATO SECRET\n\nNORTH ATLANTIC COUNCIL\nSUMMARY RECORD\n\n1. The Council noted ...\n\nNATO SECRET"), S, "body")
    yield FreshCase("COSMIC TOP SECRET ATOMAL",
                    _mail("NPG", "COSMIC TOP SECRET ATOMAL\n\nNUCLEAR PLANNING GROUP\n\n...\n\nCOSMIC TOP SECRET ATOMAL"), TS, "body")
    yield FreshCase("PRC 机密★5年 通知 GB18030",
                    _mail("转发", "机密★5年\n\n外交部关于做好涉台外事工作的通知\n\n各驻外使领馆：\n  为进一步……\n\n外交部办公厅\n2026年3月2日",
                          charset="gb18030"), S, "body")
    yield FreshCase("PRC 秘密★长期 通知",
                    _mail("转发", "秘密★长期\n\n关于加强驻外机构保密管理的通知\n\n各司局：\n  ……\n\n2026年2月"), C, "body")
    yield FreshCase("PRC 绝密★10年 header",
                    _mail("转发", "绝密★10年\n\n关于对台工作的若干意见\n\n……"), TS, "body")

    # ---- attachments
    yield FreshCase("PDF header 機密, footer condition",
                    _att("函稿", "如附。", "letter.pdf", docgen.make_pdf([letter("")], header="機密", footer="本件於公布時解密　第1頁"), PDF), C, "attachment")
    yield FreshCase("PDF header spaced 極 機 密",
                    _att("研判", "請參閱附件。", "analysis.pdf", docgen.make_pdf(["日方研判報告\n一、……\n二、……"], header="極 機 密"), PDF), S, "attachment")
    yield FreshCase("PDF footer 絕對機密 複製物 第2份",
                    _att("專案", "附件請閱後歸還。", "plan.pdf", docgen.make_pdf(["專案計畫\n一、……"], footer="絕對機密　複製物 第2份"), PDF), TS, "attachment")
    yield FreshCase("PDF header band agency date level",
                    _att("紀要", "如附。", "minutes.pdf", docgen.make_pdf(["會談紀要\n一、……"], header="外交部　115.03.04　機密"), PDF), C, "attachment")
    yield FreshCase("PDF English SECRET//REL TO USA, TWN bands with a Chinese mail",
                    _att("美方資料", "美方提供之資料如附，請參。" + SIGNATURE, "readout.pdf",
                         docgen.make_pdf(["MEMORANDUM\n(S//REL TO USA, TWN) Readout ..."], header="SECRET//REL TO USA, TWN",
                                         footer="SECRET//REL TO USA, TWN"), PDF), S, "attachment")
    yield FreshCase("PDF NATO CONFIDENTIAL bands",
                    _att("NATO", "Attached.", "nato.pdf", docgen.make_pdf(["Partnership paper\n..."], header="NATO CONFIDENTIAL",
                                                                        footer="NATO CONFIDENTIAL"), PDF), C, "attachment")
    yield FreshCase("PDF PRC 秘密★1年 footer",
                    _att("转发", "见附件。", "notice.pdf", docgen.make_pdf(["关于……的通知\n……"], footer="秘密★1年", fontname="china-s"), PDF), C, "attachment")
    yield FreshCase("DOCX header 密, page footer",
                    _att("考評", "如附。", "review.docx", docgen.make_docx(["考評資料", "一、……"], header="密", footer="第 1 頁"), DOCX), R, "attachment")
    yield FreshCase("DOCX first line 機密（本件於公布時解密）",
                    _att("說帖", "如附。", "talking.docx", docgen.make_docx(["機密（本件於公布時解密）", "說帖", "一、……"]), DOCX), C, "attachment")
    yield FreshCase("DOCX 函 with field 極機密",
                    _att("函稿", "請核。", "letter.docx", docgen.make_docx(letter("極機密（本件至120年12月31日解密）").splitlines()), DOCX), S, "attachment")
    yield FreshCase("DOCX table 密等 | 機密",
                    _att("電報", "如附。", "cable.docx", docgen.make_docx(["外交部收電"], table=[["電報專號", "JPN0345"], ["密等", "機密"],
                                                                                     ["速別", "最速件"]]), DOCX), C, "attachment")
    yield FreshCase("DOCX TOP SECRET//NOFORN header and footer",
                    _att("brief", "Attached.", "brief.docx", docgen.make_docx(["(TS//NF) Summary ..."], header="TOP SECRET//NOFORN",
                                                                             footer="TOP SECRET//NOFORN"), DOCX), TS, "attachment")
    yield FreshCase("DOCX PRC 秘密★长期 first line",
                    _att("转发", "见附件。", "tz.docx", docgen.make_docx(["秘密★长期", "关于……的通知", "各单位："]), DOCX), C, "attachment")
    yield FreshCase("DOCX Purview label 極機密",
                    _att("資料", "如附。", "data.docx", docgen.make_docx(["駐處安全檢查結果"], label="極機密"), DOCX), S, "attachment")
    yield FreshCase("XLSX first row 密等：極機密",
                    _att("名單", "如附。", "list.xlsx", docgen.make_xlsx({"名單": [["密等：極機密"], ["姓名", "職稱"], ["王大明", "參事"]]}), XLSX), S, "attachment")
    yield FreshCase("PPTX first slide 機密",
                    _att("簡報", "如附。", "deck.pptx", docgen.make_pptx(["機密\n台美經濟繁榮夥伴對話籌備簡報", "議程"]), PPTX), C, "attachment")
    yield FreshCase("ODT footer 機密（本件於公布時解密）",
                    _att("紀要", "如附。", "minutes.odt", docgen.make_odt(["會談紀要", "一、……"], footer="機密（本件於公布時解密）"), ODT), C, "attachment")
    yield FreshCase("ODT header 極機密",
                    _att("紀要", "如附。", "minutes.odt", docgen.make_odt(["會談紀要"], header="極機密"), ODT), S, "attachment")
    yield FreshCase("RTF Big5 簽 with 機密 on top",
                    _att("簽", "如附。", "memo.rtf", docgen.make_rtf(sign_memo("機密"), codepage=950), RTF), C, "attachment")
    yield FreshCase(".di 代碼 絕對機密 至130年",
                    _att("公文", "電子公文如附。", "doc.di", docgen.make_edoc_xml("絕對機密", "專案計畫", declassify="本件至130年12月31日解密"), XML),
                    TS, "attachment")
    yield FreshCase(".di Big5 代碼 機密",
                    _att("公文", "電子公文如附。", "doc.di", docgen.make_edoc_xml("機密", "會談紀要", encoding="big5", declassify="本件於公布時解密"), XML),
                    C, "attachment")
    yield FreshCase("ZIP with a DOCX marked 機密 in its header",
                    _att("資料", "壓縮檔如附。", "docs.zip",
                         docgen.make_zip({"紀要.docx": docgen.make_docx(["會談紀要", "一、……"], header="機密")}), ZIP), C, "attachment")
    inner = _mail("【密】駐處安全檢查", telegram("密等：密"))
    yield FreshCase(".eml forwarded as attachment with a telegram 密等：密",
                    _att("FW: 安全檢查", "原信如附件。", "original.eml", inner, "message/rfc822"), R, "attachment")


# --------------------------------------------------------------------------- negatives

PRESS_RELEASE = """外交部新聞稿

外交部嚴正駁斥不實報導

針對今日部分媒體報導所謂「外交部機密文件外洩」一事，外交部嚴正澄清，報導內容與事實不符。
本部一向依國家機密保護法及相關規定妥善管理機密文件，並無報導所述情事。
外交部呼籲媒體查證後再行報導，以免誤導社會大眾。

外交部發言人室
中華民國115年3月4日
"""

ESPIONAGE_NEWS = """【新聞剪輯】前駐外人員涉洩密案一審判決

臺北地方法院昨日宣判，前駐外人員王姓男子涉嫌洩漏國家機密，違反國家機密保護法第32條，
判處有期徒刑3年。判決書指出，王男將核定為「極機密」之電報內容拍照傳送予他人，
另有2份「機密」等級文件遭其攜出。檢方表示將研議上訴。
（資料來源：中央社，2026年3月3日）
"""

LEAK_REPORT = """外交部駐外館處電報外洩案調查報告（摘要）

一、案由：本部於115年1月間接獲通報，駐某館處電報內容疑遭外流。
二、調查經過：經查該電報原核定為機密等級，並依規定以加密系統傳遞。
三、檢討：
（一）部分同仁對密件處理程序不熟悉，未依規定登記。
（二）密等標示、解密條件之註記應確實。
四、改進措施：加強公務機密維護教育訓練，每年至少2小時。
"""

ISMS_POLICY = """資訊安全政策

一、目的：為確保本部資訊資產之機密性、完整性及可用性，特訂定本政策。
二、資訊資產分級：依其機密性分為「機密」、「限閱」、「一般」三級。
（一）機密：指資產外洩將對本部造成嚴重損害者。
（二）限閱：指僅限特定人員使用者。
（三）一般：指可對外公開者。
三、本政策每年檢討一次。
"""

ISMS_EN = """Information Security Objectives 2026

The ISMS protects the confidentiality, integrity and availability of information assets.
Asset owners classify assets as Confidential, Internal or Public and review the register
annually. Contact the ISMS team for questions.
"""

DESTRUCTION_PROCEDURE = """機密文件銷毀作業說明

一、適用範圍：本部各單位保管之機密文件及密件。
二、機密文件銷毀前，應填具銷毀清冊，經單位主管核准。
三、銷毀應以碎紙機或化漿方式為之，並由二人以上會同監毀。
四、銷毀清冊應保存3年。
"""

PROCUREMENT = """採購規格書

一、標的：公文交換系統維護服務。
二、廠商應簽署保密協定，對於履約期間知悉之機密資料負保密義務。
三、系統應符合資通安全管理法，確保資料之機密性。
四、得標廠商人員應接受公務機密維護講習。
"""

REIMBURSEMENT = """各位同仁好：

3月份國內出差旅費請於3月31日前檢據報支，
報支單請送秘書處出納科，另請注意本月會議密集，請提早預約會議室。

秘書處　敬啟
"""

VISA_NOTICE = """Visa Notice

Applicants for Taiwan visitor visas must submit the completed form, a passport valid for
six months and a recent photograph. Personal data will be kept confidential and used only
for processing the application. Processing takes 5 working days.

Consular Section, Taipei Economic and Cultural Office
"""

INVITATION = """敬邀

中華民國115年國慶酒會
時間：115年10月10日（星期六）下午6時
地點：駐處官邸
敬請　光臨

駐日本台北經濟文化代表處　大使　敬邀
（敬請於9月30日前回覆出席與否）
"""

PASSWORD_NOTICE = """【系統通知】您的公文系統密碼將於7日後到期

親愛的使用者您好：
您的密碼將於115年3月11日到期，請登入後變更密碼。
密碼長度至少12碼，並應包含英文大小寫、數字及特殊符號。
資訊處　敬啟
"""

DISCLAIMER_ONLY = """Dear Mr. Tanaka,

Thank you for your kind hospitality during our visit. We look forward to seeing you in Taipei.

Best regards,
Yi-An Chen
""" + DISCLAIMER_EN

SENSITIVITY_QUOTED = """See below.

From: Wang, David
Sent: Tuesday, March 3, 2026 5:02 PM
To: Chen, Yi-An
Subject: Dinner on Friday
Importance: High
Sensitivity: Confidential

Yi-An, dinner is at 7 at the usual place.
"""

UNCLASS_PUBLIC = """UNCLASSIFIED//FOR PUBLIC RELEASE

Remarks by the Spokesperson on Cross-Strait Stability

The United States remains committed to peace and stability across the Taiwan Strait.

UNCLASSIFIED//FOR PUBLIC RELEASE
"""

NATO_UNCLASS = """NATO UNCLASSIFIED

Press release (2026) 031

NATO Allies met today to discuss ...

NATO UNCLASSIFIED
"""

SECRETARIAT = """UNITED NATIONS SECRETARIAT

Note verbale

The Secretariat of the United Nations presents its compliments to the Permanent Missions ...
"""

COPYRIGHT = """Taiwan Review — March 2026 issue is online.

(C) 2026 Ministry of Foreign Affairs, Republic of China (Taiwan). All rights reserved.
"""

SECRET_SERVICE = """News summary, 4 March

- The U.S. Secret Service said on Tuesday that it had tightened security around the venue.
- Top secret? Not really: the recipe of the embassy's pineapple cake will be revealed at the fair.
"""

PRC_NEWS = """新闻摘编

某地法院以为境外刺探、非法提供国家秘密罪判处被告有期徒刑十年。
法院认定其提供的资料中有机密级文件2份、秘密级文件5份。
"""

EMPTY_FIELD_FORWARD = outlook_zh("文書科", "函稿", letter(""))
ORDINARY_FIELD = letter("普通")
TELEGRAM_ORDINARY = telegram("密等：普通")

LAW_LECTURE = ["國家機密保護法概要", "國家機密等級：\n絕對機密：洩漏後足以造成國家安全或利益非常重大之損害\n"
               "極機密：洩漏後足以造成國家安全或利益重大之損害\n機密：洩漏後足以造成國家安全或利益損害",
               "一般公務機密：標示「密」", "問題與討論"]

ASSET_TABLE = [["資產編號", "資產名稱", "資產類別", "機密等級", "擁有者"],
               ["A-001", "公文系統資料庫", "資料", "機密", "資訊處"],
               ["A-002", "官網伺服器", "硬體", "一般", "資訊處"],
               ["A-003", "人事資料檔", "資料", "限閱", "人事處"],
               ["A-004", "電子郵件系統", "軟體", "限閱", "資訊處"]]


def negatives() -> Iterator[FreshCase]:
    for name, subject, body in [
        ("press release denying a leak", "外交部新聞稿", PRESS_RELEASE),
        ("news on an espionage trial quoting 極機密", "新聞剪輯", ESPIONAGE_NEWS),
        ("leak inquiry report", "調查報告摘要", LEAK_REPORT),
        ("ISMS policy with asset grades", "資安政策修正", ISMS_POLICY),
        ("ISMS objectives in English", "ISMS objectives", ISMS_EN),
        ("procedure for destroying classified paper", "機密文件銷毀作業說明", DESTRUCTION_PROCEDURE),
        ("procurement spec with 保密協定", "採購規格", PROCUREMENT),
        ("travel reimbursement from 秘書處", "差旅費報支", REIMBURSEMENT),
        ("visa notice", "Visa notice", VISA_NOTICE),
        ("national day invitation", "國慶酒會邀請", INVITATION),
        ("password expiry notice", "密碼到期通知", PASSWORD_NOTICE),
        ("thank-you mail with English disclaimer", "Thank you", DISCLAIMER_ONLY),
        ("quoted Sensitivity: Confidential line", "FW: Dinner on Friday", SENSITIVITY_QUOTED),
        ("UNCLASSIFIED//FOR PUBLIC RELEASE", "remarks", UNCLASS_PUBLIC),
        ("NATO UNCLASSIFIED press release", "NATO", NATO_UNCLASS),
        ("UNITED NATIONS SECRETARIAT note", "Note verbale", SECRETARIAT),
        ("(C) 2026 copyright line", "Taiwan Review", COPYRIGHT),
        ("Secret Service / top secret recipe", "News summary", SECRET_SERVICE),
        ("PRC news on a secrets trial", "新闻摘编", PRC_NEWS),
        ("Outlook forward of a letter with an empty 密等", "FW: 函稿", EMPTY_FIELD_FORWARD + DISCLAIMER_ZH),
        ("letter with 密等 普通", "函稿", ORDINARY_FIELD),
        ("telegram 密等：普通", "電報", TELEGRAM_ORDINARY),
        ("sign memo without a level", "簽稿", sign_memo("")),
    ]:
        yield FreshCase(name, _mail(subject, body), None, "body")
    yield FreshCase("Big5 reimbursement mail", _mail("差旅費", REIMBURSEMENT, charset="big5"), None, "body")
    yield FreshCase("GB18030 PRC news", _mail("新闻", PRC_NEWS, charset="gb18030"), None, "body")
    yield FreshCase("Outlook Sensitivity header Confidential", _mail("Lunch", "Lunch at noon?", headers={"Sensitivity": "Company-Confidential"}), None, "body")
    yield FreshCase("machine-written 機要室 and 機密性 mail",
                    _mail("公告", "機要室公告：本週五下午進行公文系統機密性與完整性測試，屆時暫停服務2小時。"), None, "body")
    yield FreshCase("film title 《機密任務》 in a staff newsletter",
                    _mail("同仁電子報", "本月電影欣賞：《機密任務》，3月20日晚間7時於B1禮堂放映，歡迎攜眷參加。"), None, "body")

    # subjects
    for subject in ["外交部新聞稿：外交部嚴正駁斥機密文件外洩報導", "【公告】機密文件銷毀作業說明修正", "RE: 保密協定簽署事宜",
                    "【資安宣導】資訊資產之機密性、完整性、可用性", "Secret Service coordination for the visit", "密集會議行程調整"]:
        yield FreshCase(f"subject {subject}", _mail(subject, "請參閱。"), None, "subject")

    # attachments
    yield FreshCase("PPTX lecture on the law listing the four levels",
                    _att("講習簡報", "講義如附。", "lecture.pptx", docgen.make_pptx(LAW_LECTURE), PPTX), None, "attachment")
    yield FreshCase("XLSX ISMS asset inventory with a 機密等級 column",
                    _att("資產清冊", "請更新。", "assets.xlsx", docgen.make_xlsx({"資產清冊": ASSET_TABLE}), XLSX), None, "attachment")
    yield FreshCase("PDF ISMS procedure footer 文件機密等級：一般",
                    _att("程序書", "如附。", "proc.pdf", docgen.make_pdf(["資訊資產管理程序書\n一、目的……"], header="外交部資訊安全管理系統",
                                                                       footer="文件機密等級：一般　第1頁"), PDF), None, "attachment")
    yield FreshCase("PDF ISMS footer with check boxes ■一般 □限閱 □機密",
                    _att("程序書", "如附。", "proc2.pdf", docgen.make_pdf(["存取控制程序書\n一、……"],
                                                                        footer="機密等級：■一般　□限閱　□敏感　□機密"), PDF), None, "attachment")
    yield FreshCase("DOCX destruction procedure",
                    _att("作業說明", "如附。", "destroy.docx", docgen.make_docx(DESTRUCTION_PROCEDURE.splitlines(), header="機密文件銷毀作業說明"), DOCX),
                    None, "attachment")
    yield FreshCase("DOCX ISMS policy with 機密性 in the header",
                    _att("政策", "如附。", "policy.docx", docgen.make_docx(ISMS_POLICY.splitlines(), header="資訊安全政策（機密性、完整性、可用性）"), DOCX),
                    None, "attachment")
    yield FreshCase("ODT procurement with 保密協定",
                    _att("規格", "如附。", "spec.odt", docgen.make_odt(PROCUREMENT.splitlines(), header="採購規格書"), ODT), None, "attachment")
    yield FreshCase("PDF press release",
                    _att("新聞稿", "如附。", "press.pdf", docgen.make_pdf([PRESS_RELEASE], header="外交部新聞稿", footer="第1頁，共1頁"), PDF), None, "attachment")
    yield FreshCase(".di with 代碼 普通 in Big5",
                    _att("公文", "如附。", "doc.di", docgen.make_edoc_xml("普通", "會議通知", encoding="big5"), XML), None, "attachment")
    yield FreshCase(".di unclassified",
                    _att("公文", "如附。", "doc.di", docgen.make_edoc_xml(None, "旅費報支"), XML), None, "attachment")
    yield FreshCase("ZIP of an unmarked letter",
                    _att("資料", "如附。", "docs.zip", docgen.make_zip({"函.docx": docgen.make_docx(letter("").splitlines())}), ZIP), None, "attachment")
    yield FreshCase("RTF Big5 espionage news",
                    _att("剪報", "如附。", "news.rtf", docgen.make_rtf(ESPIONAGE_NEWS, codepage=950), RTF), None, "attachment")
    yield FreshCase(".eml forwarded: invitation",
                    _att("FW: 邀請", "原信如附。", "invite.eml", _mail("國慶酒會", INVITATION), "message/rfc822"), None, "attachment")
    yield FreshCase("PPTX ISMS awareness with CIA triad",
                    _att("宣導", "如附。", "isms.pptx", docgen.make_pptx(["資訊安全三要素", "機密性\n完整性\n可用性", "機密性：資訊不被未授權者取得"]), PPTX),
                    None, "attachment")


# --------------------------------------------------------------------------- second batch
# Written after the first batch scored 100% recall (before reading the grammar): harder
# layouts and closer traps.

GMAIL_REPLY = """Thanks, noted. Will brief the Ambassador tomorrow.

On Wed, Mar 4, 2026 at 9:41 AM Lin Chih-Ming <cmlin@mofa.example> wrote:
> 外交部收電
> 電報專號：JPN0345
> 密等：機密
> 主旨：日方研判
> 一、……
"""

LEVEL_FORM_TEMPLATE = """外交部公文用紙（範本）

發文日期：
發文字號：
速別：□最速件 □速件 ■普通件
密等：□絕對機密 □極機密 □機密 □密 ■普通
解密條件：
主旨：
"""

QUIZ = """公務機密維護測驗

1. 國家機密分為哪三級？
答：絕對機密、極機密、機密。
2. 一般公務機密應如何標示？
答：標示「密」。
"""

FIELD_IN_PROSE = """各位同仁：

近來發現部分函稿之「密等及解密條件或保密期限」欄位漏填，凡屬機密以上之公文，
請務必於該欄位註明密等及解密條件，普通公文則免填。
文書科
"""

BANK_LETTER = """PRIVATE & CONFIDENTIAL

Mr. Chen Yi-An
Taipei Economic and Cultural Office

Dear Mr. Chen,
Your account statement for February 2026 is enclosed.

Yours sincerely,
Customer Service, Mizuho Bank
"""

JAPANESE_MAIL = """陳様

いつもお世話になっております。
秘密保持契約書（NDA）の案を添付いたしますので、ご確認ください。
機密性の高い情報の取扱いについては第5条をご参照ください。

外務省アジア大洋洲局　田中
"""

CALENDAR = """本週行事曆

3/9（一）09:00 機密文件管理研習（B1會議室）
3/10（二）14:00 秘書處業務會報
3/11（三）10:00 機要室設備檢查
"""

AWS_KEYS = """New credentials for the visa appointment system:

Access key ID: AKIAIOSFODNN7EXAMPLE
Secret access key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

Please store them in the password manager.
"""


def second_positives() -> Iterator[FreshCase]:
    yield FreshCase("Gmail reply quoting a telegram with >",
                    _mail("Re: cable", GMAIL_REPLY), C, "body")
    yield FreshCase("field with 於 instead of 至: 機密，本件於116年6月30日解密",
                    _mail("函稿", letter("機密，本件於116年6月30日解密")), C, "body")
    yield FreshCase("field with spaces and half-width brackets",
                    _mail("函稿", letter(" 極機密 ( 本件於公布時解密 )")), S, "body")
    yield FreshCase("field 機密（限閱）",
                    _mail("函稿", letter("機密（限閱）（本件於公布時解密）")), C, "body")
    yield FreshCase("ROC field in simplified script",
                    _mail("函稿", letter("机密（本件至116年6月30日解密）").replace("密等及解密條件或保密期限", "密等及解密条件或保密期限")), C, "body")
    yield FreshCase("簽 密等 and 解密條件 on one line",
                    _mail("簽稿", sign_memo("密等：機密　解密條件：會議結束後解密")), C, "body")
    yield FreshCase("indented spaced 機　密 first line",
                    _mail("簽稿", sign_memo("　　　　　　　　　　　　　　機　密")), C, "body")
    yield FreshCase("draft letter top line with lone 密",
                    _mail("函稿", "外交部　函（稿）　　　　　　　　　　密\n" + letter("密（本件於公布時解密）").split("外交部　函", 1)[1]), R, "body")
    yield FreshCase("subject (S//NF) portion mark", _mail("(S//NF) Readout of the call", "Attached."), S, "subject")
    yield FreshCase("subject COSMIC TOP SECRET", _mail("COSMIC TOP SECRET - MC 14/4 annex", "Attached."), TS, "subject")
    yield FreshCase("msip_labels header 機密",
                    _mail("資料", "如附。", headers={"msip_labels": "MSIP_Label_3de9faa6-9fe1-49b3-9a08-227a296b54a6_Enabled=True; "
                                                  "MSIP_Label_3de9faa6-9fe1-49b3-9a08-227a296b54a6_Name=機密;"}), C, "body")
    yield FreshCase("US portion marks only (TS)",
                    _mail("notes", "Working notes\n\n(TS) The liaison service reported ...\n\n(U) Follow-up next week."), TS, "body")
    yield FreshCase("NATO SECRET BOHEMIA",
                    _mail("NAC", "NATO SECRET BOHEMIA\n\nSIGINT summary ...\n\nNATO SECRET BOHEMIA"), S, "body")
    yield FreshCase("XLSX A1 CONFIDENTIAL//REL TO USA, TWN",
                    _att("list", "Attached.", "list.xlsx", docgen.make_xlsx({"S": [["CONFIDENTIAL//REL TO USA, TWN"], ["Name", "Unit"], ["Lee", "J2"]]}), XLSX),
                    C, "attachment")
    # A lone, uncaveated TOP SECRET heading on one slide is left out as ambiguous (a staff
    # newsletter titles its gossip column the same way); US slides carry the banner top and bottom.
    yield FreshCase("PPTX TOP SECRET banner top and bottom of a slide",
                    _att("brief", "Attached.", "brief.pptx", docgen.make_pptx(["TOP SECRET\nRegional assessment\nTOP SECRET", "Agenda"]), PPTX),
                    TS, "attachment")
    yield FreshCase("ODT footer NATO RESTRICTED",
                    _att("NATO", "Attached.", "n.odt", docgen.make_odt(["Partnership plan"], footer="NATO RESTRICTED"), ODT), R, "attachment")
    yield FreshCase("PDF header 机密★ GB",
                    _att("转发", "见附件。", "n.pdf", docgen.make_pdf(["关于……的通知"], header="机密★", fontname="china-s"), PDF), S, "attachment")
    yield FreshCase("DOCX table with 密等 / 解密條件 header row and a value row",
                    _att("簽", "如附。", "s.docx", docgen.make_docx(["簽　於亞東太平洋司"], table=[["密等", "解密條件"], ["極機密", "本件於公布時解密"]]), DOCX),
                    S, "attachment")
    yield FreshCase("PDF header band with English agency and level",
                    _att("minutes", "如附。", "m.pdf", docgen.make_pdf(["Joint minutes\n..."], header="Ministry of Foreign Affairs　機密"), PDF), C, "attachment")


def second_negatives() -> Iterator[FreshCase]:
    for name, subject, body in [
        ("blank 密等 check-box form template with ■普通", "公文範本", LEVEL_FORM_TEMPLATE),
        ("quiz listing the levels", "測驗", QUIZ),
        ("field name in prose", "文書作業提醒", FIELD_IN_PROSE),
        ("bank letter PRIVATE & CONFIDENTIAL", "Statement", BANK_LETTER),
        ("Japanese NDA mail 秘密保持 / 機密性", "NDA", JAPANESE_MAIL),
        ("calendar with 機密文件管理研習", "行事曆", CALENDAR),
        ("Secret access key", "credentials", AWS_KEYS),
    ]:
        yield FreshCase(name, _mail(subject, body), None, "body")
    yield FreshCase("函 about the 機密文件管理要點 with empty field",
                    _mail("函稿", letter("", subject="檢送「機密文件管理要點」修正草案1份，請查照。")), None, "body")
    yield FreshCase("PDF header band 機密文件管理要點",
                    _att("要點", "如附。", "rules.pdf", docgen.make_pdf(["第一點　為加強機密文件之管理……"], header="機密文件管理要點"), PDF), None, "attachment")
    yield FreshCase("PDF footer 本文件含個人資料",
                    _att("名冊", "如附。", "roster.pdf", docgen.make_pdf(["人員名冊"], footer="本文件含個人資料，請妥善保管"), PDF), None, "attachment")
    yield FreshCase("DOCX course outline with chapter 機密之核定",
                    _att("課綱", "如附。", "course.docx", docgen.make_docx(["國家機密保護法講習課綱", "第一章　總則", "第二章　機密之核定",
                                                                            "第三章　機密之維護", "第四章　機密之解除"]), DOCX), None, "attachment")


# --------------------------------------------------------------------------- third batch
# Written after the second batch, still from how documents look, aiming at layouts the
# first two batches did not try.

GLOSSARY = """外交常用詞彙中英對照

絕對機密　TOP SECRET
極機密　SECRET
機密　CONFIDENTIAL
一般公務機密　RESTRICTED

（資料來源：本部翻譯手冊）
"""

SECURITY_REMINDER = """各位同仁：

依規定，機密公文不得以電子郵件傳送；如需傳遞密件，請循機要管道辦理。
本表填妥後請以「密」件送人事處。
政風室　敬啟
"""

MEETING_MINUTES = """司務會議紀錄

時間：115年3月4日上午9時
主席：李司長

一、本案相關資料列為密件，請與會人員於會後繳回。
二、下週起各科輪值表如附，請密切配合。
三、臨時動議：無。
"""

SECRETARY_LETTER = """THE SECRETARY OF STATE
WASHINGTON

Dear Minister,

Thank you for your letter of February 20. I look forward to our meeting.

Sincerely,
"""

US_LEVELS_TRAINING = """Classification levels (training module 2)

TOP SECRET
SECRET
CONFIDENTIAL

Each level is assigned by an original classification authority.
"""


def third_positives() -> Iterator[FreshCase]:
    yield FreshCase("mid-mail lone 機密 before a pasted telegram",
                    _mail("電報", "王參事：\n\n以下為電報內容，請參：\n\n機密\n\n主旨：日方研判\n一、……\n二、……\n\n謝謝\n怡安"), C, "body")
    yield FreshCase("field 密，本件於公布時解密",
                    _mail("函稿", letter("密，本件於公布時解密")), R, "body")
    yield FreshCase("field with dotted date 機密(本件至116.6.30解密)",
                    _mail("函稿", letter("機密(本件至116.6.30解密)")), C, "body")
    yield FreshCase("速別 and 密等 on one laid-out line",
                    _mail("函稿", letter("").replace("速別：速件\n密等及解密條件或保密期限：", "速別：最速件　　　密等：極機密")), S, "body")
    yield FreshCase("subject [密] ASCII brackets", _mail("[密] 年度考評", "請參。"), R, "subject")
    yield FreshCase("subject 【機 密】 spaced", _mail("Fw: 【機 密】會談紀要", "請參。"), C, "subject")
    yield FreshCase("US (U//FOUO) portion marks only",
                    _mail("schedule", "Visit schedule\n\n(U//FOUO) The delegation arrives on March 9.\n\n(U//FOUO) Hotel details follow."), R, "body")
    yield FreshCase("US (CUI) portion marks only",
                    _mail("roster", "Roster\n\n(CUI) Names and passport numbers of the delegation.\n\n(U) Hotel: Grand Hyatt."), R, "body")
    yield FreshCase("XLSX A1 機密, A2 condition",
                    _att("名單", "如附。", "l.xlsx", docgen.make_xlsx({"S": [["機密"], ["本件於公布時解密"], ["姓名", "職稱"], ["王大明", "參事"]]}), XLSX),
                    C, "attachment")
    yield FreshCase("XLSX A1 NATO RESTRICTED",
                    _att("list", "Attached.", "n.xlsx", docgen.make_xlsx({"S": [["NATO RESTRICTED"], ["Name", "Unit"]]}), XLSX), R, "attachment")
    yield FreshCase("DOCX header 机密★3年",
                    _att("转发", "见附件。", "t.docx", docgen.make_docx(["关于……的通知", "各单位："], header="机密★3年"), DOCX), S, "attachment")
    yield FreshCase("ODT header 秘密★",
                    _att("转发", "见附件。", "t.odt", docgen.make_odt(["关于……的通知"], header="秘密★"), ODT), C, "attachment")
    yield FreshCase("PDF header band 機密 right-aligned after the agency with a gap",
                    _att("函", "如附。", "l.pdf", docgen.make_pdf([letter("")], header="外交部亞東太平洋司　　　　　　　　　　　　機密"), PDF), C, "attachment")


def third_negatives() -> Iterator[FreshCase]:
    for name, subject, body in [
        ("glossary of levels with English equivalents", "詞彙", GLOSSARY),
        ("security reminder about 密件", "提醒", SECURITY_REMINDER),
        ("minutes: 列為密件, 密切配合", "會議紀錄", MEETING_MINUTES),
        ("THE SECRETARY OF STATE letterhead", "Letter", SECRETARY_LETTER),
        ("training list of US levels", "training", US_LEVELS_TRAINING),
    ]:
        yield FreshCase(name, _mail(subject, body), None, "body")
    yield FreshCase("subject 機密等級調整說明會", _mail("機密等級調整說明會", "請準時出席。"), None, "subject")
    yield FreshCase("subject 《極機密》 news headline", _mail("《極機密》美中會談內幕", "剪報如附。"), None, "subject")
    yield FreshCase("XLSX glossary of levels",
                    _att("詞彙", "如附。", "g.xlsx", docgen.make_xlsx({"詞彙": [["中文", "English"], ["絕對機密", "Top Secret"], ["極機密", "Secret"],
                                                                              ["機密", "Confidential"]]}), XLSX), None, "attachment")
    yield FreshCase("DOCX ISMS asset table",
                    _att("資產", "如附。", "a.docx", docgen.make_docx(["資訊資產清冊"], table=ASSET_TABLE), DOCX), None, "attachment")
    yield FreshCase("PDF header band THE SECRETARY OF STATE",
                    _att("Letter", "Attached.", "l.pdf", docgen.make_pdf(["Dear Minister,\nThank you."], header="THE SECRETARY OF STATE", fontname="helv"), PDF),
                    None, "attachment")
    yield FreshCase("PDF vendor deck footer Proprietary & Confidential",
                    _att("proposal", "Attached.", "p.pdf", docgen.make_pdf(["Managed SOC services\nPricing"], footer="Proprietary & Confidential   Page 2",
                                                                         fontname="helv"), PDF), None, "attachment")
    yield FreshCase("HTML newsletter heading 機密 with its definition",
                    _mail("電子報", "請見下方。", html="<h2>機密</h2><p>指洩漏後足以造成國家安全或利益損害之事項。</p><h2>密碼</h2><p>請定期更換。</p>"),
                    None, "body")


# --------------------------------------------------------------------------- fourth batch

HANDOUT_TOC = """國家機密保護實務講義

第一章　總則

第二章　機密

第三章　一般公務機密

第四章　罰則
"""

AUTO_REPLY = """自動回覆：我目前不在辦公室，將於3月9日返回。
緊急事項請洽陳科員（分機2415）。本郵件可能含機密資訊，請勿轉寄。

I am out of the office until March 9. For urgent matters, please contact Ms. Chen.
"""

LY_QUESTION = """立法院第11屆第3會期質詢稿（摘要）

委員質詢：外交部是否將該電報列為極機密？是否已依國家機密保護法辦理？
部長答復：相關電報之密等核定均依規定辦理，詳細內容不便公開說明。
"""


def fourth_positives() -> Iterator[FreshCase]:
    yield FreshCase("HTML-only mail with a right-aligned 機密 top line",
                    _mail("函稿", "請見下方。", html='<div style="text-align:right">機密</div><p>檔號：115/0521.03</p>'
                          "<p>主旨：檢送會談紀要1份，請查照。</p><p>說明：……</p>"), C, "body")
    yield FreshCase("DOCX header with tab stops 外交部\\t\\t機密",
                    _att("紀要", "如附。", "m.docx", docgen.make_docx(["會談紀要", "一、……"], header="外交部\t\t機密"), DOCX), C, "attachment")
    yield FreshCase("file name 東京會談紀要（機密）.pdf on an unmarked text layer",
                    _att("紀要", "如附。", "東京會談紀要（機密）.pdf", docgen.make_pdf(["會談紀要\n一、……"]), PDF), C, "attachment")
    yield FreshCase("subject level in brackets at the end", _mail("駐日處電報轉陳（極機密）", "請參。"), S, "subject")
    yield FreshCase("PDF band with spaced condition",
                    _att("函", "如附。", "l.pdf", docgen.make_pdf(["說帖\n一、……"], header="機密 ( 本件至 116 年 6 月 30 日解密 )"), PDF), C, "attachment")
    yield FreshCase("PRC 機密★1年 retyped in traditional script",
                    _mail("轉發", "機密★1年\n\n關於加強涉外工作的通知\n\n各單位：\n……"), S, "body")
    yield FreshCase("telegram 密等 and a separate 解密條件 line",
                    _mail("電報", telegram("密等：極機密\n解密條件：本件於公布時解密")), S, "body")
    yield FreshCase("US HTML mail with SECRET//NOFORN paragraphs",
                    _mail("readout", "See below.", html="<p>SECRET//NOFORN</p><p>(S//NF) The interlocutor said ...</p><p>SECRET//NOFORN</p>"),
                    S, "body")
    yield FreshCase("US e-mail Classification: SECRET//NOFORN first line",
                    _mail("talking points", "Classification: SECRET//NOFORN\n\nPlease find the talking points below.\n\n1. (S//NF) ..."), S, "body")
    yield FreshCase("msip_labels header Highly Confidential \\\\ 極機密",
                    _mail("資料", "如附。", headers={"msip_labels": "MSIP_Label_11111111-2222-3333-4444-555555555555_Enabled=True; "
                                                  "MSIP_Label_11111111-2222-3333-4444-555555555555_Name=極機密;"}), S, "body")


def fourth_negatives() -> Iterator[FreshCase]:
    for name, subject, body in [
        ("handout table of contents with 第二章　機密", "講義", HANDOUT_TOC),
        ("auto-reply mentioning 機密資訊", "自動回覆", AUTO_REPLY),
        ("Legislative Yuan question about 極機密", "質詢稿", LY_QUESTION),
    ]:
        yield FreshCase(name, _mail(subject, body), None, "body")
    yield FreshCase("letter inviting to a 國家機密保護法 course, empty field",
                    _mail("函", letter("", subject="本部訂於115年4月1日辦理「國家機密保護法」講習，請派員參加。")), None, "body")
    yield FreshCase("form with □密件 ■普通件",
                    _mail("申請", "公文傳遞申請單\n\n件別：□密件　■普通件\n申請人：陳怡安\n"), None, "body")
    yield FreshCase("PDF letter with 密等 普通",
                    _att("函", "如附。", "l.pdf", docgen.make_pdf([letter("普通")], footer="第1頁，共1頁"), PDF), None, "attachment")
    yield FreshCase("subject 密碼：請於今日變更", _mail("密碼：請於今日變更", "謝謝。"), None, "subject")
    yield FreshCase("file name 機密文件銷毀清冊.xlsx",
                    _att("清冊", "如附。", "機密文件銷毀清冊.xlsx", docgen.make_xlsx({"S": [["日期", "件數"], ["115/3/4", "12"]]}), XLSX), None, "attachment")


# --------------------------------------------------------------------------- fifth batch
# Older US forms (before the 2008 marking register): single-slash or blank caveats.

OLD_CABLE = """SECRET/NOFORN

SUBJECT: TAIWAN: VIEWS ON THE MARITIME DIALOGUE

REF: A. TAIPEI 000456

1. (S/NF) Summary: Interlocutors said ...

2. (C) Comment: ...

SECRET/NOFORN
"""


def fifth_positives() -> Iterator[FreshCase]:
    yield FreshCase("old US cable SECRET/NOFORN with (S/NF) portions", _mail("cable", OLD_CABLE), S, "body")
    yield FreshCase("old US banner CONFIDENTIAL NOFORN",
                    _mail("cable", "CONFIDENTIAL NOFORN\n\nSUBJECT: VISIT\n\n1. (C) The delegation ...\n\nCONFIDENTIAL NOFORN"), C, "body")
    yield FreshCase("portion marks only, single slash (S/REL TO USA, TWN)",
                    _mail("notes", "Notes\n\n(S/REL TO USA, TWN) The schedule was confirmed.\n\n(U) Next meeting in April."), S, "body")
    yield FreshCase("subject (U//FOUO)", _mail("(U//FOUO) Visit logistics", "Attached."), R, "subject")


def fifth_negatives() -> Iterator[FreshCase]:
    yield FreshCase("subject (U) visit logistics", _mail("(U) Visit logistics", "Attached."), None, "subject")
    yield FreshCase("address line (C/O Embassy of Japan)",
                    _mail("Invitation", "Mr. Tanaka\n(C/O EMBASSY OF JAPAN) Taipei\n\n(S) small, (M) medium sizes are available for the run."), None, "body")
    yield FreshCase("English prose: cable said SECRET/NOFORN",
                    _mail("news", "The leaked cable, marked SECRET/NOFORN, was published by the newspaper on Tuesday."), None, "body")


# --------------------------------------------------------------------------- sixth batch
# Nested containers and plain-text attachments; a training slide headed by a level.


def sixth_positives() -> Iterator[FreshCase]:
    marked_pdf = _att("紀要", "如附。", "m.pdf", docgen.make_pdf(["會談紀要"], header="極機密"), PDF)
    yield FreshCase(".eml forwarded with a PDF banded 極機密 inside",
                    _att("FW: 紀要", "原信如附件。", "original.eml", marked_pdf, "message/rfc822"), S, "attachment")
    yield FreshCase("ZIP holding an e-document .di 代碼 機密",
                    _att("公文", "如附。", "edoc.zip", docgen.make_zip({"A01.di": docgen.make_edoc_xml("機密", "會談紀要")}), ZIP), C, "attachment")
    yield FreshCase("Big5 .txt telegram 密等：機密",
                    _att("電報", "如附。", "cable.txt", telegram("密等：機密").encode("big5"), "text/plain"), C, "attachment")
    yield FreshCase("GB18030 .txt 机密★5年",
                    _att("转发", "见附件。", "tz.txt", "机密★5年\n\n关于……的通知\n".encode("gb18030"), "text/plain"), S, "attachment")
    yield FreshCase("Outlook zh chain two deep, 密等 in the oldest mail",
                    _mail("RE: RE: 紀要", "收到\n\n寄件者: 陳科員\n傳送時間: 2026年3月4日\n收件者: 林科長\n主旨: RE: 紀要\n\n好的\n\n"
                          "寄件者: 林科長\n傳送時間: 2026年3月3日\n收件者: 陳科員\n主旨: 紀要\n\n密等：極機密\n紀要如下：……"), S, "body")
    yield FreshCase("DOCX footer 機密 - 第 1 頁 -",
                    _att("紀要", "如附。", "m.docx", docgen.make_docx(["會談紀要"], footer="機密 - 第 1 頁 -"), DOCX), C, "attachment")
    yield FreshCase("lone 機密 before 一、應美方邀請…",
                    _mail("簽", "機密\n\n一、應美方邀請，本部擬派員出席區域安全對話。\n二、經費由本司預算支應。\n\n亞太司"), C, "body")


def sixth_negatives() -> Iterator[FreshCase]:
    yield FreshCase("PPTX training slide 機密 with handling bullets",
                    _att("簡報", "如附。", "rules.pptx", docgen.make_pptx(["機密\n• 應存放於保險櫃\n• 不得以電子郵件傳送\n• 影印應登記"]), PPTX),
                    None, "attachment")
    yield FreshCase("PPTX one level per slide",
                    _att("簡報", "如附。", "levels.pptx", docgen.make_pptx(["國家機密等級", "絕對機密", "極機密", "機密", "一般公務機密：密"]), PPTX),
                    None, "attachment")
    yield FreshCase("XLSX incident sheet 機密性 impact",
                    _att("通報", "如附。", "inc.xlsx", docgen.make_xlsx({"S": [["衝擊面向", "等級"], ["機密性", "中"], ["完整性", "低"], ["可用性", "低"]]}), XLSX),
                    None, "attachment")
    yield FreshCase("incident report on a leak of 一般公務機密",
                    _mail("資安事件通報", "資安事件通報單\n事件等級：3級\n說明：本事件涉及一般公務機密之輕微洩漏，已完成處置。\n影響範圍：機密性\n"), None, "body")


# --------------------------------------------------------------------------- seventh batch
# The security office's own marked papers talk about classification: a marked 簽 on a
# leak case, a marked training plan, a US paper naming other levels. And the unmarked
# letter of the same office that lists the levels.

LEAK_MEMO = """機密
簽　於政風室
日期：115年3月4日

主旨：有關本部駐外館處電報洩密案調查結果，簽請鑒核。
說明：
一、本案涉及極機密電報1件、機密電報2件及一般公務機密文件若干，已移送地檢署偵辦。
二、建議加強同仁保密教育訓練。
擬辦：奉核後函送法務部調查局參考。
"""

TRAINING_PLAN = """密
簽　於政風室
日期：115年3月4日

主旨：擬辦理本年度公務機密維護教育訓練課程，簽請核示。
說明：
一、課程內容含機密文件之收發、保管與銷毀。
二、講座鐘點費由本室預算支應。
擬辦：奉核後公告周知。
"""

US_REVIEW = """SECRET//NOFORN

SUBJECT: (U) Review of classification training

1. (S//NF) Personnel mishandled TOP SECRET and CONFIDENTIAL material during the transfer.

2. (U) Refresher training is scheduled for April.

SECRET//NOFORN
"""

AWARENESS_LETTER = """主旨：檢送公務機密維護宣導資料1份，請查照。
說明：
一、國家機密等級如下：
絕對機密
極機密
機密
二、一般公務機密應標示「密」。
正本：本部各單位
"""


def seventh_positives() -> Iterator[FreshCase]:
    yield FreshCase("marked 簽 on a leak case naming three levels", _mail("簽", LEAK_MEMO), C, "body")
    yield FreshCase("marked 簽 on a training plan (密)", _mail("簽", TRAINING_PLAN), R, "body")
    yield FreshCase("US SECRET//NOFORN paper naming other levels", _mail("review", US_REVIEW), S, "body")
    yield FreshCase("PDF banded 機密 on the leak-case memo",
                    _att("簽", "如附。", "memo.pdf", docgen.make_pdf([LEAK_MEMO.split("\n", 1)[1]], header="機密"), PDF), C, "attachment")


def seventh_negatives() -> Iterator[FreshCase]:
    yield FreshCase("awareness letter listing the levels one per line", _mail("宣導", AWARENESS_LETTER), None, "body")


# --------------------------------------------------------------------------- eighth batch
# The remaining formats a mission receives: ODS, ODP, Word 97 .doc, Outlook .msg, TNEF.



def eighth_positives() -> Iterator[FreshCase]:
    yield FreshCase("ODS A1 機密 over a list",
                    _att("名單", "如附。", "list.ods", docgen.make_ods({"S": [["機密"], ["姓名", "職稱"], ["王大明", "參事"]]}), ODS), C, "attachment")
    yield FreshCase("ODP first slide 極機密",
                    _att("簡報", "如附。", "deck.odp", docgen.make_odp(["極機密\n區域情勢研判"]), ODP), S, "attachment")
    yield FreshCase("Word 97 .doc header 機密",
                    _att("紀要", "如附。", "minutes.doc", docgen.make_doc(["會談紀要", "一、……"], header="機密"), "application/msword"), C, "attachment")
    yield FreshCase("Outlook .msg with a telegram 密等：極機密",
                    _att("FW: 電報", "如附。", "cable.msg", docgen.make_outlook_msg("電報", telegram("密等：極機密")), "application/vnd.ms-outlook"),
                    S, "attachment")
    yield FreshCase("TNEF winmail.dat with a DOCX headed 機密",
                    _att("紀要", "如附。", "winmail.dat",
                         docgen.make_tnef({"m.docx": docgen.make_docx(["會談紀要"], header="機密")}, subject="紀要", body="如附"), "application/ms-tnef"),
                    C, "attachment")
    yield FreshCase("DOCX letter-form table: 機密 cell, 速別 / 普通 cells below",
                    _att("函", "如附。", "form.docx", docgen.make_docx(["外交部　函"], table=[["檔號", "115/0521.03"], ["保存年限", "10年"], ["機密", ""],
                                                                                       ["速別", "普通"]]), DOCX), C, "attachment")


def eighth_negatives() -> Iterator[FreshCase]:
    yield FreshCase("DOCX ISMS asset table with six columns",
                    _att("資產", "如附。", "assets.docx", docgen.make_docx(["資訊資產清冊"], table=[
                        ["編號", "名稱", "類別", "機密等級", "擁有者", "位置"], ["A1", "資料庫", "資料", "機密", "資訊處", "機房"],
                        ["A2", "網站", "硬體", "一般", "資訊處", "機房"], ["A3", "人事檔", "資料", "限閱", "人事處", "3F"]]), DOCX), None, "attachment")
    yield FreshCase("ODS glossary of levels",
                    _att("詞彙", "如附。", "g.ods", docgen.make_ods({"S": [["中文", "English"], ["絕對機密", "Top Secret"], ["極機密", "Secret"],
                                                                            ["機密", "Confidential"]]}), ODS), None, "attachment")
    yield FreshCase("RTF Big5 ISMS policy",
                    _att("政策", "如附。", "policy.rtf", docgen.make_rtf(ISMS_POLICY, codepage=950), RTF), None, "attachment")
    yield FreshCase("Outlook .msg press release",
                    _att("FW: 新聞稿", "如附。", "press.msg", docgen.make_outlook_msg("外交部新聞稿", PRESS_RELEASE), "application/vnd.ms-outlook"),
                    None, "attachment")


def build_fresh() -> list[FreshCase]:
    return [*positives(), *negatives(), *second_positives(), *second_negatives(),
            *third_positives(), *third_negatives(), *fourth_positives(), *fourth_negatives(),
            *fifth_positives(), *fifth_negatives(), *sixth_positives(), *sixth_negatives(),
            *seventh_positives(), *seventh_negatives(), *eighth_positives(), *eighth_negatives()]
