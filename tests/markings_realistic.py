"""An independent, hand-written corpus of realistic mission mail for the marking detector.

tests/markings_corpus.py is generated from templates by the detector's author; this one is
written separately, case by case, from how real documents look: a ministry letter (函) with
its full field layout and the 密等 value on the next line or in a table cell, embassy
telegrams (來電 / 去電 with 收電時間 and 電報專號), sign-off memos (簽), meeting notices
(開會通知單), copies (複製物), page bands with the agency name or page number beside the
level, stamped spaced levels, a lone 「密」 banner, US cables in the old spaced-banner
format with E.O./DECL lines, State e-mail "Classification:" lines, NATO, PRC ★ notices, CUI,
forwarded and replied mail quoting a marked letter, and mixed-script mail.

The negatives are the texts a ministry's mail is full of: Chinese and English
confidentiality disclaimers, signature reminders (機密資料請勿以電子郵件傳送), awareness
newsletters (資安宣導, 公務機密維護宣導), news on leak cases and on declassified archives,
quoted law articles, minutes about 機密等級之核定, procurement and NDA wording (保密,
機密性, 商業機密, 營業秘密), password mail, empty or 普通 密等 fields, blank checkbox forms,
"Secret Santa", "Confidential Treatment Requested", UNCLASSIFIED banners and (U) marks.

Every case is a full RFC 5322 message (tests/docgen.py) with the level the gateway must
report (None for unmarked). Attachment cases go through real extraction.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import docgen
from corpus_scoring import DOCX, ODT, PDF, PPTX, TS, XLSX, C, R, S
from corpus_scoring import LabelledCase as RealCase
from corpus_scoring import mail as _mail

# --------------------------------------------------------------------------- documents

def mofa_letter(field: str, *, subject: str = "有關美國聯邦眾議院外交委員會議員訪團來訪接待事宜，請查照。",
                field_on_next_line: bool = False, colon: str = "：", number: str = "外北美字第11500087650號") -> str:
    """外交部 函 as it is printed from the document system (one field per line)."""
    secrecy = (f"密等及解密條件或保密期限{colon}\n{field}" if field_on_next_line
               else f"密等及解密條件或保密期限{colon}{field}")
    return f"""檔　　號：115/0312.01
保存年限：

外交部　函

地址：10048臺北市中正區凱達格蘭大道2號
聯絡人：林怡君
電話：(02)2348-2999
傳真：(02)2361-7694
電子信箱：yclin@mofa.gov.tw

受文者：駐美國台北經濟文化代表處

發文日期：中華民國115年3月2日
發文字號：{number}
速別：最速件
{secrecy}
附件：如說明二

主旨：{subject}
說明：
一、依據美國聯邦眾議院外交委員會115年2月25日來函辦理。
二、檢送訪團成員名單及初步行程表各1份，請貴處協助洽排拜會行程。
三、本案請於3月10日前回復。

正本：駐美國台北經濟文化代表處
副本：本部北美司、禮賓處（均含附件）
"""


TELEGRAM_IN = """駐日本台北經濟文化代表處　來電

收電時間：115年3月5日 14時20分
電報專號：JPN0471
密　　等：{level}
速　　別：最速件
受 電 者：外交部

主旨：日方對近期區域情勢之研判
一、本處謝大使今晨拜會日本外務省亞洲大洋洲局局長，就區域情勢交換意見。
二、該局長表示，日方將持續關注台海和平穩定，並盼與我保持密切溝通。
三、謹電奉陳，敬請鑒察。
"""

TELEGRAM_OUT = """外交部　去電

發電時間：115年3月6日 09時15分
電報號碼：第0223號
受電館處：駐歐盟兼駐比利時代表處
密等：{level}
速別：速件

主旨：請洽詢歐方對我參與相關國際組織之立場
一、請貴處洽歐盟對外事務部主管官員，瞭解其對我參與之具體立場。
二、洽談結果請電復。
"""

SIGN_MEMO = """{banner}
簽　　於北美司
日期：中華民國115年3月9日

主旨：擬派員出席美方舉辦之區域安全閉門研討會，簽請鑒核。
說明：
一、美方智庫邀請本部派員以個人身分出席，會議採查坦樓守則（Chatham House Rule）。
二、與會名單及議程如附件。
擬辦：奉核後通知美方並辦理出國手續。

敬陳
次長
部長
"""

MEETING_NOTICE = """外交部　開會通知單

受文者：國家安全會議、國防部、經濟部
發文日期：中華民國115年3月3日
發文字號：外亞太字第11500123400號
速別：速件
密等及解密條件或保密期限：{field}
附件：議程1份

開會事由：研商友邦總統訪問行程維安事宜
開會時間：115年3月12日（星期四）下午2時30分
開會地點：本部4樓402會議室
主持人：常務次長
聯絡人及電話：陳科長　(02)2348-2000
出席者：國家安全局、內政部警政署、本部禮賓處
備註：本次會議資料會後收回，請勿攜出。
"""

US_CABLE = """{banner} SECTION 01 OF 02 TAIPEI 000342

SIPDIS

E.O. 13526: DECL: 03/02/2041
TAGS: PREL, PGOV, ECON, TW
SUBJECT: ({p}) TAIWAN: MOFA READOUT OF STRAIT DEVELOPMENTS

REF: A. STATE 012345
     B. TAIPEI 000298

Classified By: Deputy Director for reasons 1.4(b) and (d)

1. ({p}) Summary: MOFA officials briefed on the week's developments and
asked for continued close consultation. End summary.

2. ({p}) The Director General of North American Affairs said the ministry
expects further pressure on diplomatic partners in the coming months.

3. (U) Comment: Post will continue to follow the issue.
"""

STATE_EMAIL = """Classification: {c}

Colleagues,

Per our discussion, attached are the talking points for Thursday's call.
Please send edits by COB Wednesday.

Thanks,
Mark

Official
Classification: {c}
"""

PRC_NOTICE = """{banner}

国务院台湾事务办公室
关于做好近期涉台交流活动安全工作的通知

国台办发〔2026〕17号

各省、自治区、直辖市台办：
为切实做好近期涉台交流活动的安全保障工作，现将有关事项通知如下：
一、高度重视，加强组织领导。
二、严格审批，规范活动管理。
三、严守保密纪律，本通知不得翻印、转载。

2026年3月4日
"""

NATO_MEMO = """NATO RESTRICTED

NORTH ATLANTIC TREATY ORGANIZATION
INTERNATIONAL STAFF

PO(2026)0117                                   5 March 2026

MEMORANDUM

To: Permanent Representatives (Council)
From: Secretary General
Subject: Partnership consultations with Indo-Pacific partners

1. Attached is a summary of the consultations held on 2 March.
2. Unless I hear to the contrary by 12:00 hours on 10 March, I shall assume Council
   notes the summary.

NATO RESTRICTED
"""

CUI_DOC = """CUI

Controlled by: Department of State, EAP/TC
CUI Category: Export Controlled
Distribution/Dissemination Control: FEDCON
POC: jdoe@state.example, 202-555-0143

Subject: Export license review for dual-use components

The attached list identifies the license applications pending review.

CUI
"""


# --------------------------------------------------------------------------- negatives

ZH_DISCLAIMER_1 = """王科長您好：

附件為本週工作會報紀錄，請查收。

陳志明
外交部北美司 第一科
電話：(02)2348-2888

本電子郵件及附件可能含有機密或受法律保護之資訊，若您非指定收件者，請勿使用、揭露、複製或散布，並請立即通知寄件者後刪除，謝謝。
"""

ZH_DISCLAIMER_2 = """Dear all,

明日上午十點的會議改至三樓會議室，請準時出席。

Best regards,
黃怡萱 Sharon Huang
業務部 | 宏達國際股份有限公司

【機密聲明】
本郵件（包括附件）含有機密資訊，僅供指定之收件人使用。如您誤收本郵件，請即刪除並通知寄件人，嚴禁任何未經授權之使用、複製或散布。
CONFIDENTIALITY NOTICE: This e-mail and any attachments are confidential and intended solely for the addressee.
"""

SIGNATURE_REMINDER = """各位好，

下週二的簡報資料已上傳至共用資料夾，請於週一前提供意見。

李佳穎
外交部亞東太平洋司
※機密資料請勿以電子郵件傳送※
※公務機密文書請依規定循機要管道傳遞※
"""

AWARENESS = """【資安宣導】公務機密維護宣導

各位同仁：

為落實公務機密維護，茲提醒同仁注意下列事項：
一、國家機密依國家機密保護法區分為「絕對機密」、「極機密」及「機密」三個等級，一般公務機密則以「密」標示。
二、機密文書不得以電子郵件或通訊軟體傳送，應以專人或機要管道遞送。
三、離開座位時應將機密文件收妥，並將電腦螢幕上鎖。
四、發現疑似洩密情事，請立即向政風室通報。

政風室　敬啟
"""

NEWS_LEAK = """外交部前雇員洩密案　北檢起訴

（中央社記者林政忠台北5日電）外交部一名約聘雇員涉嫌將多份公文翻拍外洩，台北地檢署今天依違反國家機密保護法等罪嫌起訴。

起訴書指出，被告任職期間利用職務之便，將標示「機密」與「極機密」的電報以手機翻拍，
再透過通訊軟體傳送給友人。檢方認定相關內容涉及我國與友邦之外交往來。

外交部發言人表示，全力配合司法調查，並已全面檢討內部機密文書管理流程。
"""

LAW_TEXT = """國家機密保護法（節錄）

第 4 條
國家機密等級區分如下：
一、絕對機密：適用於洩漏後足以使國家安全或利益遭受非常重大損害之事項。
二、極機密：適用於洩漏後足以使國家安全或利益遭受重大損害之事項。
三、機密：適用於洩漏後足以使國家安全或利益遭受損害之事項。

第 11 條
國家機密之核定，應於核定時依職權併予核定保密期限或解密條件。
"""

MINUTES = """外交部北美司　115年第3次司務會議紀錄

時間：115年3月4日上午10時
地點：本司會議室
主席：徐司長　　　　紀錄：張秘書

討論事項
案由一：有關本司承辦公文機密等級之核定，請討論。
說明：部分公文核定為機密後未註明解密條件，經查核發現共12件。
決議：請各科於本月底前檢視所承辦之機密公文，並補正其保密期限或解密條件。

案由二：有關同仁出國公務密切聯繫機制。
決議：照案通過。

散會：上午11時30分
"""

PROCUREMENT = """外交部財務公開招標投標須知（節錄）

一、本案採購標的：駐外館處資訊設備更新案。
二、得標廠商及其履約人員，應簽署保密切結書，對於履約期間所知悉之機密性資料負保密責任。
三、廠商服務建議書如涉及營業秘密，應另以密件封裝並註明「密件」字樣。
四、投標文件應密封後於截止期限前送達，逾期不予受理。
"""

NDA = """保密協議書

立協議書人：臺灣精密工業股份有限公司（以下簡稱甲方）
　　　　　　誠信管理顧問有限公司（以下簡稱乙方）

第一條　機密資訊之定義
本協議所稱機密資訊，係指甲方之商業機密、營業秘密、技術資料、客戶名單及其他經甲方標示為機密之資訊。
第二條　保密義務
乙方對機密資訊應盡善良管理人之注意義務，非經甲方書面同意，不得洩漏予第三人。
第三條　有效期間
本協議自簽署日起生效，有效期間三年。
"""

PASSWORD_MAIL = """親愛的使用者您好：

您的公務電子郵件帳號密碼將於7日後到期，請登入以下網址重設密碼：
https://mail.mofa.example/reset

新密碼長度至少12碼，須包含大小寫英文字母、數字及特殊符號。
如有疑問，請洽資訊處服務台（分機2345），我們將與您密切聯繫。

資訊處　敬上
"""

UNCLASS_TELEGRAM = TELEGRAM_IN.replace("{level}", "普通")

UNCLASS_US_EMAIL = STATE_EMAIL.replace("{c}", "UNCLASSIFIED")

UNCLASS_MEMO = """UNCLASSIFIED

MEMORANDUM FOR THE RECORD

SUBJECT: (U) Visit of the Taiwan trade delegation, 4 March 2026

1. (U) The delegation met with the Deputy Assistant Secretary and discussed
supply chain cooperation.

2. (U) Both sides agreed to hold the next round in Taipei in the autumn.

UNCLASSIFIED
"""

ENGLISH_PROSE = """Hi everyone,

Reminder: our Secret Santa exchange is on Friday at 3 pm in the lounge. The budget is NT$500.
Chef Lin promised to bring his top secret recipe for pineapple cakes, and I hear the secret to
success is a lot of butter.

Cheers,
Amy
"""

SEC_FILING = """Exhibit 10.3

CONFIDENTIAL TREATMENT REQUESTED BY TAIWAN SEMICONDUCTOR PARTNERS INC.

SUPPLY AGREEMENT

This Supply Agreement is entered into as of March 1, 2026 between the parties listed below.
Certain portions of this exhibit have been omitted and filed separately with the Commission.
"""

ENGLISH_FOOTER_DISCLAIMER = """Dear Director Chen,

Thank you for hosting our delegation last week. We look forward to welcoming you in Brussels.

Kind regards,
Sophie Martin
Head of Unit

CONFIDENTIAL: This email and any files transmitted with it are confidential and intended solely for the
use of the individual or entity to whom they are addressed. If you have received this email in error
please notify the system manager.
"""

DECLASSIFIED_NEWS = """國史館公布外交檔案　揭露斷交前夕內幕

（記者王小明／台北報導）國史館今天公布一批已解密的外交檔案，其中包括民國60年代標示「極機密」的電報與簽呈。
依檔案法及國家機密保護法規定，這批檔案原核定為機密，保存年限屆滿後解密，
現已開放民眾線上申請閱覽。學者表示，檔案解密有助於還原當年外交決策過程。
"""

LAW_COURSE = """115年度公務人員專業訓練課程表

課程名稱：國家機密保護法與公務機密維護實務
時數：3小時
講座：法務部調查局 專員
對象：各單位文書及機要人員

課程名稱：個人資料保護法實務
時數：2小時
"""

CHECKBOX_FORM = """外交部公文用紙借閱申請單

申請人：林大明　　單位：北美司
借閱文號：外北美字第11500087650號
密等：□普通　□密　□機密　□極機密　□絕對機密
借閱期間：115年3月10日至115年3月17日
用途說明：撰擬業務報告參考
"""

TOP_SECRET_NEWSLETTER = """TOP SECRET
Our chef reveals the recipe behind the pineapple cakes served at last week's reception.

SPORTS DAY
Sign up for the mission's sports day by Friday.
"""

DEFINITION_SLIDE = """一般公務機密
係指國家機密以外，依法令或契約有保密義務之文書、圖畫、消息、物品或其他資訊。
"""

DEFINITION_HANDOUT = """各位同仁好，補充上週講習內容：

機密
指洩漏後足以使國家安全或利益遭受損害之事項，應於文件首頁上方標示。

如有疑問請洽本室。
"""

OUTLOOK_FORWARD_BCC = """請協助處理，謝謝。

寄件者: 陳志明
寄件日期: 2026年3月2日 上午 10:15
收件者: 北美司一科
密件副本: 林怡君
主旨: 下週會議室借用

會議室已借妥。
"""

EU_NOTE = """{banner}

COUNCIL OF THE EUROPEAN UNION
Brussels, 4 March 2026

NOTE
From: European External Action Service
To: Political and Security Committee
Subject: Indo-Pacific strategy - state of play of consultations with partners

1. Delegations will find attached a note on the consultations held in February.
2. The note will be discussed at the PSC meeting on 10 March.

{banner}
"""

JOINT_MINUTES = """{banner}

臺美經濟繁榮夥伴對話（EPPD）工作層級會議紀要
Minutes of the EPPD Working-Level Meeting

時間：115年3月3日上午9時30分
地點：華府
一、雙方就半導體供應鏈合作交換意見。
二、美方建議於下次會議前提供具體合作項目清單。
"""

BOOK_LIST = """本月讀書會推薦書單：

《機密》
作者：約翰‧葛里遜　譯者：王大明
內容簡介：一名年輕律師發現事務所背後的秘密……

《極機密》
作者：某某　出版社：遠流
"""

CORPORATE_FOOTER = """陳經理您好：

報價單如附件，有效期限至3月底，如有任何問題請與我聯繫。

業務部 林小姐
宏達國際股份有限公司
本信件機密等級：一般
"""

SHORT_AWARENESS = """公務機密維護宣導
一、機密文件應妥善保管，離開座位時請收妥。
二、標示「密」之公文不得以電子郵件傳送，密件請循機要管道遞送。
政風室
"""

ACCOUNT_NOTICE = """公務帳號開通通知

單　　位：北美司第一科
姓　　名：林怡君
帳　　號：yclin
密　　碼：Mofa#2026（首次登入後請立即變更）
有效期限：115年12月31日

資訊處　115年3月2日
"""

CONFIDENTIAL_PERSONNEL = """各位主管：

本年度考績評核結果為機密資料，請勿外流，並請於3月15日前完成面談。
人事處　敬啟
"""


# --------------------------------------------------------------------------- the corpus

def _xlsx_with_print_header(rows: list[list[str]], header: str) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "名單"
    for row in rows:
        sheet.append(row)
    sheet.oddHeader.center.text = header
    sheet.oddFooter.right.text = "第 &P 頁"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _att(subject: str, body: str, name: str, data: bytes, mime: str) -> bytes:
    return _mail(subject, body, [(name, data, mime)])


def positives() -> Iterator[RealCase]:
    # --- ministry letters, in the mail body
    yield RealCase("函 field 機密 with date", _mail("函送訪團資料", mofa_letter("機密（本件至125年12月31日解密）")), C, "body")
    yield RealCase("函 field value on the next line", _mail("函稿", mofa_letter("極機密（本件於公布時解密）", field_on_next_line=True)), S, "body")
    yield RealCase("函 field with ASCII colon and brackets", _mail("函稿", mofa_letter("機密 (本件至 125 年 12 月 31 日解密)", colon=":")), C, "body")
    yield RealCase("函 field 密 (一般公務機密)", _mail("函稿", mofa_letter("密（本件於公布時解密）")), R, "body")
    yield RealCase("函 field with full-width digits", _mail("函稿", mofa_letter("機密（本件至１２５年１２月３１日解密）")), C, "body")
    yield RealCase("函 field 絕對機密", _mail("函稿", mofa_letter("絕對機密（保存年限屆滿後解密）")), TS, "body")
    yield RealCase("函 field 機密, condition after a comma", _mail("函稿", mofa_letter("機密，本件至120年6月30日解密")), C, "body")
    yield RealCase("函 Big5 body", _mail("函稿", mofa_letter("密（附件抽存後解密）"), charset="big5"), R, "body")
    yield RealCase("函 pasted after a personal note",
                   _mail("訪團資料", "志明兄：\n請參考附件內容，另將原函貼於下方供參。\n謝謝\n\n" + mofa_letter("機密（本件至118年3月2日解密）")), C, "body")
    yield RealCase("函 with 機密 banner on top and in field",
                   _mail("函稿", "機密\n" + mofa_letter("機密（本件至125年12月31日解密）")), C, "body")
    # --- telegrams
    yield RealCase("來電 密等 極機密", _mail("電報轉陳", TELEGRAM_IN.replace("{level}", "極機密")), S, "body")
    yield RealCase("來電 密等 spaced 機　密", _mail("電報轉陳", TELEGRAM_IN.replace("{level}", "機　密")), C, "body")
    yield RealCase("去電 密等 密", _mail("去電稿", TELEGRAM_OUT.replace("{level}", "密")), R, "body")
    yield RealCase("去電 密等 機密 with condition", _mail("去電稿", TELEGRAM_OUT.replace("{level}", "機密（本件於公布時解密）")), C, "body")
    yield RealCase("telegram forwarded with cover in English",
                   _mail("FW: cable from Tokyo", "FYI - see below.\n\nAlex\n\n" + TELEGRAM_IN.replace("{level}", "極機密")), S, "body")
    # --- 簽, 開會通知單, copies, banners
    yield RealCase("簽 with 機密 on top", _mail("簽稿", SIGN_MEMO.format(banner="機密")), C, "body")
    yield RealCase("簽 with stamped 極　機　密", _mail("簽稿", SIGN_MEMO.format(banner="極　機　密")), S, "body")
    yield RealCase("簽 with 【密】", _mail("簽稿", SIGN_MEMO.format(banner="【密】")), R, "body")
    yield RealCase("簽 with lone 密", _mail("簽稿", SIGN_MEMO.format(banner="密")), R, "body")
    yield RealCase("mail with pasted letter, 外交部　機密 after a blank line",
                   _mail("函稿", "科長好：\n原函如下，請參考。\n\n外交部　　　　　　　機密\n" + mofa_letter("") + "\n志明"), C, "body")
    checkbox = CHECKBOX_FORM.replace("□機密", "■機密")
    yield RealCase("form with checked ■機密", _mail("借閱申請", checkbox), C, "body")
    yield RealCase("US memo SECRET top and bottom, no caveats",
                   _mail("memo", "SECRET\n\n" + UNCLASS_MEMO.replace("UNCLASSIFIED", "").replace("(U)", "(S)") + "\nSECRET"), S, "body")
    yield RealCase("bilingual banner 機密 CONFIDENTIAL on joint minutes",
                   _mail("EPPD minutes", JOINT_MINUTES.format(banner="機密 CONFIDENTIAL")), C, "body")
    yield RealCase("bilingual banner 極機密（SECRET）", _mail("EPPD minutes", JOINT_MINUTES.format(banner="極機密（SECRET）")), S, "body")
    yield RealCase("EU RESTREINT UE/EU RESTRICTED note", _mail("PSC note", EU_NOTE.format(banner="RESTREINT UE/EU RESTRICTED")), R, "body")
    yield RealCase("reply quoting SECRET//NOFORN with >",
                   _mail("RE: readout", "Thanks, noted.\n\nOn Mon, 2 Mar 2026 at 10:15, Lin wrote:\n> SECRET//NOFORN\n>\n> (S//NF) The minister said"
                         " the visit should go ahead.\n> (S//NF) Timing to be confirmed.\n>\n> SECRET//NOFORN"), S, "body")
    yield RealCase("reply quoting a quoted 簽 with >>",
                   _mail("RE: RE: 簽稿", "同意。\n\n" + "\n".join(">> " + ln for ln in SIGN_MEMO.format(banner="機密").splitlines())), C, "body")
    yield RealCase("簽 with 一般公務機密 banner", _mail("簽稿", SIGN_MEMO.format(banner="一般公務機密")), R, "body")
    yield RealCase("開會通知單 密 (會後解密)", _mail("開會通知", MEETING_NOTICE.format(field="密（開會後解密）")), R, "body")
    yield RealCase("開會通知單 機密", _mail("開會通知", MEETING_NOTICE.format(field="機密（本件於會議結束後解密）")), C, "body")
    yield RealCase("copy 複製物 第3份 with level", _mail("簽稿", SIGN_MEMO.format(banner="極機密　複製物 第3份")), S, "body")
    yield RealCase("copy note on its own line below the level",
                   _mail("簽稿", SIGN_MEMO.format(banner="機密（本件至120年1月1日解密）\n複製物　第2份，共5份")), C, "body")
    yield RealCase("body line 外交部 機密 (mid-line, not a band)", _mail("函稿", "外交部　　　　　　　　　機密\n" + SIGN_MEMO.format(banner="")), C, "body")
    yield RealCase("draft letter top line 外交部函（稿）　機密",
                   _mail("函稿", "外交部函（稿）　機密\n" + "\n".join(mofa_letter("").splitlines()[5:])), C, "body")
    yield RealCase("body line 機密 and 檔號 on one line",
                   _mail("函稿", "機密　　　　　　　　　　檔　　號：115/0312.01\n" + SIGN_MEMO.format(banner="")), C, "body")
    yield RealCase("極機密 限閱 banner", _mail("簽稿", SIGN_MEMO.format(banner="極機密　限閱")), S, "body")
    yield RealCase("絕 對 機 密 spaced", _mail("簽稿", SIGN_MEMO.format(banner="絕 對 機 密")), TS, "body")
    # --- subjects
    yield RealCase("subject RE: FW: 【機密】", _mail("RE: FW: 【機密】美方訪團行程修正", "收到，謝謝。\n\n志明"), C, "subject")
    yield RealCase("subject 回覆: [極機密]", _mail("回覆: [極機密] 日方研判", "已轉陳。"), S, "subject")
    yield RealCase("subject (密)", _mail("(密) 人事異動名單", "如附，請參。"), R, "subject")
    yield RealCase("subject SECRET//NOFORN", _mail("SECRET//NOFORN - readout of the 3/4 call", "See attached."), S, "subject")
    yield RealCase("subject (C) portion mark", _mail("(C) Talking points for the Minister", "Attached."), C, "subject")
    # --- US, NATO, PRC, CUI
    yield RealCase("US cable S E C R E T", _mail("Cable", US_CABLE.format(banner="S E C R E T", p="S")), S, "body")
    yield RealCase("US cable C O N F I D E N T I A L", _mail("Cable", US_CABLE.format(banner="C O N F I D E N T I A L", p="C")), C, "body")
    yield RealCase("US State e-mail Classification: SECRET", _mail("talking points", STATE_EMAIL.format(c="SECRET")), S, "body")
    yield RealCase("US State e-mail Classification: CONFIDENTIAL", _mail("talking points", STATE_EMAIL.format(c="CONFIDENTIAL")), C, "body")
    yield RealCase("US SECRET//NOFORN memo with portion marks",
                   _mail("memo", "SECRET//NOFORN\n\n" + UNCLASS_MEMO.replace("UNCLASSIFIED", "").replace("1. (U)", "1. (S//NF)") + "\nSECRET//NOFORN"), S, "body")
    yield RealCase("US TOP SECRET//SI//NOFORN", _mail("brief", "TOP SECRET//SI//NOFORN\n\n(TS//SI//NF) The source reported on leadership discussions.\n\nTOP SECRET//SI//NOFORN"), TS, "body")
    yield RealCase("NATO RESTRICTED memo", _mail("PO(2026)0117", NATO_MEMO), R, "body")
    yield RealCase("CUI document", _mail("License review", CUI_DOC), R, "body")
    yield RealCase("PRC 机密★1年 notice", _mail("转发通知", PRC_NOTICE.format(banner="机密★1年")), S, "body")
    yield RealCase("PRC 秘密★6个月 notice", _mail("转发通知", PRC_NOTICE.format(banner="秘密★6个月")), C, "body")
    yield RealCase("PRC 密级 field", _mail("转发通知", PRC_NOTICE.format(banner="密级：秘密\n保密期限：1年")), C, "body")
    # --- forwarded and replied mail
    quoted = "\n".join("> " + ln for ln in SIGN_MEMO.format(banner="機密").splitlines())
    yield RealCase("reply quoting a marked 簽 with >", _mail("RE: 簽稿", "已閱，同意。\n\n王司長\n\n於 2026/3/9 下午3:02, 陳科長 寫道:\n" + quoted), C, "body")
    yield RealCase("Original Message with marked letter",
                   _mail("FW: 函稿", "請卓參。\n\n-----Original Message-----\nFrom: 林怡君\nSent: Monday, March 2, 2026 10:15 AM\nTo: 北美司\nSubject: 函稿\n\n"
                         + mofa_letter("機密（本件至125年12月31日解密）")), C, "body")
    yield RealCase("Outlook forward with 【機密】 in the quoted Subject",
                   _mail("FW: 行程", "供參\n\n寄件者: 陳科長\n寄件日期: 2026年3月2日 上午 10:15\n主旨: 【機密】美方訪團行程\n\n行程如附。"), C, "body")
    yield RealCase("mixed-script mail with SECRET banner and Chinese body",
                   _mail("readout", "SECRET//REL TO USA, TWN\n\n雙方就區域安全議題交換意見，美方表示將持續提供協助。\nThe next round will be held in Washington.\n\nSECRET//REL TO USA, TWN"), S, "body")
    # --- attachments, real extraction
    letter_lines = mofa_letter("").splitlines()
    body = "\n".join(letter_lines)
    yield RealCase("PDF header band 外交部　機密",
                   _att("函", "請參考附件內容。", "letter.pdf", docgen.make_pdf([body], header="外交部　　　　　　　　　機密"), PDF), C, "attachment")
    yield RealCase("PDF footer band 機密　第1頁共3頁",
                   _att("函", "請參考附件內容。", "letter.pdf", docgen.make_pdf([body], footer="機密　　　　第1頁　共3頁"), PDF), C, "attachment")
    yield RealCase("PDF footer band page number before 極機密",
                   _att("函", "請參考附件內容。", "letter.pdf", docgen.make_pdf([body], footer="第1頁，共3頁　　　極機密"), PDF), S, "attachment")
    yield RealCase("PDF header band lone 密",
                   _att("函", "請參考附件內容。", "letter.pdf", docgen.make_pdf([body], header="密"), PDF), R, "attachment")
    yield RealCase("PDF body with field",
                   _att("函", "請參考附件內容。", "letter.pdf", docgen.make_pdf([mofa_letter("極機密（本件於公布時解密）")]), PDF), S, "attachment")
    yield RealCase("DOCX header 外交部北美司　極機密",
                   _att("簽", "如附", "memo.docx", docgen.make_docx(SIGN_MEMO.format(banner="").splitlines(), header="外交部北美司\t\t極機密"), DOCX), S, "attachment")
    table = [["檔號", "115/0312.01"], ["發文字號", "外北美字第11500087650號"],
             ["密等及解密條件或保密期限", "機密（本件至125年12月31日解密）"], ["附件", "如文"]]
    yield RealCase("DOCX table cell 密等 value",
                   _att("函", "如附", "letter.docx", docgen.make_docx(["外交部　函", "主旨：訪團接待事宜，請查照。"], table=table), DOCX), C, "attachment")
    yield RealCase("PDF header band CONFIDENTIEL UE/EU CONFIDENTIAL",
                   _att("note", "See attached.", "note.pdf", docgen.make_pdf([EU_NOTE.format(banner="")], header="CONFIDENTIEL UE/EU CONFIDENTIAL",
                                                                            fontname="helv"), PDF), C, "attachment")
    yield RealCase("PDF header band single-spaced 外交部 函 機密",
                   _att("函", "請參考附件內容。", "letter.pdf", docgen.make_pdf([body], header="外交部 函 機密 第1頁"), PDF), C, "attachment")
    form = [["借閱人", "林大明"], ["密等", "□普通　□密　☑極機密"], ["用途", "業務參考"]]
    yield RealCase("DOCX form cell with ☑極機密",
                   _att("借閱", "如附", "form.docx", docgen.make_docx(["公文借閱單"], table=form), DOCX), S, "attachment")
    yield RealCase("XLSX cell 機密 on top of a list",
                   _att("名單", "如附", "list.xlsx", docgen.make_xlsx({"名單": [["機密"], ["姓名", "職稱", "電話"], ["王大明", "參事", "2345"]]}), XLSX), C, "attachment")
    yield RealCase("XLSX print header 機密",
                   _att("名單", "如附", "list.xlsx", _xlsx_with_print_header([["姓名", "職稱"], ["王大明", "參事"]], "機密"), XLSX), C, "attachment")
    yield RealCase("PPTX title slide 極機密",
                   _att("簡報", "如附", "brief.pptx", docgen.make_pptx(["極機密\n區域情勢簡報\n115年3月", "一、情勢概述"]), PPTX), S, "attachment")
    yield RealCase("ODT header 機密",
                   _att("函", "如附", "letter.odt", docgen.make_odt(letter_lines, header="機密"), ODT), C, "attachment")
    yield RealCase("RTF telegram",
                   _att("電報", "如附", "cable.rtf", docgen.make_rtf(TELEGRAM_IN.replace("{level}", "機密")), "application/rtf"), C, "attachment")
    yield RealCase("e-document .di 代碼 極機密",
                   _att("電子公文", "請查收", "A01000000A_11500087650.di",
                        docgen.make_edoc_xml("極機密", "有關訪團接待事宜，請查照。", declassify="本件於公布時解密"), "application/octet-stream"), S, "attachment")
    yield RealCase("e-document .di Big5 代碼 密",
                   _att("電子公文", "請查收", "A01000000A_11500087651.di",
                        docgen.make_edoc_xml("密", "有關訪團接待事宜，請查照。", "big5"), "application/octet-stream"), R, "attachment")
    html = ("<html><body><table border=1><tr><td>發文字號</td><td>外北美字第11500087650號</td></tr>"
            "<tr><td>密等及解密條件或保密期限</td><td>機密（本件至125年12月31日解密）</td></tr>"
            "<tr><td>主旨</td><td>訪團接待事宜，請查照。</td></tr></table></body></html>")
    nbsp_html = ("<html><body><div>科長好，原函如下：</div><br><div>外交部&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;機&nbsp;密</div>"
                 + "".join(f"<div>{ln}</div>" for ln in SIGN_MEMO.format(banner="").splitlines()) + "</body></html>")
    yield RealCase("HTML mail top line laid out with &nbsp;", _mail("函稿", "請見下方。", html=nbsp_html), C, "body")
    yield RealCase("attachment named 機密_名單.xlsx",
                   _att("名單", "如附", "機密_美方訪團名單.xlsx", docgen.make_xlsx({"名單": [["姓名", "職稱"], ["王大明", "參事"]]}), XLSX), C, "attachment")
    yield RealCase("HTML mail table with 密等", _mail("函", "請見下方。", html=html), C, "body")
    yield RealCase("forwarded .eml with a marked telegram",
                   _att("FW: 電報", "請參考附件內容。", "cable.eml",
                        _mail("電報", TELEGRAM_IN.replace("{level}", "極機密")), "message/rfc822"), S, "attachment")


def negatives() -> Iterator[RealCase]:
    for name, subject, text in [
        ("Chinese e-mail disclaimer", "會報紀錄", ZH_DISCLAIMER_1),
        ("company 【機密聲明】 disclaimer", "會議地點變更", ZH_DISCLAIMER_2),
        ("signature reminders", "簡報資料", SIGNATURE_REMINDER),
        ("awareness newsletter", "【資安宣導】公務機密維護宣導", AWARENESS),
        ("news on a leak case", "新聞剪輯", NEWS_LEAK),
        ("law text articles", "法規參考", LAW_TEXT),
        ("minutes on 機密等級之核定", "司務會議紀錄", MINUTES),
        ("procurement 保密/機密性/密件", "招標須知", PROCUREMENT),
        ("NDA 商業機密/營業秘密", "保密協議書", NDA),
        ("password reset mail", "【密碼到期通知】", PASSWORD_MAIL),
        ("telegram 密等：普通", "電報轉陳", UNCLASS_TELEGRAM),
        ("State e-mail UNCLASSIFIED", "talking points", UNCLASS_US_EMAIL),
        ("UNCLASSIFIED memo with (U)", "memo", UNCLASS_MEMO),
        ("Secret Santa / top secret recipe", "Friday!", ENGLISH_PROSE),
        ("Confidential Treatment Requested", "Exhibit 10.3", SEC_FILING),
        ("English CONFIDENTIAL footer disclaimer", "Thank you", ENGLISH_FOOTER_DISCLAIMER),
        ("news on declassified archives", "檔案解密新聞", DECLASSIFIED_NEWS),
        ("law course name", "訓練課程表", LAW_COURSE),
        ("blank checkbox form", "借閱申請", CHECKBOX_FORM),
        ("personnel 機密資料 prose", "考績", CONFIDENTIAL_PERSONNEL),
        ("book list with 《機密》 titles", "讀書會", BOOK_LIST),
        ("corporate footer 機密等級：一般", "報價單", CORPORATE_FOOTER),
        ("short awareness note with 「密」 and 密件", "宣導", SHORT_AWARENESS),
        ("account notice with 密　　碼 label", "帳號開通", ACCOUNT_NOTICE),
        ("TOP SECRET newsletter heading", "Mission newsletter", TOP_SECRET_NEWSLETTER),
        ("definition heading 機密 + 指…", "講習補充", DEFINITION_HANDOUT),
        ("Outlook forward with 密件副本", "FW: 會議室", OUTLOOK_FORWARD_BCC),
    ]:
        yield RealCase(name, _mail(subject, text), None, "body")
    yield RealCase("函 with empty 密等", _mail("函稿", mofa_letter("")), None, "body")
    yield RealCase("函 with 密等 普通", _mail("函稿", mofa_letter("普通")), None, "body")
    yield RealCase("函 empty 密等, value line below is 附件", _mail("函稿", mofa_letter("", field_on_next_line=True)), None, "body")
    yield RealCase("函 Big5 empty 密等", _mail("函稿", mofa_letter(""), charset="big5"), None, "body")
    yield RealCase("開會通知單 empty 密等", _mail("開會通知", MEETING_NOTICE.format(field="")), None, "body")
    yield RealCase("函 about 機密 handling, empty 密等",
                   _mail("函稿", mofa_letter("", subject="為加強機密文書管理，請確實依國家機密保護法及文書處理手冊辦理，請查照。")), None, "body")
    yield RealCase("簽 without banner", _mail("簽稿", SIGN_MEMO.format(banner="")), None, "body")
    for subject in ("RE: 機密文件傳送方式", "【保密協定】請於週五前簽回", "FW: 密切注意颱風動態", "RE: 國家機密保護法修法說明會",
                    "Secret Santa draw", "Confidential: salary review 2026", "Re: top secret plans for Friday"):
        yield RealCase(f"subject {subject}", _mail(subject, "請參閱。"), None, "subject")
    letter_body = mofa_letter("")
    yield RealCase("PDF unclassified letter, page footer",
                   _att("函", "請參考附件內容。", "letter.pdf", docgen.make_pdf([letter_body], footer="第1頁　共1頁"), PDF), None, "attachment")
    yield RealCase("PDF with business Confidential footer",
                   _att("proposal", "Please see attached.", "proposal.pdf",
                        docgen.make_pdf(["Proposal for cooperation\nScope of work and timeline."], footer="Company Confidential - Do not distribute",
                                        fontname="helv"), PDF), None, "attachment")
    yield RealCase("PDF CONFIDENTIAL TREATMENT REQUESTED header",
                   _att("filing", "See exhibit.", "ex10.pdf",
                        docgen.make_pdf([SEC_FILING], header="CONFIDENTIAL TREATMENT REQUESTED", fontname="helv"), PDF), None, "attachment")
    yield RealCase("DOCX awareness handout",
                   _att("宣導資料", "如附", "handout.docx", docgen.make_docx(AWARENESS.splitlines(), header="政風室　公務機密維護宣導"), DOCX), None, "attachment")
    yield RealCase("PPTX slide defining 一般公務機密",
                   _att("訓練", "如附", "slide.pptx", docgen.make_pptx([DEFINITION_SLIDE]), PPTX), None, "attachment")
    yield RealCase("PDF handout, spaced law name in header band",
                   _att("講義", "如附", "handout.pdf", docgen.make_pdf([LAW_COURSE], header="國 家 機 密 保 護 法 講 義"), PDF), None, "attachment")
    yield RealCase("attachment named 機密文件管理要點.pdf",
                   _att("要點", "如附", "機密文件管理要點.pdf", docgen.make_pdf([SHORT_AWARENESS]), PDF), None, "attachment")
    register = [["收文日期", "來文機關", "文號", "密等", "主旨"],
                ["115/03/02", "國家安全會議", "外北美字第11500087650號", "普通", "訪團接待"],
                ["115/03/03", "行政院", "院臺外字第1150012345號", "密", "人事異動"],
                ["115/03/04", "經濟部", "經貿字第11500033333號", "普通", "經貿諮商"],
                ["115/03/05", "國防部", "國規字第11500044444號", "機密", "軍事交流"]]
    yield RealCase("XLSX incoming-mail register with a 密等 column",
                   _att("收文登記", "本週收文登記如附", "register.xlsx", docgen.make_xlsx({"收文": register}), XLSX), None, "attachment")
    yield RealCase("PPTX slide 機密 with the law's definition",
                   _att("訓練", "如附", "slide.pptx", docgen.make_pptx(["機密\n洩漏後足以使國家安全或利益遭受損害之事項"]), PPTX), None, "attachment")
    yield RealCase("XLSX course list",
                   _att("課程", "如附", "courses.xlsx", docgen.make_xlsx({"課程": [["課程名稱", "時數"], ["國家機密保護法與公務機密維護實務", "3"], ["機密文書處理", "2"]]}), XLSX), None, "attachment")
    yield RealCase("PPTX training slides",
                   _att("訓練", "如附", "training.pptx", docgen.make_pptx(["公務機密維護", "國家機密等級：絕對機密、極機密、機密", "一般公務機密：密"]), PPTX), None, "attachment")
    yield RealCase("e-document .di unclassified",
                   _att("電子公文", "請查收", "A01000000A_11500087652.di", docgen.make_edoc_xml(None, "有關訪團接待事宜，請查照。"), "application/octet-stream"), None, "attachment")
    yield RealCase("ODT NDA", _att("合約", "如附", "nda.odt", docgen.make_odt(NDA.splitlines(), header="保密協議書"), ODT), None, "attachment")
    yield RealCase("HTML newsletter on leak case",
                   _mail("電子報", "請見 HTML。", html="<html><body>" + "".join(f"<p>{ln}</p>" for ln in NEWS_LEAK.splitlines()) + "</body></html>"), None, "body")


def _edoc_91(code: str) -> bytes:
    """An e-document in the older "91" element names (<密等及解密條件>, <解密條件>), UTF-8 BOM."""
    xml = ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE 函 SYSTEM "91_2_utf8.dtd">\n<函>\n'
           "  <發文機關><全銜>外交部</全銜></發文機關>\n"
           f'  <密等及解密條件><密等 代碼="{code}" /><解密條件>本件於公布時解密</解密條件></密等及解密條件>\n'
           "  <主旨><文字>有關友邦政要訪台事宜，請查照。</文字></主旨>\n</函>\n")
    return b"\xef\xbb\xbf" + xml.encode()


def second_batch() -> Iterator[RealCase]:
    """Written in one go after the first round of fixes, before running them."""
    telegram_html = ("<html><body><table><tr><td>駐美國台北經濟文化代表處　電報</td></tr>"
                     "<tr><td>電報專號</td><td>USA1526</td></tr><tr><td>密等</td><td>極機密</td></tr>"
                     "<tr><td>主旨</td><td>美方對我參與國際組織之立場</td></tr></table>"
                     "<p>一、美方官員表示將持續支持。</p></body></html>")
    yield RealCase("HTML telegram table 密等 | 極機密", _mail("電報", "請見下方。", html=telegram_html), S, "body")
    table = [["", "機密"], ["檔號", "115/0312.01"], ["保存年限", "30年"]]
    yield RealCase("DOCX top-right level in a table cell",
                   _att("函", "如附", "letter.docx", docgen.make_docx(["外交部　函", "主旨：訪團接待事宜，請查照。"], table=table), DOCX), C, "attachment")
    swapped = "機密（本件至125年12月31日解密）\n密等及解密條件或保密期限：\n附件：如文\n主旨：訪團接待事宜，請查照。"
    yield RealCase("PDF value extracted before its label",
                   _att("函", "如附", "letter.pdf", docgen.make_pdf([swapped]), PDF), C, "attachment")
    yield RealCase("subject Fw: 【機密件】", _mail("Fw: 【機密件】駐日處電報", "請參。"), C, "subject")
    yield RealCase("NATO CONFIDENTIAL DOCX header",
                   _att("PO", "Attached.", "po.docx", docgen.make_docx(NATO_MEMO.replace("NATO RESTRICTED", "").splitlines(),
                                                                   header="NATO CONFIDENTIAL"), DOCX), C, "attachment")
    yield RealCase("PRC 绝密★启用前 PDF header band",
                   _att("通知", "见附件", "notice.pdf", docgen.make_pdf([PRC_NOTICE.format(banner="")], header="绝密★启用前",
                                                                  fontname="china-s"), PDF), TS, "attachment")
    yield RealCase("telegram 密等:機密 with ASCII colon", _mail("電報", TELEGRAM_OUT.replace("密等：{level}", "密等:機密")), C, "body")
    big5_reply = "同意，請續辦。\n\n" + "\n".join("> " + ln for ln in TELEGRAM_IN.replace("{level}", "極機密").splitlines())
    yield RealCase("Big5 reply quoting a telegram", _mail("RE: 電報", big5_reply, charset="big5"), S, "body")
    yield RealCase("CUI//SP-CTI PDF header band",
                   _att("CTI", "Attached.", "cti.pdf", docgen.make_pdf([CUI_DOC.replace("CUI\n", "")], header="CUI//SP-CTI", fontname="helv"), PDF),
                   R, "attachment")
    yield RealCase("full-width ＳＥＣＲＥＴ／／ＮＯＦＯＲＮ typed with a CJK IME",
                   _mail("readout", "ＳＥＣＲＥＴ／／ＮＯＦＯＲＮ\n\n美方表示將持續提供協助。\n\nＳＥＣＲＥＴ／／ＮＯＦＯＲＮ"), S, "body")
    yield RealCase("（密） first line of a memo", _mail("簽", SIGN_MEMO.format(banner="（密）")), R, "body")
    yield RealCase("e-document 91 names, BOM, 代碼 機密",
                   _att("電子公文", "請查收", "A01000000A_0910012345.di", _edoc_91("機密"), "application/octet-stream"), C, "attachment")
    yield RealCase("PPTX SECRET//NOFORN first line",
                   _att("brief", "Attached.", "brief.pptx", docgen.make_pptx(["SECRET//NOFORN\nRegional outlook", "(S//NF) Key judgments"]), PPTX), S, "attachment")
    yield RealCase("簽 top line 簽　　　密", _mail("簽稿", SIGN_MEMO.format(banner="").replace("簽　　於北美司", "簽　　　　　　　　密\n於北美司")),
                   R, "body")
    yield RealCase("awareness poster 保　密　防　諜", _mail("海報", "保　密　防　諜\n人　人　有　責\n\n政風室製"), None, "body")
    yield RealCase("subject NATO RESTRICTED - PO number", _mail("NATO RESTRICTED - PO(2026)0117", "Attached."), R, "subject")
    # negatives
    for subject in ("TOP SECRET: Friday surprise party for the Director", "CONFIDENTIAL - job offer for the trade analyst post"):
        yield RealCase(f"subject {subject}", _mail(subject, "Please keep it quiet."), None, "subject")
    levels_html = ("<html><body><h3>國家機密等級</h3><table><tr><td>等級</td><td>說明</td></tr>"
                   "<tr><td>絕對機密</td><td>非常重大損害</td></tr><tr><td>極機密</td><td>重大損害</td></tr>"
                   "<tr><td>機密</td><td>損害</td></tr></table></body></html>")
    yield RealCase("HTML newsletter table of levels", _mail("宣導", "請見下方。", html=levels_html), None, "body")
    yield RealCase("shredder procurement 機密文件碎紙機",
                   _mail("採購", "品名：機密文件碎紙機\n數量：3台\n規格：可碎光碟及信用卡，碎紙等級P-4以上。\n交貨地點：本部總務司"), None, "body")
    yield RealCase("IT mail with CLIENT_SECRET",
                   _mail("API 設定", "請於設定檔加入：\nCLIENT_ID=mofa-portal\nCLIENT_SECRET=請向資訊處索取\n密鑰請勿外流。"), None, "body")
    yield RealCase("Outlook Sensitivity: Confidential header",
                   _mail("人事", "請參考。", headers={"Sensitivity": "Company-Confidential"}), None, "body")
    yield RealCase("Purview footer Classification: General",
                   _mail("Agenda", "Agenda attached.\n\nClassification: General"), None, "body")
    yield RealCase("e-document 91 names, 代碼 普通",
                   _att("電子公文", "請查收", "A01000000A_0910012346.di", _edoc_91("普通"), "application/octet-stream"), None, "attachment")
    yield RealCase("UNCLAS cable", _mail("Cable", US_CABLE.format(banner="UNCLAS", p="U").replace("Classified By: Deputy Director for reasons 1.4(b) and (d)", "")
                                        .replace("E.O. 13526: DECL: 03/02/2041", "E.O. 13526: N/A")), None, "body")


def build_realistic() -> list[RealCase]:
    return [*positives(), *negatives(), *second_batch()]
