"""`dlp-gateway config` lists every setting with the value in force."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dlp_gateway.cli import main


def test_config_shows_every_limit_with_its_meaning(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["config", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    values = yaml.safe_load(out)
    assert values["smtp"]["max_unfinished_data_bytes"] > 0
    assert values["limits"]["max_decompressed_bytes"] > 0
    assert values["workers"]["max_memory_mb"] >= 0
    assert "# Bytes extracted per message" in out  # each key's meaning is shown above it


def test_config_shows_the_value_from_the_file_over_the_default(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text("limits:\n  max_members: 77\nsmtp:\n  session_timeout: 600\n")
    assert main(["config", "--config", str(config), "--data-dir", str(tmp_path)]) == 0
    values = yaml.safe_load(capsys.readouterr().out)
    assert values["limits"]["max_members"] == 77
    assert values["smtp"]["session_timeout"] == 600


def test_config_defaults_matches_the_shipped_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--defaults"]) == 0
    example = (Path(__file__).resolve().parent.parent / "config.example.yaml").read_text()
    assert capsys.readouterr().out in example
