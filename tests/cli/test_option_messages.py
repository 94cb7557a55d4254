"""What a new user met in bench's option messages: the option as typed (``--concurrency 0,4``), not a field name
and a Python tuple; a level or percentile given twice refused before anything runs; an ``--instance`` without a
target told how targets are named; a missing cli extra said on stderr with a non-zero exit."""

from __future__ import annotations

import sys

import pytest

from tgi_sagemaker.cli.bench_workload import Workload
from tgi_sagemaker.cli.command_line import main
from tgi_sagemaker.cli.cost import shares_from_text

DEAD_URL = "http://127.0.0.1:9"  # nothing listens: every check here must refuse before a request is sent


def test_workload_problems_name_the_options_as_typed() -> None:
    with pytest.raises(ValueError) as refused:
        Workload(concurrency_levels=(0, 4), request_rates=(0.0, 2.0), max_concurrency=0, burstiness=0)
    assert str(refused.value).splitlines() == [
        "--concurrency 0,4: every level must be 1 or more. Fix: e.g. --concurrency 1,4,8",
        "--request-rate 0,2: every rate must be over 0 requests/s. Fix: e.g. --request-rate 0.5,1,2",
        "--max-concurrency 0: caps open-loop levels, so needs --request-rate and at least 1. "
        "Fix: e.g. --request-rate 2,4 --max-concurrency 16",
        "--burstiness 0: must be over 0 (1 is Poisson). Fix: e.g. --burstiness 1",
    ]


def test_bench_says_a_bad_level_as_the_option_it_came_from(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--url", DEAD_URL, "--concurrency", "0,4"]) == 2
    err = capsys.readouterr().err
    assert "--concurrency 0,4: every level must be 1 or more. Fix: e.g. --concurrency 1,4,8" in err
    assert "(0," not in err and "concurrency =" not in err  # no tuple repr, no field name


def test_levels_and_percentiles_given_twice_are_refused_all_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--concurrency", "1,4,1", "--request-rate", "2,2.0", "--percentiles", "90,50,90"]
    assert main(["bench", "--url", DEAD_URL, *args]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "--concurrency 1,4,1: 1 given more than once. Fix: --concurrency 1,4",
        "--request-rate 2,2: 2 given more than once. Fix: --request-rate 2",
        "--percentiles 90,50,90: 90 given more than once. Fix: --percentiles 90,50",
    ]


def test_an_instance_without_a_target_says_how_targets_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--url", DEAD_URL, "--instance", "ml.g5.2xlarge"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"--instance 'ml.g5.2xlarge': names no target (targets: {DEAD_URL}); ")
    assert "no target ''" not in line and "--url LABEL=URL" in line and "by the URL" in line
    suggested = line.rpartition("Fix: --instance ")[2]
    assert suggested == f"{DEAD_URL}=ml.g5.2xlarge"
    assert shares_from_text([suggested], [DEAD_URL])[DEAD_URL].instance_type == "ml.g5.2xlarge"  # the fix works


def test_an_instance_for_a_label_no_target_has_names_the_real_targets() -> None:
    with pytest.raises(ValueError) as refused:
        shares_from_text(["b=ml.g5.xlarge"], ["a", "c"])
    assert str(refused.value).startswith("--instance 'b=ml.g5.xlarge': no target 'b' (targets: a, c); ")
    assert str(refused.value).endswith("Fix: --instance a=ml.g5.xlarge")


@pytest.mark.parametrize(
    ("missing", "command"),
    [
        ("rich.console", ["bench", "--url", DEAD_URL]),
        ("rich.console", ["invoke", "--url", DEAD_URL, "hi"]),
        ("rich.table", ["catalog"]),
    ],
)
def test_a_missing_cli_extra_is_said_on_stderr_with_exit_2(
    missing: str, command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # what an install without the cli extra meets on import
    assert main(command) == 2
    captured = capsys.readouterr()
    assert "needs the cli extra" not in captured.out
    assert f"{command[0]} needs the cli extra" in captured.err
    assert "Fix: pip install 'tgi-sagemaker[cli]'" in captured.err


def test_a_missing_module_outside_the_extra_is_not_blamed_on_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tgi_sagemaker.cli.invoke", None)  # a broken install of the library itself
    with pytest.raises(ImportError):
        main(["invoke", "--url", DEAD_URL, "hi"])
