"""RTF: the places Word and WordPad show that a plain RTF-to-text pass drops.

Headers and footers, footnotes, comments, shape text boxes and embedded objects are RTF
destinations; a marking placed only there must be found, with its level, through the
real pipeline. (Outlook's RTF bodies in .msg and winmail.dat go through the same reader.)
"""

from __future__ import annotations

import docgen
import pytest
from docgen import rtf_document, rtf_escape

from dlp_gateway.model import Level
from dlp_gateway.pipeline import WorkerContext, inspect_message

BODY = rtf_escape("有關雙邊會議籌備事宜，請查照。")


def levels_at(ctx: WorkerContext, rtf: bytes) -> dict[str, Level]:
    report = inspect_message(docgen.make_message("資料", "請參閱附件", [("a.rtf", rtf, "application/rtf")]), ctx)
    assert not report.inspection.problems
    out: dict[str, Level] = {}
    for finding in report.findings:
        if finding.level is not None:
            out[finding.location] = max(out.get(finding.location, finding.level), finding.level)
    return out


@pytest.mark.parametrize("group", [
    "{\\header \\pard\\plain " + rtf_escape("機密") + "\\par}",
    "{\\headerf \\pard\\plain " + rtf_escape("機密") + "\\par}",
    "{\\footerl \\pard\\plain " + rtf_escape("機密") + "\\par}",
])
def test_rtf_header_and_footer_markings_are_found(ctx: WorkerContext, group: str) -> None:
    assert levels_at(ctx, rtf_document(group + BODY)) == {"a.rtf": Level.CONFIDENTIAL}


def test_rtf_footnote_marking_is_found(ctx: WorkerContext) -> None:
    rtf = rtf_document(BODY + "{\\super\\chftn}{\\footnote \\pard\\plain {\\super\\chftn} SECRET//NOFORN\\par}")
    assert levels_at(ctx, rtf) == {"a.rtf": Level.SECRET}


def test_rtf_comment_marking_is_found(ctx: WorkerContext) -> None:
    rtf = rtf_document(BODY + "{\\*\\atnid T}{\\*\\atnauthor tester}\\chatn{\\*\\annotation{\\*\\atnref 1}"
                       "\\pard\\plain SECRET//NOFORN\\par}")
    assert levels_at(ctx, rtf) == {"a.rtf": Level.SECRET}


def test_rtf_shape_text_box_marking_is_found(ctx: WorkerContext) -> None:
    shape = ("{\\shp{\\*\\shpinst\\shpleft0\\shptop0\\shpright2000\\shpbottom500{\\sp{\\sn shapeType}{\\sv 202}}"
             "{\\shptxt \\pard\\plain " + rtf_escape("绝密★启动前") + "\\par}}}")
    assert levels_at(ctx, rtf_document(BODY + shape)) == {"a.rtf": Level.TOP_SECRET}


def test_rtf_embedded_package_object_is_unpacked_and_read(ctx: WorkerContext) -> None:
    obj = docgen.rtf_package_object("plan.txt", b"SECRET//NOFORN\nthe plan\n")
    assert levels_at(ctx, rtf_document(BODY + obj)) == {"a.rtf › plan.txt": Level.SECRET}

