"""``plan --region``: prices a region-agnostic config (README), is refused for a config pinned elsewhere instead of
being ignored, and a region name that is not one gets the closest names."""

from __future__ import annotations

from pathlib import Path

import pytest

from tgi_sagemaker.cli.command_line import main

PROJECT = Path(__file__).parents[2]
PRICED = ["--price", "ml.g6e.xlarge=2", "--price", "ml.g5.2xlarge=1.5"]


def test_region_of_a_pinned_config_elsewhere_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    config = str(PROJECT / "config" / "prod.yaml")
    assert main(["plan", "--config", config, "--region", "eu-west-1", *PRICED]) == 2
    err = capsys.readouterr().err
    assert f"--region eu-west-1: {config} deploys to us-east-1 (environment.region) and is priced there" in err
    assert "Fix: drop --region" in err
    assert main(["plan", "--config", config, "--region", "us-east-1", *PRICED]) == 0  # the same region: fine


def test_region_prices_a_region_agnostic_config(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(PROJECT)  # cdk.json: the default, region-agnostic config
    assert main(["plan", "--region", "eu-west-1", *PRICED]) == 0
    assert "cost: on-demand, eu-west-1;" in capsys.readouterr().out


@pytest.mark.parametrize(("region", "meant"), [("us-east-9", "us-east-1"), ("US-EAST-1", "us-east-1")])
def test_a_region_that_is_not_one_gets_the_closest(region: str, meant: str, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(PROJECT / "config" / "prod.yaml")
    assert main(["plan", "--config", config, "--region", region, *PRICED]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"--region {region}: not a region SageMaker publishes the TGI image in; did you mean")
    assert meant in line and line.endswith("Fix: e.g. --region us-east-1")
