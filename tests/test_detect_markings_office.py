"""Office labels, classification headers and the e-document 密等 (office.py, edoc.py)."""

from __future__ import annotations

from dlp_gateway.detect.markings.edoc import edoc_finding
from dlp_gateway.detect.markings.office import DEFAULT_LABEL_LEVELS, LabelFindings, classify_value
from dlp_gateway.model import Fact, Inspection, Level


def test_a_header_value_is_read_with_the_banner_grammar():
    assert classify_value("SECRET//NOFORN", DEFAULT_LABEL_LEVELS) == (Level.SECRET, "HEADER")
    assert classify_value("極機密", DEFAULT_LABEL_LEVELS) == (Level.SECRET, "HEADER")


def test_an_msip_label_list_gives_its_highest_label():
    value = "MSIP_Label_1_Name=General;MSIP_Label_2_Name=Highly Confidential"
    assert classify_value(value, DEFAULT_LABEL_LEVELS) == (Level.CONFIDENTIAL, "OFFICE")


def test_a_site_label_map_overrides_the_built_in_one():
    inspection = Inspection(facts=[Fact("office.sensitivity_label", "General", "report.docx", "report.docx")])
    assert LabelFindings({"general": "restricted"}).detect(inspection)[0].level == Level.RESTRICTED
    assert LabelFindings().detect(inspection) == []


def test_a_classification_header_is_found_once_from_fact_and_header():
    inspection = Inspection(facts=[Fact("mail.header.x-classification", "SECRET", "headers", "headers")],
                            headers={"x-classification": ["SECRET"]})
    found = LabelFindings().detect(inspection)
    assert [(f.rule, f.level, f.system) for f in found] == [("classification_header", Level.SECRET, "HEADER")]


def test_outlooks_own_sensitivity_flag_is_not_a_classification():
    inspection = Inspection(facts=[Fact("mail.header.sensitivity", "Company-Confidential", "headers", "headers")])
    assert LabelFindings().detect(inspection) == []


def test_the_edoc_secrecy_code_is_an_edoc_finding_and_an_empty_one_is_none():
    found = edoc_finding(Fact("edoc.secrecy", "機密", "letter.di", "letter.di"))
    assert found is not None and (found.rule, found.level, found.system) == ("edoc_secrecy", Level.CONFIDENTIAL, "EDOC")
    assert edoc_finding(Fact("edoc.secrecy", "普通", "letter.di", "letter.di")) is None
