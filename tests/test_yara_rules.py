"""YARA rules: compiled from a directory, errors named by file and line, reload keeps the
rules in force, rules run on part bytes, extracted text and headers, metadata sets level."""

from __future__ import annotations

import shutil
from pathlib import Path

import docgen
import pytest

from dlp_gateway.config import SHIPPED_YARA_RULES, load_settings
from dlp_gateway.detect import build_detectors, reload_detectors
from dlp_gateway.detect.yara_rules import YaraDetector, YaraRules, YaraRulesError
from dlp_gateway.model import Inspection, Level, Part, Segment
from dlp_gateway.pipeline import WorkerContext, inspect_message

RULE = """rule {name}
{{
    meta:
        description = "{description}"
        level = "{level}"
    strings:
        $a = "{needle}"
    condition:
        $a
}}
"""


def write_rule(directory: Path, file: str, name: str = "codename", needle: str = "華蓮專案",
               level: str = "restricted", description: str = "project codename") -> Path:
    path = directory / file
    path.write_text(RULE.format(name=name, needle=needle, level=level, description=description), encoding="utf-8")
    return path


def part(data: bytes, location: str = "a.txt") -> Part:
    return Part(location, location, "text/plain", "text/plain", len(data), "0" * 64, 1, data=data)


def test_every_shipped_rule_file_compiles():
    rules = YaraRules.load(SHIPPED_YARA_RULES)
    assert rules.compiled is not None
    assert {p.name for p in rules.files} >= {"official_documents.yar", "prc_markings.yar", "office_labels.yar"}


def test_the_administrator_example_compiles_once_renamed(tmp_path):
    shutil.copy(SHIPPED_YARA_RULES / "example.yar.sample", tmp_path / "local.yar")
    detector = YaraDetector(YaraRules.load(tmp_path))
    found = detector.detect(Inspection(parts=[part("華蓮專案".encode("big5"))]))
    assert [(f.rule, f.level) for f in found] == [("local.project_hualien", Level.RESTRICTED)]


def test_a_syntax_error_names_file_and_line(tmp_path):
    bad = tmp_path / "broken.yar"
    bad.write_text('rule ok { condition: true }\n\nrule broken {\n  strings: $a = "x"\n  condition: $a and and\n}\n')
    with pytest.raises(YaraRulesError) as err:
        YaraRules.load(tmp_path)
    assert f"{bad}:5: YARA syntax error" in str(err.value)


def test_a_bad_level_in_metadata_names_file_and_line(tmp_path):
    path = tmp_path / "levels.yar"
    path.write_text("// header\n" + RULE.format(name="x", needle="abc", level="ultra", description="d"))
    with pytest.raises(YaraRulesError, match=rf"{path}:2: rule x: meta level"):
        YaraRules.load(tmp_path)


def test_a_missing_directory_says_what_to_do(tmp_path):
    with pytest.raises(YaraRulesError, match="does not exist"):
        YaraRules.load(tmp_path / "nope")


def test_reload_with_a_broken_file_keeps_the_rules_in_force(tmp_path):
    write_rule(tmp_path, "a.yar", needle="alpha")
    detector = YaraDetector(YaraRules.load(tmp_path))
    (tmp_path / "b.yar").write_text("rule b { condition: $nothing }")
    error = detector.reload()
    assert error and "b.yar:1:" in error
    assert [f.rule for f in detector.detect(Inspection(parts=[part(b"alpha")]))] == ["a.codename"]


def test_reload_picks_up_new_rules(tmp_path):
    write_rule(tmp_path, "a.yar", needle="alpha")
    detector = YaraDetector(YaraRules.load(tmp_path))
    write_rule(tmp_path, "b.yar", name="beta_rule", needle="beta", level="secret")
    assert reload_detectors([detector]) == []
    found = detector.detect(Inspection(parts=[part(b"alpha beta")]))
    assert sorted((f.rule, f.level) for f in found) == [("a.codename", Level.RESTRICTED), ("b.beta_rule", Level.SECRET)]


def test_build_detectors_refuses_a_rule_directory_that_does_not_compile(tmp_path):
    (tmp_path / "bad.yar").write_text("rule {")
    settings = load_settings(None, {"data_dir": str(tmp_path / "data"), "detect.yara_dir": str(tmp_path)})
    with pytest.raises(YaraRulesError, match="bad.yar:1"):
        build_detectors(settings)


def test_rules_run_on_extracted_text_of_compressed_formats(tmp_path):
    write_rule(tmp_path, "codes.yar", needle="華蓮專案")
    ctx = WorkerContext.from_settings(load_settings(None, {"data_dir": str(tmp_path / "d"), "detect.yara_dir": str(tmp_path)}))
    pdf = docgen.make_pdf(["會議討論華蓮專案進度"])
    report = inspect_message(docgen.make_message("會議", "附件", [("m.pdf", pdf, "application/pdf")]), ctx)
    hits = [f for f in report.findings if f.detector == "yara"]
    assert [(f.rule, f.location, f.level) for f in hits] == [("codes.codename", "m.pdf", Level.RESTRICTED)]


def test_rules_run_on_raw_bytes_in_legacy_encodings():
    detector = YaraDetector(YaraRules.load(SHIPPED_YARA_RULES))
    data = "外交部函\n發文字號：外政字第1150012345號\n電報專號：USA1526\n".encode("big5")
    found = {f.rule: f for f in detector.detect(Inspection(parts=[part(data)]))}
    assert {"official_documents.roc_document_number", "official_documents.roc_telegram_serial"} <= set(found)
    number = found["official_documents.roc_document_number"]
    assert number.level is None and "official_document" in number.tags and "字第1150012345號" in number.evidence


def test_prc_star_rules_set_the_prc_ladder():
    detector = YaraDetector(YaraRules.load(SHIPPED_YARA_RULES))
    text = "秘密★1年\n关于做好工作的通知\n"
    found = detector.detect(Inspection(segments=[Segment(text, "n.txt", "n.txt", "body")],
                                       parts=[part(text.encode("gb18030"), "n.txt")]))
    assert [(f.rule, f.level, f.system) for f in found] == [("prc_markings.prc_confidential_star", Level.CONFIDENTIAL, "PRC")]


def test_a_prc_mark_quoted_in_prose_does_not_match():
    detector = YaraDetector(YaraRules.load(SHIPPED_YARA_RULES))
    text = "国家秘密的标志为“秘密★”、“机密★”、“绝密★”，并标注保密期限。"
    assert detector.detect(Inspection(segments=[Segment(text, "n", "n", "body")])) == []


def test_office_label_rules_read_the_msip_header():
    detector = YaraDetector(YaraRules.load(SHIPPED_YARA_RULES))
    label = "MSIP_Label_3de9faa6-9fe1-49b3-9a08-227a296b54a6"
    found = detector.detect(Inspection(headers={"msip_labels": [f"{label}_Enabled=True; {label}_Name=Secret;"]}))
    levels = {f.rule: f.level for f in found}
    assert levels == {"office_labels.office_label_present": None, "office_labels.office_label_secret": Level.SECRET}


def test_edocument_secrecy_code_matches_in_raw_xml():
    detector = YaraDetector(YaraRules.load(SHIPPED_YARA_RULES))
    classified = docgen.make_edoc_xml("極機密", "主旨", "big5")
    plain = docgen.make_edoc_xml(None, "主旨")
    assert [f.level for f in detector.detect(Inspection(parts=[part(classified)])) if f.level] == [Level.SECRET]
    assert [f.level for f in detector.detect(Inspection(parts=[part(plain)])) if f.level] == []


def test_a_rule_hit_on_bytes_and_text_of_one_part_is_one_finding(tmp_path):
    write_rule(tmp_path, "a.yar", needle="alpha")
    detector = YaraDetector(YaraRules.load(tmp_path))
    inspection = Inspection(segments=[Segment("alpha", "a.txt", "a.txt", "body")], parts=[part(b"alpha")])
    assert len(detector.detect(inspection)) == 1


def test_oversized_parts_are_scanned_in_part_and_recorded(tmp_path):
    write_rule(tmp_path, "a.yar", needle="alpha")
    detector = YaraDetector(YaraRules.load(tmp_path), max_bytes=1024)
    inspection = Inspection(parts=[part(b"alpha" + b"x" * 5000)])
    assert len(detector.detect(inspection)) == 1
    assert [p.limit for p in inspection.problems] == ["yara_max_bytes"]


def test_build_detectors_composes_markings_yara_and_fingerprints(tmp_path):
    settings = load_settings(None, {"data_dir": str(tmp_path)})
    assert [d.name for d in build_detectors(settings)] == ["markings", "yara", "fingerprint"]
    off = load_settings(None, {"data_dir": str(tmp_path), "detect.yara": False, "detect.fingerprints": False})
    assert [d.name for d in build_detectors(off)] == ["markings"]
