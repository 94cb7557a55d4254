"""``--instance`` and ``--price`` checked before the run: a typo gets the closest listed names instead of a run
that ends asking to price the typo; prices are finite, one a type; a ``--price`` nothing uses is said."""

from __future__ import annotations

from pathlib import Path

import pytest
from tgi_emulator import Behaviour, TgiEmulator

from tgi_sagemaker.cli.command_line import main

PROJECT = Path(__file__).parents[2]


def _bench(tgi: TgiEmulator, tmp_path: Path, *options: str) -> list[str]:
    return ["bench", "--url", f"a={tgi.url}", "--requests", "2", "--out", str(tmp_path / "run"), *options]


def test_an_instance_typo_is_refused_before_any_request_with_did_you_mean(
    tgi: TgiEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tgi.behaviour = Behaviour(ttft_s=0.0, itl_s=0.0, output_tokens=4)
    assert main(_bench(tgi, tmp_path, "--instance", "a=ml.g5.2xlarg")) == 2
    err = capsys.readouterr().err
    assert "--instance 'a=ml.g5.2xlarg': 'ml.g5.2xlarg' is not a SageMaker hosting instance type" in err
    assert "did you mean 'ml.g5.2xlarge'" in err and "?. " not in err
    assert tgi.behaviour.requests == [] and not (tmp_path / "run").exists()


def test_an_unlisted_well_formed_instance_runs_with_a_note_and_its_price(
    tgi: TgiEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tgi.behaviour = Behaviour(ttft_s=0.0, itl_s=0.0, output_tokens=4)
    assert main(_bench(tgi, tmp_path, "--instance", "a=ml.g7e.xlarge")) == 0
    err = capsys.readouterr().err
    assert "note: --instance ml.g7e.xlarge is not in this library's catalog" in err
    assert "its cost needs --price ml.g7e.xlarge=USD_PER_HOUR" in err
    assert main(_bench(tgi, tmp_path, "--instance", "a=ml.g7e.xlarge", "--price", "ml.g7e.xlarge=3")) == 0
    err = capsys.readouterr().err
    assert "not in this library's catalog" not in err and "cost: ml.g7e.xlarge $3/h" in err


@pytest.mark.parametrize("price", ["inf", "nan", "-inf", "0", "-2"])
def test_a_price_must_be_positive_and_finite(price: str, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(PROJECT / "config" / "prod.yaml")
    assert main(["plan", "--config", config, "--price", f"ml.g6e.xlarge={price}"]) == 2
    assert f"--price 'ml.g6e.xlarge={price}': needs a positive, finite hourly price in USD" in capsys.readouterr().err


def test_one_instance_type_priced_twice_differently_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    config = str(PROJECT / "config" / "prod.yaml")
    twice = ["--price", "ml.g6e.xlarge=1", "--price", "ml.g6e.xlarge=3"]
    assert main(["plan", "--config", config, *twice]) == 2
    assert "--price 'ml.g6e.xlarge=3': ml.g6e.xlarge is already priced 1 by an earlier --price" in (
        capsys.readouterr().err
    )
    assert main(["plan", "--config", config, "--price", "ml.g6e.xlarge=2", "--price", "ml.g6e.xlarge=2"]) == 0


def test_a_price_nothing_uses_is_said(tgi: TgiEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(PROJECT / "config" / "prod.yaml")
    assert main(["plan", "--config", config, "--price", "ml.g6e.xlarge=2", "--price", "ml.g6e.2xlarge=3"]) == 0
    captured = capsys.readouterr()
    assert "ml.g6e.xlarge $2/h" in captured.out
    assert "note: --price ml.g6e.2xlarge prices nothing: no deployment runs on it (did you mean ml.g6e.xlarge?)" in (
        captured.err
    )
    tgi.behaviour = Behaviour(ttft_s=0.0, itl_s=0.0, output_tokens=4)
    priced = ["--instance", "a=ml.g5.xlarge", "--price", "ml.g5.xlarge=1", "--price", "ml.g5.2xlarge=2"]
    assert main(_bench(tgi, tmp_path, *priced)) == 0
    assert "note: --price ml.g5.2xlarge prices nothing: no target runs on it (did you mean ml.g5.xlarge?)" in (
        capsys.readouterr().err
    )
    assert main(_bench(tgi, tmp_path, "--price", "ml.g5.xlarge=1")) == 0
    assert "note: --price ml.g5.xlarge prices nothing: no target has an instance type" in capsys.readouterr().err
