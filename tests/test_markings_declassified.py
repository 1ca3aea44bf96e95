"""A declassified document is not a current marking (#12, "declassified documents").

Its old banner, struck through or standing beside a 已解密 / 本件已解密 / 解密 stamp or a
DECLASSIFIED stamp with a past date, is reported as a finding with rule `declassified`
and no level (JSON: `"level": "declassified"`), and the default policy delivers it.
Each case is a real message through the relay's inspection or the `scan` command.
"""

from __future__ import annotations

import json

import docgen
import pytest

from dlp_gateway.cli import main
from dlp_gateway.config import load_settings
from dlp_gateway.model import InspectionReport, Level
from dlp_gateway.pipeline import WorkerContext, inspect_message

MEMO = "Subject: talks with the host government\n\nThe delegation met the deputy minister today.\n"
LETTER = "主旨：有關雙邊經貿諮商會議籌備事宜，請查照。\n說明：請依規定辦理。\n"
STRUCK_SECRET = "".join(ch + "\u0336" for ch in "SECRET")


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> WorkerContext:
    settings = load_settings(None, {"data_dir": str(tmp_path_factory.mktemp("data"))})
    return WorkerContext.from_settings(settings)


def inspect(ctx: WorkerContext, body: str, attachments=None) -> InspectionReport:
    return inspect_message(docgen.make_message("papers from the archive", body, attachments), ctx)


def declassified(report: InspectionReport) -> list[dict]:
    return [f.summary() for f in report.findings if f.rule == "declassified"]


def test_a_struck_through_us_banner_is_a_declassified_finding_without_a_level(ctx):
    report = inspect(ctx, f"{STRUCK_SECRET}//NOFORN\n{MEMO}{STRUCK_SECRET}//NOFORN\n")
    assert report.level is None
    found = declassified(report)
    assert found and all(f["level"] == "declassified" and f["system"] == "US" for f in found)
    assert "former_level:secret" in found[0]["tags"]


def test_a_struck_through_roc_banner_is_a_declassified_finding_without_a_level(ctx):
    banner = "極\u0336機\u0336密\u0336"
    report = inspect(ctx, f"{banner}\n{LETTER}{banner}\n")
    assert report.level is None
    assert [f["system"] for f in declassified(report)] == ["ROC"]


@pytest.mark.parametrize("stamp", ["已解密", "本件已解密", "【本件業已於114年1月5日解密】", "機密（已解密）"])
def test_a_roc_banner_beside_an_already_declassified_stamp_has_no_level(ctx, stamp):
    report = inspect(ctx, f"機密\n{stamp}\n{LETTER}")
    assert report.level is None
    assert declassified(report)[0]["evidence"].endswith(f"[declassified: {stamp}]")


def test_a_bare_decryption_stamp_line_declassifies_but_a_future_condition_on_the_banner_does_not(ctx):
    stamped = inspect(ctx, f"機密\n{LETTER}【解密】\n")
    assert stamped.level is None and declassified(stamped)
    assert inspect(ctx, f"機密（本件至125年3月2日解密）\n{LETTER}").level == Level.CONFIDENTIAL


def test_an_already_declassified_note_in_the_middle_of_a_marked_document_declassifies_nothing(ctx):
    register = "".join(f"文件{n}\t普通\n" for n in range(8))
    top = inspect(ctx, f"機密\n本件已解密\n{LETTER}{register}")
    assert top.level is None and declassified(top)
    middle = inspect(ctx, f"機密\n{LETTER}{register}已解密\n{register}{LETTER}")
    assert middle.level == Level.CONFIDENTIAL


@pytest.mark.parametrize("stamp", [
    "DECLASSIFIED ON 2020-01-05",
    "Declassified on: January 5, 2015",
    "DECLASSIFIED\nAuthority NND 785010\nBy NARA Date 5/1/2001",
])
def test_a_us_banner_with_a_declassified_stamp_of_a_past_date_has_no_level(ctx, stamp):
    report = inspect(ctx, f"SECRET//NOFORN\n{stamp}\n{MEMO}SECRET//NOFORN\n")
    assert report.level is None
    assert declassified(report)


@pytest.mark.parametrize("stamp", ["DECLASSIFIED ON 2099-12-31", "DECLASSIFIED"])
def test_a_declassified_stamp_counts_only_with_a_date_in_the_past(ctx, stamp):
    past = inspect(ctx, f"SECRET//NOFORN\nDECLASSIFIED ON 2020-01-05\n{MEMO}SECRET//NOFORN\n")
    assert past.level is None and declassified(past)
    report = inspect(ctx, f"SECRET//NOFORN\n{stamp}\n{MEMO}SECRET//NOFORN\n")
    assert report.level == Level.SECRET
    assert not declassified(report)


def test_a_stamp_declassifies_its_own_document_only(ctx):
    old = f"SECRET//NOFORN\nDECLASSIFIED ON 2020-01-05\n{MEMO}SECRET//NOFORN\n".encode()
    current = f"SECRET//NOFORN\n{MEMO}SECRET//NOFORN\n".encode()
    report = inspect(ctx, "Two memos attached.\n", [("old.txt", old, "text/plain"), ("new.txt", current, "text/plain")])
    assert report.level == Level.SECRET
    assert {f.location.split(" ›")[0] for f in report.findings if f.rule == "declassified"} == {"old.txt"}
    assert {f.location.split(" ›")[0] for f in report.findings if f.level == Level.SECRET} == {"new.txt"}


def test_scan_delivers_a_declassified_document_and_says_declassified_in_json(tmp_path, capsys):
    eml = tmp_path / "old.eml"
    eml.write_bytes(docgen.make_message("archive", f"{STRUCK_SECRET}//NOFORN\n{MEMO}{STRUCK_SECRET}//NOFORN\n"))
    code = main(["scan", "--json", "--data-dir", str(tmp_path / "data"), str(eml)])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (result["action"], result["level"]) == ("deliver", None)
    assert [f["level"] for f in result["findings"] if f["rule"] == "declassified"] == ["declassified"]
