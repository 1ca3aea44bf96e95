"""TNEF (winmail.dat) and Outlook .msg: every body a mail client shows is inspected.

Outlook puts the body of a rich-text message in MAPI properties (plain, HTML, compressed
RTF), not in the TNEF body attribute, and a .msg may carry only an HTML or RTF body or a
whole message inside another. A marking placed only there must be found, with its level,
through the real pipeline (extract + detectors).
"""

from __future__ import annotations

import docgen

from dlp_gateway.model import Level
from dlp_gateway.pipeline import InspectionReport, WorkerContext, inspect_message
from tests.conftest import levels_at


def scan_attachment(ctx: WorkerContext, name: str, data: bytes, mimetype: str) -> InspectionReport:
    return inspect_message(docgen.make_message("fw: 會議", "請參閱附件", [(name, data, mimetype)]), ctx)


TNEF = "application/ms-tnef"


def test_tnef_plain_body_property_marking_is_found(ctx: WorkerContext) -> None:
    tnef = docgen.make_tnef_with_body_properties(plain="機密\n有關雙邊會議籌備事宜，請查照。")
    report = scan_attachment(ctx, "winmail.dat", tnef, TNEF)
    assert levels_at(report) == {"winmail.dat › body": Level.CONFIDENTIAL}
    assert not report.inspection.problems


def test_tnef_html_body_property_marking_is_found(ctx: WorkerContext) -> None:
    html = "<html><body><p>SECRET//NOFORN</p><p>Meeting plan attached.</p></body></html>"
    report = scan_attachment(ctx, "winmail.dat", docgen.make_tnef_with_body_properties(html=html), TNEF)
    assert levels_at(report) == {"winmail.dat › body (html)": Level.SECRET}


def test_tnef_compressed_rtf_body_marking_is_found(ctx: WorkerContext) -> None:
    rtf = docgen.make_rtf("绝密★启动前\n会议纪要")
    report = scan_attachment(ctx, "winmail.dat", docgen.make_tnef_with_body_properties(rtf=rtf), TNEF)
    assert levels_at(report) == {"winmail.dat › body (rtf)": Level.TOP_SECRET}
    assert not report.inspection.problems


def test_tnef_damaged_compressed_rtf_is_recorded_corrupt(ctx: WorkerContext) -> None:
    tnef = docgen.make_tnef_with_body_properties(rtf=b"{\\rtf1 x}")
    broken = tnef.replace(b"LZFu", b"LZFx")  # an unknown compression type
    report = scan_attachment(ctx, "winmail.dat", broken, TNEF)
    assert [(p.kind.value, p.location) for p in report.inspection.problems] == [("corrupt", "winmail.dat › body (rtf)")]


def test_tnef_attachment_long_file_name_is_used(ctx: WorkerContext) -> None:
    docx = docgen.make_docx(["機密", "附件內文"])
    tnef = docgen.make_tnef_with_body_properties(plain="see attached", attachments={"MEMO~1.DOC": docx},
                                                 long_names={"MEMO~1.DOC": "會議紀要.docx"})
    report = scan_attachment(ctx, "winmail.dat", tnef, TNEF)
    assert levels_at(report) == {"winmail.dat › 會議紀要.docx › body": Level.CONFIDENTIAL}


MSG = "application/vnd.ms-outlook"


def test_msg_plain_body_marking_is_found(ctx: WorkerContext) -> None:
    msg = docgen.make_ole(docgen.outlook_msg_streams("會議", body="機密\n有關雙邊會議籌備事宜"))
    assert levels_at(scan_attachment(ctx, "fwd.msg", msg, MSG)) == {"fwd.msg › body": Level.CONFIDENTIAL}


def test_msg_html_only_body_marking_is_found(ctx: WorkerContext) -> None:
    html = "<html><body><div>SECRET//NOFORN</div><div>Meeting plan.</div></body></html>"
    msg = docgen.make_ole(docgen.outlook_msg_streams("meeting", html=html))
    report = scan_attachment(ctx, "fwd.msg", msg, MSG)
    assert levels_at(report) == {"fwd.msg › body (html)": Level.SECRET}


def test_msg_rtf_only_body_marking_is_found(ctx: WorkerContext) -> None:
    msg = docgen.make_ole(docgen.outlook_msg_streams("会议", rtf=docgen.make_rtf("绝密★启动前\n会议纪要")))
    report = scan_attachment(ctx, "fwd.msg", msg, MSG)
    assert levels_at(report) == {"fwd.msg › body (rtf)": Level.TOP_SECRET}
    assert not report.inspection.problems


def test_msg_inside_msg_body_and_attachment_are_found(ctx: WorkerContext) -> None:
    inner = docgen.outlook_msg_streams("原始郵件", body="SECRET//NOFORN\nforwarded text",
                                       attachments={"memo.docx": docgen.make_docx(["機密", "附件"])})
    outer = docgen.make_ole_large(docgen.outlook_msg_streams("fw", body="see below", embedded={"原始郵件": inner}))
    report = scan_attachment(ctx, "fwd.msg", outer, MSG)
    assert levels_at(report) == {"fwd.msg › 原始郵件 › body": Level.SECRET,
                                 "fwd.msg › 原始郵件 › memo.docx › body": Level.CONFIDENTIAL}
    assert not report.inspection.problems


def test_tnef_attached_message_body_is_found(ctx: WorkerContext) -> None:
    inner = docgen.make_tnef_with_body_properties(plain="SECRET//NOFORN\nforwarded text")
    tnef = docgen.make_tnef_with_attached_message(inner, "original")
    report = scan_attachment(ctx, "winmail.dat", tnef, TNEF)
    assert levels_at(report) == {"winmail.dat › original › body": Level.SECRET}


def test_msg_attached_ole_package_object_is_unpacked_and_read(ctx: WorkerContext) -> None:
    import olefile

    with olefile.OleFileIO(docgen.make_ole10native("plan.txt", b"SECRET//NOFORN\nthe plan\n")) as ole:
        native = ole.openstream("\x01Ole10Native").read()
    streams = docgen.outlook_msg_streams("fw", body="see attached")
    storage = "__attach_version1.0_#00000000"
    streams[f"{storage}/__substg1.0_3001001F"] = "plan.txt".encode("utf-16-le")
    streams[f"{storage}/__substg1.0_3701000D/\x01Ole10Native"] = native
    report = scan_attachment(ctx, "fwd.msg", docgen.make_ole(streams), MSG)
    assert levels_at(report) == {"fwd.msg › plan.txt › plan.txt": Level.SECRET}
    assert not report.inspection.problems


def test_tnef_body_after_named_and_multivalued_properties_is_found(ctx: WorkerContext) -> None:
    report = scan_attachment(ctx, "winmail.dat", docgen.make_tnef_outlook_body("機密\n會議"), TNEF)
    assert levels_at(report) == {"winmail.dat › body": Level.CONFIDENTIAL}
    assert not report.inspection.problems


def test_tnef_damaged_property_block_is_recorded_corrupt(ctx: WorkerContext) -> None:
    import struct

    count, entries = docgen.tnef_outlook_extra_properties()
    block = struct.pack("<I", count + 1) + entries  # claims one property more than it holds
    tnef = docgen.tnef_stream([(1, 0x0006, 0x9003, block)])
    report = scan_attachment(ctx, "winmail.dat", tnef, TNEF)
    assert [(p.kind.value, p.location) for p in report.inspection.problems] == [("corrupt", "winmail.dat")]


def test_tnef_property_block_with_a_huge_value_count_stops_quickly(ctx: WorkerContext) -> None:
    import struct
    import time

    block = struct.pack("<IHHI", 1, 0x1003, 0x3A4E, 0xFFFFFFF0)  # PT_MV_LONG claiming 4 billion values
    started = time.monotonic()
    report = scan_attachment(ctx, "winmail.dat", docgen.tnef_stream([(1, 0x0006, 0x9003, block)]), TNEF)
    assert time.monotonic() - started < 5
    assert [(p.kind.value, p.location) for p in report.inspection.problems] == [("corrupt", "winmail.dat")]


def test_ansi_msg_body_in_the_stated_code_page_is_found(ctx: WorkerContext) -> None:
    # An "ANSI" .msg from a Traditional Chinese Outlook: 8-bit strings in cp950, the code
    # page stated by PR_MESSAGE_CODEPAGE in the property stream.
    import struct

    streams = {
        "__substg1.0_0037001E": "會議通知".encode("cp950"),
        "__substg1.0_1000001E": "機密\n有關雙邊會議籌備事宜".encode("cp950"),
        "__properties_version1.0": b"\0" * 32 + struct.pack("<IIQ", 0x3FFD0003, 0x6, 950),
    }
    report = scan_attachment(ctx, "fwd.msg", docgen.make_ole(streams), MSG)
    assert levels_at(report) == {"fwd.msg › body": Level.CONFIDENTIAL}
    assert any(s.text == "會議通知" for s in report.inspection.segments if s.location == "fwd.msg › subject")


def test_tnef_string8_body_in_the_stated_code_page_is_found(ctx: WorkerContext) -> None:
    # PR_BODY as an 8-bit string in GBK, PR_INTERNET_CPID 936; the stream's OEM code page is 1252.
    import struct

    block = docgen.tnef_property_block([(0x001E, 0x1000, "绝密★启动前\n会议纪要".encode("gbk") + b"\0"),
                                        (0x0003, 0x3FDE, struct.pack("<I", 936))])
    tnef = docgen.tnef_stream([(1, 0x0006, 0x9007, struct.pack("<II", 1252, 0)), (1, 0x0006, 0x9003, block)])
    report = scan_attachment(ctx, "winmail.dat", tnef, TNEF)
    assert levels_at(report) == {"winmail.dat › body": Level.TOP_SECRET}
