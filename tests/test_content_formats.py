"""Every format the gateway reads: a generated file with a known phrase (Chinese and
English) is read, and the phrase is found at the right location."""

from __future__ import annotations

import docgen
import pytest

from dlp_gateway.content.extract import extract
from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.model import Inspection, ProblemKind

ZH = "駐外館處機密電報"
EN = "Operation Lantern"


def inspect(raw: bytes, **limits: object) -> Inspection:
    return extract(raw, ExtractionLimits(**limits))


def with_attachment(name: str, data: bytes, mimetype: str = "application/octet-stream") -> Inspection:
    return inspect(docgen.make_message("weekly report", "see attachment", [(name, data, mimetype)]))


def where(inspection: Inspection, phrase: str) -> dict[str, str]:
    """location -> kind of every segment containing `phrase`."""
    return {s.location: s.kind for s in inspection.segments if phrase in s.text}


def test_pdf_page_text_is_read_with_page_location() -> None:
    ins = with_attachment("a.pdf", docgen.make_pdf([f"{ZH}\n{EN}", "second page"]), "application/pdf")
    assert where(ins, ZH) == {"a.pdf › page 1": "page"}
    assert where(ins, EN) == {"a.pdf › page 1": "page"}
    assert where(ins, "second page") == {"a.pdf › page 2": "page"}


def test_pdf_header_and_footer_bands_are_their_own_segments_on_every_page() -> None:
    pdf = docgen.make_pdf(["body one", "body two"], header=f"機密 {EN}", footer="本件至115年3月2日解密")
    ins = with_attachment("a.pdf", pdf, "application/pdf")
    assert where(ins, EN) == {"a.pdf › page 1 › header": "header_band", "a.pdf › page 2 › header": "header_band"}
    assert where(ins, "解密") == {"a.pdf › page 1 › footer": "footer_band", "a.pdf › page 2 › footer": "footer_band"}
    assert where(ins, "body one") == {"a.pdf › page 1": "page"}
    assert all(s.part == "a.pdf" for s in ins.segments if s.location.startswith("a.pdf ›"))


def test_pdf_annotations_form_fields_and_metadata_are_read() -> None:
    pdf = docgen.make_pdf(["text"], annotation=f"批示 {EN}", form_field=("密等", ZH),
                          metadata={"title": f"標題 {ZH}", "author": EN})
    ins = with_attachment("a.pdf", pdf, "application/pdf")
    assert where(ins, "批示")["a.pdf › page 1 › annotation"] == "annotation"
    assert where(ins, f"密等: {ZH}") == {"a.pdf › page 1 › form": "form"}
    assert where(ins, f"標題 {ZH}") == {"a.pdf › metadata": "metadata"}


def test_pdf_embedded_docx_is_extracted_and_read() -> None:
    inner = docgen.make_docx([f"{ZH} {EN}"])
    ins = with_attachment("a.pdf", docgen.make_pdf(["cover"], embedded={"inner.docx": inner}), "application/pdf")
    assert where(ins, ZH) == {"a.pdf › inner.docx › body": "body"}
    part = next(p for p in ins.parts if p.location == "a.pdf › inner.docx")
    assert part.true_type.endswith("wordprocessingml.document") and part.depth == 2


def test_docx_body_header_footer_comment_and_properties() -> None:
    docx = docgen.make_docx([f"本文 {ZH}"], header=f"頁首 {EN}", footer="頁尾 footer text",
                            comment="評論 comment text", title="文件標題")
    ins = with_attachment("b.docx", docx)
    assert where(ins, ZH) == {"b.docx › body": "body"}
    assert where(ins, EN) == {"b.docx › header": "header_band"}
    assert where(ins, "頁尾") == {"b.docx › footer": "footer_band"}
    assert where(ins, "評論") == {"b.docx › comments": "comment"}
    assert where(ins, "文件標題") == {"b.docx › properties": "metadata"}


def test_docx_table_cells_are_part_of_the_body() -> None:
    ins = with_attachment("b.docx", docgen.make_docx(["intro"], table=[["欄位", ZH], [EN, "x"]]))
    assert where(ins, ZH) == {"b.docx › body": "body"}


def test_docx_sensitivity_label_becomes_a_fact_with_its_properties() -> None:
    ins = with_attachment("b.docx", docgen.make_docx(["text"], label="Highly Confidential 極機密"))
    facts = {f.name: f for f in ins.facts}
    assert facts["office.sensitivity_label"].value == "Highly Confidential 極機密"
    assert facts["office.sensitivity_label"].location == "b.docx › properties"
    assert facts["office.sensitivity_label"].part == "b.docx"
    assert facts["office.sensitivity_label.enabled"].value == "true"
    assert facts["office.sensitivity_label.id"].value == "3de9faa6-9fe1-49b3-9a08-227a296b54a6"


def test_xlsx_cells_of_every_sheet_and_comments() -> None:
    xlsx = docgen.make_xlsx({"名單": [["姓名", ZH]], "Second": [[EN, 42]]}, comment=("A1", "儲存格註解"),
                            label="Secret")
    ins = with_attachment("c.xlsx", xlsx)
    assert where(ins, ZH) == {"c.xlsx › sheet 名單": "cell"}
    assert where(ins, EN) == {"c.xlsx › sheet Second": "cell"}
    assert where(ins, "儲存格註解") == {"c.xlsx › comments": "comment"}
    assert {f.value for f in ins.facts if f.name == "office.sensitivity_label"} == {"Secret"}


def test_pptx_slides_and_notes() -> None:
    ins = with_attachment("d.pptx", docgen.make_pptx(["first", f"第二張 {ZH}"], notes=["", f"備忘 {EN}"]))
    assert where(ins, ZH) == {"d.pptx › slide 2": "page"}
    assert where(ins, EN) == {"d.pptx › slide 2 › notes": "note"}


def test_odt_body_header_footer_and_title() -> None:
    odt = docgen.make_odt([f"內文 {ZH}"], title=f"題名 {EN}", header="頁首機密", footer="頁尾 footer")
    ins = with_attachment("e.odt", odt)
    assert where(ins, ZH) == {"e.odt › body": "body"}
    assert where(ins, "頁首機密") == {"e.odt › header": "header_band"}
    assert where(ins, "頁尾") == {"e.odt › footer": "footer_band"}
    assert where(ins, EN) == {"e.odt › properties": "metadata"}


def test_ods_cells_and_odp_slides_with_notes() -> None:
    ins = with_attachment("f.ods", docgen.make_ods({"表一": [["a", ZH]]}))
    assert where(ins, ZH) == {"f.ods › sheet 表一": "cell"}
    ins = with_attachment("g.odp", docgen.make_odp([f"簡報 {ZH}"], notes=[EN]))
    assert where(ins, ZH) == {"g.odp › slide 1": "page"}
    assert where(ins, EN) == {"g.odp › slide 1 › notes": "note"}


@pytest.mark.parametrize("codepage", [None, 950])
def test_rtf_unicode_and_code_page_escapes(codepage: int | None) -> None:
    ins = with_attachment("h.rtf", docgen.make_rtf(f"{ZH} {EN}", codepage=codepage))
    assert where(ins, f"{ZH} {EN}") == {"h.rtf": "body"}


@pytest.mark.parametrize("encoding,bom", [("utf-8", False), ("utf-8", True), ("big5", False)])
def test_edoc_secrecy_code_and_declassify_condition_are_facts(encoding: str, bom: bool) -> None:
    xml = docgen.make_edoc_xml("機密", f"主旨 {ZH}", encoding, declassify="本件至115年3月2日解密", bom=bom)
    ins = with_attachment("letter.di", xml)
    assert where(ins, ZH) == {"letter.di": "xml"}
    facts = {(f.name, f.value, f.location) for f in ins.facts}
    assert ("edoc.secrecy", "機密", "letter.di") in facts
    assert ("edoc.declassify", "本件至115年3月2日解密", "letter.di") in facts
    assert not ins.problems


def test_edoc_unclassified_letter_gives_no_secrecy_fact() -> None:
    ins = with_attachment("letter.di", docgen.make_edoc_xml(None, "一般公文"))
    assert not [f for f in ins.facts if f.name == "edoc.secrecy"]
    assert where(ins, "一般公文") == {"letter.di": "xml"}


def test_edoc_attachment_entity_declarations_are_not_a_problem() -> None:
    xml = docgen.make_edoc_xml("密", "附件").replace(
        b'<!DOCTYPE \xe5\x87\xbd SYSTEM "104_2_utf8.dtd">',
        '<!DOCTYPE 函 SYSTEM "104_2_utf8.dtd" [<!ENTITY ATTCH1 SYSTEM "a.pdf" NDATA DI>'
        '<!NOTATION DI SYSTEM "">]>'.encode(),
    )
    ins = with_attachment("letter.di", xml)
    assert {f.value for f in ins.facts if f.name == "edoc.secrecy"} == {"密"}
    assert not ins.problems


def test_plain_text_attachment_in_gb18030_is_detected() -> None:
    ins = with_attachment("notes.txt", f"简体中文说明：{ZH}，内部资料，不得外传。".encode("gb18030"))
    assert where(ins, "内部资料") == {"notes.txt": "body"}


def test_zip_members_are_read_with_archive_location() -> None:
    archive = docgen.make_zip({"docs/b.docx": docgen.make_docx(["x"], header=ZH), "c.txt": EN.encode()})
    ins = with_attachment("a.zip", archive, "application/zip")
    assert where(ins, ZH) == {"a.zip › docs/b.docx › header": "header_band"}
    assert where(ins, EN) == {"a.zip › c.txt": "body"}


def test_zip64_archive_is_read() -> None:
    ins = with_attachment("a.zip", docgen.make_zip({"c.txt": ZH.encode()}, force_zip64=True))
    assert where(ins, ZH) == {"a.zip › c.txt": "body"}


@pytest.mark.parametrize("name,make", [
    ("a.tar", lambda m: docgen.make_tar(m)),
    ("a.tar.gz", lambda m: docgen.make_targz(m)),
    ("a.7z", lambda m: docgen.make_7z(m)),
])
def test_tar_targz_and_7z_members_are_read(name: str, make) -> None:
    ins = with_attachment(name, make({"report.txt": f"{ZH} {EN}".encode()}))
    locations = where(ins, ZH)
    assert len(locations) == 1
    (location,) = locations
    assert location.startswith(f"{name} › ") and location.endswith("report.txt")


@pytest.mark.parametrize("name,make", [
    ("memo.txt.gz", docgen.make_gzip), ("memo.txt.bz2", docgen.make_bz2), ("memo.txt.xz", docgen.make_xz),
])
def test_single_file_compressors_are_read(name: str, make) -> None:
    ins = with_attachment(name, make(f"{ZH} {EN}".encode()))
    assert where(ins, EN) == {f"{name} › memo.txt": "body"}


def test_nested_archives_three_deep() -> None:
    docx = docgen.make_docx([f"最內層 {ZH}"])
    inner = docgen.make_7z({"c.docx": docx})
    middle = docgen.make_targz({"b.7z": inner})
    outer = docgen.make_zip({"a.tgz": middle})
    ins = with_attachment("outer.zip", outer)
    assert where(ins, ZH) == {"outer.zip › a.tgz › a.tar › b.7z › c.docx › body": "body"}


def test_eml_inside_zip_is_read_as_a_message() -> None:
    eml = docgen.make_message(f"轉寄 {EN}", f"內文 {ZH}", [("x.pdf", docgen.make_pdf(["機密附件"]), "application/pdf")])
    ins = with_attachment("mail.zip", docgen.make_zip({"fwd.eml": eml}))
    assert where(ins, EN) == {"mail.zip › fwd.eml › subject": "subject"}
    assert where(ins, ZH) == {"mail.zip › fwd.eml › body": "body"}
    assert where(ins, "機密附件") == {"mail.zip › fwd.eml › x.pdf › page 1": "page"}


def test_renamed_pdf_called_jpg_is_read_as_pdf_and_mismatch_recorded() -> None:
    ins = with_attachment("photo.jpg", docgen.make_pdf([ZH]), "image/jpeg")
    assert where(ins, ZH) == {"photo.jpg › page 1": "page"}
    part = next(p for p in ins.parts if p.location == "photo.jpg")
    assert part.true_type == "application/pdf" and part.declared_type == "image/jpeg"
    assert part.type_mismatch
    (fact,) = [f for f in ins.facts if f.name == "file.type_mismatch"]
    assert "application/pdf" in fact.value and fact.location == "photo.jpg"


def test_matching_declared_type_is_not_a_mismatch() -> None:
    ins = with_attachment("a.pdf", docgen.make_pdf(["x"]), "application/pdf")
    assert not any(p.type_mismatch for p in ins.parts)
    assert not [f for f in ins.facts if f.name == "file.type_mismatch"]


def test_every_part_carries_its_bytes_hash_and_true_type() -> None:
    import hashlib

    pdf = docgen.make_pdf(["x"])
    ins = with_attachment("a.zip", docgen.make_zip({"a.pdf": pdf}))
    part = next(p for p in ins.parts if p.location == "a.zip › a.pdf")
    assert part.data == pdf and part.size == len(pdf)
    assert part.sha256 == hashlib.sha256(pdf).hexdigest()
    assert part.true_type == "application/pdf" and part.depth == 2 and part.filename == "a.pdf"


def test_archive_member_names_are_scanned_as_filename_segments() -> None:
    ins = with_attachment("a.zip", docgen.make_zip({"極機密_名單.txt": b"x"}))
    assert where(ins, "極機密_名單") == {"a.zip › 極機密_名單.txt": "filename"}


def test_encrypted_zip_member_is_recorded_not_skipped() -> None:
    ins = with_attachment("a.zip", docgen.make_encrypted_zip({"secret.txt": ZH.encode()}))
    (problem,) = ins.problems
    assert problem.kind == ProblemKind.ENCRYPTED and problem.location == "a.zip › secret.txt"
    assert where(ins, "secret.txt") == {"a.zip › secret.txt": "filename"}


def test_encrypted_7z_is_recorded() -> None:
    ins = with_attachment("a.7z", docgen.make_7z({"secret.txt": ZH.encode()}, password="pw"))
    assert [p.kind for p in ins.problems] == [ProblemKind.ENCRYPTED]
    assert not where(ins, ZH)


def test_encrypted_pdf_is_recorded() -> None:
    import pymupdf

    doc = pymupdf.open(stream=docgen.make_pdf([ZH]))
    locked = doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    ins = with_attachment("a.pdf", locked)
    assert [(p.kind, p.location) for p in ins.problems] == [(ProblemKind.ENCRYPTED, "a.pdf")]


def test_rar_is_listed_or_recorded_unsupported() -> None:
    ins = with_attachment("a.rar", b"Rar!\x1a\x07\x01\x00" + b"\x00" * 64)
    assert any(p.kind in (ProblemKind.UNSUPPORTED, ProblemKind.CORRUPT) and p.location == "a.rar"
               for p in ins.problems)


def test_unknown_binary_is_recorded_by_type_and_noted_not_held() -> None:
    ins = with_attachment("tool.exe", b"MZ\x90\x00" + bytes(range(256)) * 8)
    assert ins.problems == []
    assert [n.location for n in ins.notes] == ["tool.exe"]
    assert [(f.name, f.location) for f in ins.facts if f.name == "file.unread_type"] == [("file.unread_type", "tool.exe")]


def test_legacy_word_document_is_read_best_effort_and_recorded() -> None:
    ins = with_attachment("old.doc", docgen.make_legacy_doc(f"{ZH} {EN}"), "application/msword")
    assert where(ins, f"{ZH} {EN}") == {"old.doc › body": "body"}
    assert [(p.kind, p.location) for p in ins.problems] == [(ProblemKind.UNSUPPORTED, "old.doc")]
    assert "best effort" in ins.problems[0].detail


def test_password_protected_office_file_is_recorded_encrypted() -> None:
    ins = with_attachment("locked.docx", docgen.make_encrypted_ooxml())
    assert [(p.kind, p.location) for p in ins.problems] == [(ProblemKind.ENCRYPTED, "locked.docx")]


def test_images_inside_office_files_are_sent_to_ocr() -> None:
    docx = docgen.make_docx(["see picture"], image=docgen.make_png(["機密"]))
    ins = inspect(docgen.make_message("s", "b", [("b.docx", docx, "application/octet-stream")]), max_ocr_pages=0)
    (image,) = [p for p in ins.parts if p.location.startswith("b.docx › ") and p.true_type == "image/png"]
    assert [(p.location, p.limit) for p in ins.problems] == [(image.location, "max_ocr_pages")]


def test_outlook_msg_subject_body_and_attachments_are_read() -> None:
    msg = docgen.make_outlook_msg(f"主旨 {EN}", f"本文 {ZH}", {"memo.docx": docgen.make_docx(["附件內文 attachment"])})
    ins = with_attachment("fwd.msg", msg, "application/vnd.ms-outlook")
    assert where(ins, EN) == {"fwd.msg › subject": "subject"}
    assert where(ins, ZH) == {"fwd.msg › body": "body"}
    assert where(ins, "附件內文") == {"fwd.msg › memo.docx › body": "body"}
    assert not ins.problems


def test_zip_member_names_in_big5_without_utf8_flag_are_decoded() -> None:
    archive = docgen.make_zip_legacy_names({"機密公文.txt": f"{EN}".encode()})
    ins = with_attachment("a.zip", archive)
    assert where(ins, "機密公文.txt") == {"a.zip › 機密公文.txt": "filename"}
    assert where(ins, EN) == {"a.zip › 機密公文.txt": "body"}


@pytest.mark.parametrize("text,encoding", [
    ("机密会议纪要，请妥善保管", "gb18030"),
    ("本件至115年3月2日解密，請查照。", "cp950"),
])
def test_undeclared_short_chinese_text_is_decoded_in_the_right_script(text: str, encoding: str) -> None:
    ins = with_attachment("memo.txt", text.encode(encoding))
    assert where(ins, text) == {"memo.txt": "body"}


def test_word97_doc_is_read_from_its_piece_table_with_header_story() -> None:
    doc = docgen.make_doc([f"本文 {ZH}", EN], header="機密（本件至115年3月2日解密）")
    ins = with_attachment("letter.doc", doc, "application/msword")
    assert where(ins, ZH) == {"letter.doc › body": "body"}
    assert where(ins, EN) == {"letter.doc › body": "body"}
    assert where(ins, "本件至115年3月2日解密") == {"letter.doc › header": "header_band"}
    assert not ins.problems


def test_docx_tracked_deletion_text_is_read() -> None:
    ins = with_attachment("b.docx", docgen.make_docx(["visible text"], deleted_text=f"已刪除 {ZH}"))
    assert where(ins, f"已刪除 {ZH}") == {"b.docx › body": "body"}


def test_pdf_text_placed_outside_the_visible_page_is_read() -> None:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page(width=1200, height=842)
    page.insert_text((56, 420), "visible", fontsize=12)
    page.insert_text((800, 420), f"off-page {ZH}", fontname="china-t", fontsize=12)
    page.set_mediabox(pymupdf.Rect(0, 0, 595, 842))  # the second text now lies off the page
    ins = with_attachment("a.pdf", doc.tobytes())
    assert where(ins, f"off-page {ZH}") == {"a.pdf › page 1": "page"}


def test_rar_members_are_listed_read_when_stored_and_encrypted_ones_recorded() -> None:
    rar = docgen.make_rar({"極機密名單.txt": f"{ZH} {EN}".encode(), "locked.docx": b"x" * 50},
                          encrypted=("locked.docx",))
    ins = with_attachment("a.rar", rar)
    assert where(ins, "極機密名單.txt") == {"a.rar › 極機密名單.txt": "filename"}
    assert where(ins, EN) == {"a.rar › 極機密名單.txt": "body"}
    assert where(ins, "locked.docx") == {"a.rar › locked.docx": "filename"}
    assert {(p.location, p.kind) for p in ins.problems} == {("a.rar › locked.docx", ProblemKind.ENCRYPTED)}


def test_rar_member_that_needs_an_extractor_is_recorded_unsupported() -> None:
    rar = docgen.make_rar({"packed.txt": b"\x00\x01\x02 not really rar data"}, compressed=("packed.txt",))
    ins = with_attachment("b.rar", rar)
    assert where(ins, "packed.txt") == {"b.rar › packed.txt": "filename"}
    assert [(p.location, p.kind) for p in ins.problems] == [("b.rar › packed.txt", ProblemKind.UNSUPPORTED)]


def test_odt_annotation_is_a_comment_not_body() -> None:
    ins = with_attachment("e.odt", docgen.make_odt(["body text"], comment=f"批註 {ZH}"))
    assert where(ins, f"批註 {ZH}") == {"e.odt › comments": "comment"}


def test_tnef_winmail_dat_attachments_are_read() -> None:
    tnef = docgen.make_tnef({"機密報告.docx": docgen.make_docx([f"附件 {ZH}"])}, subject="主旨 winmail", body=f"本文 {EN}")
    ins = with_attachment("winmail.dat", tnef, "application/ms-tnef")
    assert next(p for p in ins.parts if p.location == "winmail.dat").true_type.endswith("tnef")
    assert where(ins, ZH) == {"winmail.dat › 機密報告.docx › body": "body"}
    assert where(ins, EN) == {"winmail.dat › body": "body"}
    assert where(ins, "主旨 winmail") == {"winmail.dat › subject": "subject"}
    assert not ins.problems


@pytest.mark.parametrize("declared,filename,actual", [
    ("text/csv", "a.csv", "text/plain"),
    ("text/html", "a.html", "text/plain"),
    ("application/x-zip-compressed", "a.zip", "application/zip"),
    ("application/octet-stream", "a.tar.gz", "application/gzip"),
    ("application/vnd.ms-word.document.macroEnabled.12", "a.docm",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("application/vnd.ms-powerpoint", "a.pptx",
     "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("application/ms-tnef", "winmail.dat", "application/vnd.ms-tnef"),
    ("image/jpg", "a.jpeg", "image/jpeg"),
    ("application/octet-stream", "letter.di", "text/xml"),
    (None, "fwd.eml", "message/rfc822"),
])
def test_benign_type_pairs_are_not_mismatches(declared: str | None, filename: str, actual: str) -> None:
    from dlp_gateway.content.filetype import mismatch

    assert mismatch(declared, filename, actual) is None


@pytest.mark.parametrize("declared,filename,actual", [
    ("image/jpeg", "photo.jpg", "application/pdf"),
    ("text/plain", "readme.txt", "application/x-dosexec"),
    ("application/pdf", "report.pdf", "application/zip"),
])
def test_disguised_types_are_mismatches(declared: str, filename: str, actual: str) -> None:
    from dlp_gateway.content.filetype import mismatch

    assert actual in (mismatch(declared, filename, actual) or "")
