"""``check-findings`` fails on a folder that cannot be a synth output, instead of passing a CI gate in silence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tgi_sagemaker.cli.command_line import main


def test_a_missing_folder_is_an_error_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "does-not-exist"
    assert main(["check-findings", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"check-findings: {missing} does not exist: is it a synth output folder? Fix:" in err


def test_a_folder_without_the_report_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-findings", str(tmp_path)]) == 2
    assert f"{tmp_path} has no validation-report.json" in capsys.readouterr().err
    (tmp_path / "afile").write_text("")
    assert main(["check-findings", str(tmp_path / "afile")]) == 2
    assert "afile is not a folder" in capsys.readouterr().err


def test_a_clean_report_passes_and_findings_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "validation-report.json"
    report.write_text(json.dumps({"pluginReports": [{"pluginName": "cdk-nag", "violations": []}]}))
    assert main(["check-findings", str(tmp_path)]) == 0
    violation = {"ruleName": "AwsSolutions-IAM5", "severity": "error", "violatingConstructs": [{"constructPath": "x"}]}
    report.write_text(json.dumps({"pluginReports": [{"pluginName": "cdk-nag", "violations": [violation]}]}))
    assert main(["check-findings", str(tmp_path)]) == 1
    assert "cdk-nag: AwsSolutions-IAM5 (error) at x" in capsys.readouterr().err
