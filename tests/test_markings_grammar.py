"""The marking grammar, one behaviour per test, on segments as extraction produces them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlp_gateway.detect.markings import MarkingDetector
from dlp_gateway.model import Fact, Inspection, Level, Segment

TS, S, C, R = Level.TOP_SECRET, Level.SECRET, Level.CONFIDENTIAL, Level.RESTRICTED
DOC_NO = "發文字號：外政字第1150012345號"


def findings(text: str, kind: str = "body", *, part: str = "letter.pdf", facts=(), headers=None):
    inspection = Inspection(segments=[Segment(text, f"{part} › {kind}", part, kind)], facts=list(facts),
                            headers=headers or {})
    return MarkingDetector().detect(inspection)


def level(text: str, kind: str = "body", **kw) -> Level | None:
    found = [f.level for f in findings(text, kind, **kw) if f.level]
    return max(found) if found else None


# ---------------------------------------------------------------- ROC banners

@pytest.mark.parametrize(("banner", "expected"), [
    ("絕對機密", TS), ("極機密", S), ("機密", C), ("密", R),
    ("機　密", C), ("機 密", C), ("極　機　密", S), ("【機密】", C), ("（極機密）", S),
    ("机密", C), ("极机密", S), ("绝对机密", TS), ("ＳＥＣＲＥＴ", S),
])
def test_a_header_band_that_is_a_level_is_a_banner(banner, expected):
    assert level(banner, "header_band") == expected


def test_a_band_line_may_carry_the_agency_and_page_number():
    assert level("外交部　　　機密　　　第1頁", "header_band") == C


def test_a_banner_line_stands_first_or_last_in_a_page():
    body = "駐美國代表處　函\n主旨：xx\n說明：yy"
    assert level("機密\n" + body, "page") == C
    assert level(body + "\n極機密", "page") == S


def test_a_banner_line_pasted_in_the_middle_of_a_mail_body_counts():
    assert level("司長鈞鑒：\n請參閱下列電報。\n\n-----\n極機密\n外交部收電\n主旨：xx\n說明\n一\n二\n三", "body") == S


def test_a_banner_keeps_its_declassification_condition_and_copy_note():
    result = findings("極機密（本件至120年1月1日解密）　複製物第2份\n" + DOC_NO, "page")
    assert [f.level for f in result] == [S] and "copy" in result[0].tags


def test_an_official_document_number_raises_confidence():
    plain = findings("機密\n主旨：會議", "page")[0]
    official = findings("機密\n" + DOC_NO, "page")[0]
    assert official.confidence > plain.confidence and "official_document" in official.tags


# ---------------------------------------------------------------- 密等 field and telegrams

@pytest.mark.parametrize(("value", "expected"), [
    ("機密（本件至125年3月2日解密）", C), ("極機密(本件於公布時解密)", S), ("密（附件抽存後解密）", R),
    ("絕對機密（保存年限屆滿後解密）", TS), ("機　密", C), ("密件", R), ("机密（本件至120年1月1日解密）", C),
])
def test_the_secrecy_field_with_a_value_is_a_marking(value, expected):
    assert level(f"外交部　函\n{DOC_NO}\n密等及解密條件或保密期限：{value}\n主旨：xx", "page") == expected


@pytest.mark.parametrize("value", ["", "普通", "　", "無"])
def test_the_empty_or_plain_secrecy_field_is_not_a_marking(value):
    assert level(f"外交部　函\n{DOC_NO}\n速別：普通件\n密等及解密條件或保密期限：{value}\n附件：無\n主旨：xx", "page") is None


def test_the_secrecy_field_value_may_stand_in_the_next_table_cell():
    assert level("發文字號\n外政字第1150012345號\n密等及解密條件或保密期限\n極機密（本件於公布時解密）", "body") == S


def test_the_older_field_name_counts():
    assert level("密等及解密條件：機密（本件至110年1月1日解密）", "page") == C


def test_a_telegram_secrecy_line_is_a_marking():
    assert level("外交部收電\n電報專號：USA1526\n密　等：極機密\n速別：最速件", "body") == S


def test_a_level_before_a_declassification_phrase_is_a_marking():
    assert level("請核示\n\n機密（本件於公布時解密）\n附件如文", "body") == C


# ---------------------------------------------------------------- Subject

@pytest.mark.parametrize(("subject", "expected"), [
    ("【機密】駐美處電報", C), ("RE: FW: 【極機密】會議", S), ("[密] 會議紀錄", R), ("機密：國會動態", C),
    ("(S//NF) Consultations", S), ("SECRET//NOFORN: Consultations", S), ("[CUI] visit list", R),
    ("【秘密】关于会议的通知", C), ("【機密電報】駐日處", C), ("【極機密文件】請勿外傳", S),
])
def test_bracketed_or_leading_levels_in_a_subject(subject, expected):
    assert level(subject, "subject", part="subject") == expected


@pytest.mark.parametrize("subject", ["機密文件外洩案新聞", "【機密文件外洩】監院調查", "國家機密保護法修正草案", "Re: secret santa", "(U) Agenda"])
def test_a_subject_about_secrets_is_not_marked(subject):
    assert level(subject, "subject", part="subject") is None


# ---------------------------------------------------------------- US, NATO, PRC

@pytest.mark.parametrize(("line", "expected"), [
    ("TOP SECRET//ORCON//NOFORN", TS), ("SECRET//REL TO USA, TWN", S), ("CONFIDENTIAL", C), ("CUI", R),
    ("CUI//SP-PRVCY", R), ("UNCLASSIFIED//FOR OFFICIAL USE ONLY", R), ("SENSITIVE BUT UNCLASSIFIED", R),
    ("NATO SECRET", S), ("COSMIC TOP SECRET ATOMAL", TS), ("NATO CONFIDENTIAL", C), ("NATO RESTRICTED", R),
    ("NATO SECRET - BOHEMIA", S),
])
def test_western_banners_are_whole_upper_case_lines(line, expected):
    assert level(f"{line}\nMEMORANDUM\nThe delegation met.\n{line}", "page") == expected


def test_portion_marks_count_when_paragraphs_are_portion_marked():
    assert level("Memo\n\n1. (S//NF) The delegation said.\n2. (U) Next steps.", "page") == S
    assert level("Memo\n(C) First paragraph.\n(U) Second paragraph.", "page") == C


def test_unclassified_portion_marks_are_no_marking():
    assert level("UNCLASSIFIED\n(U) One.\n(U) Two.\nUNCLASSIFIED", "page") is None


def test_a_lettered_list_is_not_portion_marked():
    assert level("Options:\n(A) one.\n(B) two.\n(C) three.", "body") is None


@pytest.mark.parametrize(("text", "expected"), [
    ("秘密★1年\n关于做好工作的通知", C), ("机密★长期\n通知", S), ("绝密★启用前\n试题", TS),
    ("密级：机密★5年\n国台发〔2026〕3号", S), ("工作秘密\n关于会议的通知", R), ("内部资料　注意保存\n正文", R),
])
def test_prc_marks_use_the_prc_ladder(text, expected):
    assert level(text, "page") == expected


def test_a_bare_prc_level_counts_in_a_prc_document_only():
    assert level("机密\n国台发〔2026〕12号\n关于做好近期对台交流工作的通知", "page") == S
    assert level("机密\n外交部　函\n" + DOC_NO, "page") == C


def test_traditional_internal_papers_are_not_prc_marks():
    assert level("內部資料\n本公司產品價目表", "page") is None


# ---------------------------------------------------------------- facts and headers

def test_the_edocument_secrecy_code_is_a_marking():
    fact = Fact("edoc.secrecy", "極機密", "a.di", "a.di")
    assert [(f.level, f.system) for f in findings("", facts=[fact])] == [(S, "EDOC")]


def test_a_plain_edocument_code_is_not():
    assert findings("", facts=[Fact("edoc.secrecy", "普通", "a.di", "a.di")]) == []


@pytest.mark.parametrize(("label", "expected"), [
    ("Secret", S), ("Highly Confidential", C), ("機密", C), ("Confidential\\All Employees", C),
    ("Top Secret", TS), ("General", None), ("Public", None), ("Project X", None),
])
def test_office_sensitivity_labels_map_to_levels(label, expected):
    fact = Fact("office.sensitivity_label", label, "a.docx › properties", "a.docx")
    assert level("", facts=[fact]) == expected


def test_label_names_can_be_mapped_by_the_administrator():
    detector = MarkingDetector({"Internal": "restricted", "Secret": None})
    facts = [Fact("office.sensitivity_label", "Internal", "a", "a"), Fact("office.sensitivity_label", "Secret", "b", "b")]
    assert [f.level for f in detector.detect(Inspection(facts=facts))] == [R]


@pytest.mark.parametrize(("headers", "expected"), [
    ({"x-classification": ["SECRET//NOFORN"]}, S), ({"x-classification": ["機密"]}, C),
    ({"msip_labels": ["MSIP_Label_1-2_Enabled=True; MSIP_Label_1-2_Name=Confidential;"]}, C),
    ({"x-classification": ["UNCLASSIFIED"]}, None), ({"x-classification": ["Public"]}, None),
])
def test_classification_headers(headers, expected):
    assert level("", headers=headers) == expected


# ---------------------------------------------------------------- what is not a marking

@pytest.mark.parametrize("text", [
    "本公司之商業機密及營業秘密，乙方應負保密義務。",
    "請更新密碼，並與資訊室密切配合；會場人口密度高，氣氛親密，這是公開的秘密。",
    "被告涉嫌違反國家機密保護法，將標示「極機密」之電報外流。",
    "國家機密分為絕對機密、極機密及機密三級。",
    "The recipe is top secret.\nSecret Santa is on Friday.",
    "CONFIDENTIALITY NOTICE: This e-mail is confidential and may be privileged.",
    "該公文載明「密等及解密條件或保密期限：極機密（本件至120年1月1日解密）」，卻以電子郵件寄送。",
    "範例：\n密等及解密條件或保密期限：機密（本件至115年3月2日解密）",
    "PRIVATE AND CONFIDENTIAL\nDear Mr. Chen,",
])
def test_mentions_are_not_markings(text):
    assert level(text, "page") is None


def test_a_list_of_the_levels_is_training_not_a_marking():
    assert level("機密等級：\n絕對機密\n極機密\n機密\n密", "page") is None
    assert level("Levels:\nTOP SECRET\nSECRET\nCONFIDENTIAL", "page") is None
    assert level("标志：\n绝密★\n机密★\n秘密★", "page") is None


def test_a_text_naming_every_level_is_about_classification_even_with_a_level_line():
    text = "保密講習\n絕對機密\n" + "說明" * 30 + "\n" * 8 + "極機密\n" + "說明" * 30 + "\n" * 8 + "機密\n說明"
    assert level(text, "page") is None


def test_a_confidential_heading_over_a_disclaimer_is_not_a_banner():
    assert level("Thanks,\nJohn\n\nCONFIDENTIAL\nThis email is intended only for the named recipient.", "body") is None


def test_classification_headers_from_header_segments_are_not_counted_twice():
    inspection = Inspection(
        segments=[Segment("SECRET", "header x-classification", "headers", "header")],
        facts=[Fact("mail.header.x-classification", "SECRET", "headers", "headers")],
        headers={"x-classification": ["SECRET"]})
    assert len(MarkingDetector().detect(inspection)) == 1


@pytest.mark.parametrize(("line", "expected"), [
    ("C O N F I D E N T I A L SECTION 01 OF 02 TAIPEI 000123", C),
    ("S E C R E T STATE 004567", S),
    ("SECRET SECTION 02 OF 03 TAIPEI 001234", S),
])
def test_cable_headers_spell_the_banner_out(line, expected):
    assert level(f"{line}\nSIPDIS\nE.O. 12958: DECL: 01/01/2034\nSUBJECT: Consultations", "body") == expected


def test_a_classification_line_of_an_email_is_a_banner():
    assert level("Classification: SECRET//NOFORN\n\nColleagues,\nsee below.", "body") == S
    assert level("Classification: UNCLASSIFIED\n\nColleagues,\nsee below.", "body") is None


def test_a_lone_confidential_heading_of_a_business_letter_is_not_a_us_banner():
    assert level("CONFIDENTIAL\nDear Mr. Chen,\nWe are pleased to offer you the position.", "body") is None


def test_a_secrecy_label_followed_by_a_list_of_levels_is_prose():
    assert level("密等：機密或極機密之公文，應以專差送達。", "body") is None


def test_a_banner_may_carry_a_handling_word():
    assert level("機密　限閱\n外交部　函\n" + DOC_NO, "page") == C


def test_a_grade_line_of_a_telegram_is_a_field():
    assert level("外交部收電\n電報專號：JPN2231\n等級：極機密\n速別：速件", "body") == S
    assert level("本案依規定調整等級：機密者另案處理。", "body") is None


def test_spaced_out_prose_in_a_band_is_not_a_banner():
    assert level("國 家 機 密 保 護 法 講 習", "header_band") is None
    assert level("請 輸 入 密 碼", "header_band") is None
    assert level("外交部　機 密", "header_band") == C


def test_an_awareness_flyer_with_a_level_line_is_not_marked():
    assert level("公務機密維護宣導\n機密\n（不得洩漏）\n請同仁共同維護", "page") is None


def test_an_official_document_on_training_keeps_its_marking():
    assert level("機密\n外交部　函\n" + DOC_NO + "\n主旨：辦理保密講習，請查照。", "page") == C


@pytest.mark.parametrize(("properties", "expected"), [
    ("title: 報告\nClassification: 機密", C), ("密等: 極機密", S), ("subject: x\nclassification: SECRET//NOFORN", S),
    ("Classification: General", None), ("title: 機密維護講習\nkeywords: 保密", None),
])
def test_document_properties_that_hold_a_classification(properties, expected):
    assert level(properties, "metadata") == expected


def test_a_band_may_call_the_document_classified():
    assert level("外交部　　機密文件　　請勿外流", "header_band") == C
    assert level("機密文件管理講習", "header_band") is None


@pytest.mark.timeout(60)
def test_hostile_lines_cost_linear_time():
    """Lines built to make regular expressions backtrack (long caveat chains, runs of
    decoration after a level) must not stall a worker."""
    import time

    hostile = ["機密" + " " * 70 + "x", "機密" + "-" * 70 + "啊", "SECRET" + "//AB" * 18 + "啊",
               "Classification: SECRET" + "//A" * 20 + "啊", "CUI" + "//AB" * 18 + "啊",
               "NATO SECRET" + " ATOMAL" * 9 + "x", "(S" + "//AB" * 18 + ")x", "機密（" + "本件" * 30]
    text = "\n".join(hostile * 150)
    started = time.process_time()
    for kind in ("page", "header_band", "subject"):
        findings(text, kind)
    assert time.process_time() - started < 5


ALPHABET = "機密極絕對一般公務密等及解條件或保期限級本件至於公布時後抽存屆滿複製物第份共頁"\
           "秘绝机★☆*內部资料工作（）()【】「」：: \n\t\u3000SECRETCONFIDUALTOPNS/-,.0123456789"


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=ALPHABET, max_size=400),
       kind=st.sampled_from(["body", "page", "header_band", "footer_band", "subject", "metadata", "cell", "ocr"]))
def test_any_text_gives_findings_and_never_raises(text, kind):
    for finding in findings(text, kind):
        assert finding.level in (TS, S, C, R) and finding.evidence and finding.system


def test_a_simplified_roc_letter_keeps_the_roc_ladder():
    assert level("机密\n外交部 函\n发文日期：中华民国115年3月2日\n主旨：关于会议的说明", "page") == C
    assert level("机密\n国务院办公厅\n2026年3月2日\n关于会议的说明", "page") == S


def test_a_level_alone_in_a_table_cell_is_a_banner():
    assert level("檔號：115/0101\t機密\n外交部　函\n" + DOC_NO, "body") == C
    assert level("等級\t說明\n絕對機密\t非常重大損害\n極機密\t重大損害\n機密\t損害", "cell") is None


@pytest.mark.parametrize("signal", ["電報專號：USA1526", "來電號碼：第1234號", "發文字號：外政字第11500123450號",
                                    "Classified By: J. Smith, Political Counselor", "国台发〔2026〕12号"])
def test_official_document_signals(signal):
    [finding] = findings(f"機密\n{signal}\n說明", "page")
    assert "official_document" in finding.tags


def test_a_telegram_forwarded_as_follows_keeps_its_banner():
    assert level("司長鈞鑒：\n茲將來電轉陳如下：\n機密\n外交部收電\n主旨：區域情勢", "body") == C


def test_a_cue_word_in_the_previous_sentence_is_not_an_example():
    assert level("Thanks for sharing the notes from partners such as Japan.\nSECRET//NOFORN\n(S//NF) Text.\n(U) More.", "body") == S


def test_a_classified_analysis_may_quote_the_news():
    assert level("機密\n據記者報導，某國政府機密會議決定調整政策。\n本處研判如下。", "body") == C


# ---------------------------------------------------------------- a message marked only at its top

@pytest.mark.parametrize(("top", "expected"), [("SECRET", S), ("TOP SECRET", TS)])
def test_a_lone_secret_first_line_of_a_mail_body_is_its_banner(top, expected):
    assert level(f"{top}\n\nThe plan for next week is attached.\n") == expected


def test_a_lone_confidential_first_line_stays_a_business_heading():
    assert level("CONFIDENTIAL\n\nThe salary review for next year is attached.\n") is None


def test_a_top_secret_section_title_among_other_capital_headings_is_not_a_banner():
    assert level("TOP SECRET\nOur chef reveals the pineapple cake recipe.\n\nSPORTS DAY\nSign up by Friday.\n") is None


def test_a_lone_secret_line_inside_a_text_is_not_a_banner():
    assert level("Hi team,\n\nTOP SECRET\n\nThe surprise party for Anna is on Friday.\n") is None
