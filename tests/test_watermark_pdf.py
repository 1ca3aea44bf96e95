"""The watermark: invisible, valid, unique per copy, read back from the file."""

from __future__ import annotations

import email
import email.policy

import docgen
import fingerprint_corpus as corpus
import pymupdf

from dlp_gateway.actions.watermark import find_marks, mark_message, mark_pdf, new_code, read_marks


def render(data: bytes) -> list[bytes]:
    with pymupdf.open(stream=data, filetype="pdf") as doc:
        return [page.get_pixmap(dpi=100).samples for page in doc]


def test_a_marked_pdf_looks_exactly_like_the_original():
    original = corpus.cable_relaid_pdf()
    marked = mark_pdf(original, new_code())
    assert marked is not None and marked != original
    assert render(marked) == render(original)  # pixel for pixel, every page


def test_rotated_pages_are_marked_invisibly_too():
    with pymupdf.open(stream=corpus.cable_pdf(), filetype="pdf") as doc:
        doc[0].set_rotation(90)
        original = doc.tobytes()
    code = new_code()
    marked = mark_pdf(original, code)
    assert render(marked) == render(original)
    assert read_marks(marked) == [code]


def test_a_marked_pdf_stays_a_valid_pdf_with_the_same_pages_and_text():
    original = corpus.cable_relaid_pdf()
    marked = mark_pdf(original, new_code())
    with pymupdf.open(stream=original, filetype="pdf") as a, pymupdf.open(stream=marked, filetype="pdf") as b:
        assert b.page_count == a.page_count
        assert not b.is_repaired
        for page_a, page_b in zip(a, b, strict=True):
            assert page_a.get_text().strip() in page_b.get_text()
        # a full save/reload round trip works (no structural damage)
        assert pymupdf.open(stream=b.tobytes(garbage=4), filetype="pdf").page_count == a.page_count


def test_the_code_is_read_back_from_text_layer_and_metadata():
    code = new_code()
    marked = mark_pdf(corpus.cable_pdf(), code)
    assert read_marks(marked) == [code]
    # With the metadata stripped, the invisible text layer still carries it.
    with pymupdf.open(stream=marked, filetype="pdf") as doc:
        doc.set_metadata({})
        stripped = doc.tobytes()
    assert read_marks(stripped) == [code]


def test_each_copy_gets_its_own_code():
    raw = docgen.make_message("週報", "請參閱附件。", [("cable.pdf", corpus.cable_pdf(), "application/pdf")])
    first, marks_first = mark_message(raw)
    second, marks_second = mark_message(raw)
    assert marks_first[0][0] != marks_second[0][0]
    assert marks_first[0][1] == "cable.pdf"
    pdfs = []
    for data in (first, second):
        msg = email.message_from_bytes(data, policy=email.policy.default)
        (pdf,) = [p for p in msg.walk() if p.get_content_type() == "application/pdf"]
        assert pdf.get_filename() == "cable.pdf"
        pdfs.append(pdf.get_payload(decode=True))
        assert msg.get_body(("plain",)).get_content().strip() == "請參閱附件。"
    assert [read_marks(p) for p in pdfs] == [[marks_first[0][0]], [marks_second[0][0]]]


def test_messages_without_pdfs_are_left_byte_for_byte_alone():
    raw = docgen.make_message("memo", corpus.MEMO, [("a.docx", corpus.cable_docx(),
                              "application/vnd.openxmlformats-officedocument.wordprocessingml.document")])
    assert mark_message(raw) == (raw, [])


def test_signed_messages_are_not_marked_so_the_signature_holds():
    inner = docgen.make_message("x", "body", [("cable.pdf", corpus.cable_pdf(), "application/pdf")])
    signed = inner.replace(b"Content-Type: multipart/mixed", b"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"", 1)
    assert mark_message(signed) == (signed, [])


def test_encrypted_pdfs_are_delivered_unmarked():
    doc = pymupdf.open(stream=corpus.cable_pdf(), filetype="pdf")
    encrypted = doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    assert mark_pdf(encrypted, new_code()) is None


def test_a_rasterised_copy_loses_the_mark():
    # Honest limit: a scan or "print as image" keeps no text layer and no metadata.
    code = new_code()
    marked = mark_pdf(corpus.cable_pdf(), code)
    with pymupdf.open(stream=marked, filetype="pdf") as doc:
        png = doc[0].get_pixmap(dpi=72).tobytes("png")
    raster = pymupdf.open()
    page = raster.new_page()
    page.insert_image(page.rect, stream=png)
    assert read_marks(raster.tobytes()) == []


def test_codes_are_found_in_any_text_case_insensitively():
    assert find_marks("see DLPWM-0123456789ABCDEF and dlpwm-0123456789abcdef") == ["dlpwm-0123456789abcdef"]
    assert find_marks("dlpwm-xyz") == []
