"""Office and OpenDocument residuals of the red-team round (issue #12: B28, B16, B9, B25, B13).

Each document is built in code and sent as an attachment through the real inspection; the
banner SECRET//NOFORN is what Word, Excel or LibreOffice shows, and it must be found.
"""

from __future__ import annotations

import io
import zipfile

import docgen
import mimegen

US = mimegen.US
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attached(name: str, data: bytes, mimetype: str):  # noqa: ANN201 (InspectionReport)
    raw = docgen.make_message("notes", "Please see the attachment.", [(name, data, mimetype)])
    return mimegen.inspect(raw)


def levels(name: str, data: bytes, mimetype: str) -> set[str]:
    return set(mimegen.levels(attached(name, data, mimetype)).values())


def rewrite(ooxml: bytes, part: str, change) -> bytes:  # noqa: ANN001
    """The package with one XML part changed by `change(text) -> text`."""
    source = zipfile.ZipFile(io.BytesIO(ooxml))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == part:
                data = change(data.decode("utf-8")).encode("utf-8")
            target.writestr(info, data)
    return out.getvalue()


# ---------------------------------------------------------------- B28: a ZIP appended

def test_ordinary_docx_with_appended_zip_has_no_finding_and_no_problem() -> None:
    report = attached("a.docx", docgen.make_docx(["ordinary"]) + docgen.make_zip({"a.txt": b"hello"}), DOCX)
    assert not mimegen.levels(report)
    assert mimegen.decision(report)[0] == "deliver"


def test_docx_with_appended_zip_is_read() -> None:
    data = docgen.make_docx(["ordinary", US]) + docgen.make_zip({"a.txt": b"hello"})
    assert levels("a.docx", data, DOCX) == {"secret"}


def test_zip_appended_to_docx_is_read() -> None:
    data = docgen.make_docx(["ordinary"]) + docgen.make_zip({"s.txt": (US + "\n").encode()})
    assert levels("a.docx", data, DOCX) == {"secret"}


def test_xlsx_with_appended_zip_is_read() -> None:
    data = docgen.make_xlsx({"S": [["ordinary"], [US]]}) + docgen.make_zip({"s.txt": b"hello"})
    assert levels("a.xlsx", data, XLSX) == {"secret"}


def test_benign_docx_appended_to_marked_docx_does_not_hide_it() -> None:
    data = docgen.make_docx(["ordinary", US]) + docgen.make_docx(["nothing to see"])
    assert levels("a.docx", data, DOCX) == {"secret"}


def test_odt_with_appended_zip_is_read() -> None:
    data = docgen.make_odt(["ordinary", US]) + docgen.make_zip({"a.txt": b"hello"})
    assert levels("a.odt", data, "application/vnd.oasis.opendocument.text") == {"secret"}
