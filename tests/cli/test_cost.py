"""Cost figures against hand-computed values: a bench level per 1M output tokens and per 1K requests (an inference
component's share of its instance), and plan's hourly and monthly figures (always on vs scale to zero)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from tgi_emulator import TgiEmulator

from tgi_sagemaker import defaults
from tgi_sagemaker.cli.command_line import build_parser, main
from tgi_sagemaker.cli.cost import ServingShare, TrafficProfile, level_cost, monthly_cost, shares_from_text
from tgi_sagemaker.cli.plan_cost import describe_pipeline_costs
from tgi_sagemaker.cli.pricing import HourlyPrice, PriceBook, Snapshot
from tgi_sagemaker.config.pipeline import load_pipeline
from tgi_sagemaker.config.source import read_config_file

ROOT = Path(__file__).parents[2]
PRICE = HourlyPrice("ml.g6e.12xlarge", None, 3.6, "--price on the command line", "")


def test_a_level_costs_its_share_of_the_instance_over_its_rate() -> None:
    # 1 of the 4 GPUs of ml.g6e.12xlarge at $3.60/h: $0.90/h = $0.00025/s;
    # 100 output tokens/s -> $2.50 per 1M tokens; 0.5 requests/s -> $0.50 per 1K requests
    cost = level_cost(ServingShare("ml.g6e.12xlarge", 1), PRICE, output_tokens_per_s=100, requests_per_s=0.5)
    assert (cost.share, cost.usd_per_hour) == (0.25, pytest.approx(0.9))
    assert cost.usd_per_million_output_tokens == pytest.approx(2.5)
    assert cost.usd_per_thousand_requests == pytest.approx(0.5)
    whole = level_cost(ServingShare("ml.g6e.12xlarge"), PRICE, output_tokens_per_s=100, requests_per_s=0)
    assert whole.usd_per_million_output_tokens == pytest.approx(10.0)  # the whole instance: 4 x
    assert whole.usd_per_thousand_requests is None  # nothing served: no figure, not infinity
    assert cost.price == "$3.6/h (--price on the command line)"


def test_a_month_always_on_and_scaled_to_zero() -> None:
    # $2/h, 8 busy hours a day, 5 days a week (365 / 12 / 7 x 5 = 21.726 busy days a month), 1 instance,
    # 10 minutes to wake up and 25 idle minutes before zero
    month = monthly_cost(2.0, TrafficProfile())
    assert month.always_on_usd == pytest.approx(2.0 * 730)  # 1460
    assert month.scale_to_zero_usd == pytest.approx(2.0 * 21.726 * (8 + 35 / 60), rel=1e-4)  # 372.97
    assert month.wake_up_usd == pytest.approx(2.0 * 21.726 * 10 / 60, rel=1e-4)  # 7.24
    assert month.idle_tail_usd == pytest.approx(2.0 * 21.726 * 25 / 60, rel=1e-4)  # 18.11
    busy_all_day = monthly_cost(2.0, TrafficProfile(busy_hours_per_day=24, busy_days_per_week=7, busy_instances=3))
    assert busy_all_day.scale_to_zero_usd == pytest.approx(busy_all_day.always_on_usd, rel=1e-3)  # never idle
    with pytest.raises(ValueError) as refused:
        TrafficProfile(busy_hours_per_day=25, busy_instances=0)
    assert str(refused.value).splitlines() == [
        "--busy-hours-per-day = 25: must be 0 to 24. Fix: e.g. --busy-hours-per-day 8",
        "--busy-instances = 0: must be 1 to 10000. Fix: e.g. --busy-instances 1",
    ]


def test_plan_prints_hourly_and_monthly_cost_with_the_prices_source(capsys: pytest.CaptureFixture[str]) -> None:
    config = str(ROOT / "config" / "prod.yaml")  # ml.g6e.xlarge, scale to zero on 0-4 instances, us-east-1
    assert main(["plan", "--config", config, "--price", "ml.g6e.xlarge=2", "--busy-hours-per-day", "12"]) == 0
    out = capsys.readouterr().out
    assert "cost: on-demand, us-east-1; a month is 12 busy hours a day, 5 days a week, on 1 instance(s)" in out
    assert "    price      ml.g6e.xlarge $2/h (--price on the command line)" in out
    assert "    hourly     $0.00/h at the minimum (0 instances), $8.00/h at the maximum (4 instances)" in out
    # always on 2 x 730 = 1460; scaled to zero 2 x 21.726 x (12 + 35/60) = 546.78, wake-ups 7.24, idle 18.11
    assert (
        "    a month    always on $1,460.00; scale to zero (configured) $546.78 "
        "(of which waking up $7.24, idle before zero $18.11)"
    ) in out
    assert main(["plan", "--config", config]) == 0  # no price anywhere: said, with the fix, nothing computed
    assert "no price for ml.g6e.xlarge in us-east-1" in capsys.readouterr().out
    assert main(["plan", "--config", config, "--price", "g6e=2"]) == 2
    assert "--price 'g6e=2': 'g6e' is not a SageMaker hosting instance type" in capsys.readouterr().err


def test_bench_prices_each_level_of_a_target_by_its_share(tgi: TgiEmulator, tmp_path: Path) -> None:
    tgi.behaviour.ttft_s, tgi.behaviour.itl_s, tgi.behaviour.output_tokens = 0.1, 0.01, 20
    share = ["--instance", "g6e=ml.g6e.12xlarge:1", "--price", "ml.g6e.12xlarge=3.6"]
    args = ["bench", "--url", f"g6e={tgi.url}", "--concurrency", "1,4", "--requests", "4", "--warmup", "0", *share]
    assert main([*args, "--input-tokens", "8", "--out", str(tmp_path)]) == 0
    levels = json.loads((tmp_path / "summary.json").read_text())["levels"]
    for level in levels:
        cost = level["cost"]
        usd_per_second = 3.6 / 4 / 3600
        assert cost["usd_per_million_output_tokens"] == pytest.approx(
            usd_per_second / level["output_tokens_per_s"] * 1e6
        )
        assert cost["usd_per_thousand_requests"] == pytest.approx(usd_per_second / level["requests_per_s"] * 1e3)
        assert cost["price"] == "$3.6/h (--price on the command line)"
    # four in flight serve about four times the tokens an hour: each token costs about a quarter
    ratio = levels[1]["cost"]["usd_per_million_output_tokens"] / levels[0]["cost"]["usd_per_million_output_tokens"]
    assert 0.2 < ratio < 0.5
    unpriced = [
        "bench",
        "--url",
        f"g6e={tgi.url}",
        "--requests",
        "1",
        "--warmup",
        "0",
        "--instance",
        "g6e=ml.g5.xlarge",
    ]
    assert main([*unpriced, "--region", "us-east-1", "--out", str(tmp_path / "unpriced")]) == 0
    (level,) = json.loads((tmp_path / "unpriced" / "summary.json").read_text())["levels"]
    assert level["cost"] is None and level["cost_missing"].startswith("no price for ml.g5.xlarge in us-east-1")


def test_instance_options_are_checked_against_targets_and_the_catalog() -> None:
    assert shares_from_text(["a=ml.g6e.12xlarge:2"], ["a"])["a"].share == 0.5
    with pytest.raises(ValueError) as refused:
        shares_from_text(["b=ml.g5.xlarge", "a=g5.xlarge", "a=ml.g6e.12xlarge:5", "a=ml.x9.large:1"], ["a"])
    problems = str(refused.value).splitlines()
    assert problems[0].startswith("--instance 'b=ml.g5.xlarge': no target 'b' (targets: a); a target is named by")
    assert problems[1].startswith(
        "--instance 'a=g5.xlarge': 'g5.xlarge' is not a SageMaker hosting instance type: use the form "
        "'ml.<family>.<size>'; did you mean 'ml.g5.xlarge'"
    )
    assert problems[2].startswith("--instance 'a=ml.g6e.12xlarge:5': GPUs of ml.g6e.12xlarge must be 1 to 4.")
    assert problems[3].startswith("--instance 'a=ml.x9.large:1': GPUs of ml.x9.large must be unknown here")


def test_plan_of_a_pipeline_prices_every_stage_in_its_region(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # the pipeline names its stages' configs from the project folder
    prices = ["--price", "ml.g5.2xlarge=1.5", "--price", "ml.g6e.xlarge=2"]
    assert main(["plan", "--pipeline", "config/pipeline.yaml", *prices]) == 0
    out = capsys.readouterr().out.splitlines()
    costs = out[
        out.index(
            "cost: on-demand, each stage in its region; a month is 8 busy hours a day, 5 days a week, on 1 instance(s)"
        ) :
    ]
    # dev: ml.g5.2xlarge, 0-2 instances: 1.5 x 730 = 1095 always on; 1.5 x 21.726 x (8 + 35/60) = 279.72 scaled
    # to zero, of which wake-ups 1.5 x 21.726 x 10/60 = 5.43 and the idle tail 1.5 x 21.726 x 25/60 = 13.58
    assert costs[1:5] == [
        "stage 1: dev in us-east-1",
        "  - TgiSageMaker-dev-r1-llama-8b",
        "      price      ml.g5.2xlarge $1.5/h (--price on the command line)",
        "      hourly     $0.00/h at the minimum (0 instances), $3.00/h at the maximum (2 instances)",
    ]
    assert costs[5] == (
        "      a month    always on $1,095.00; scale to zero (configured) $279.72 "
        "(of which waking up $5.43, idle before zero $13.58)"
    )
    assert costs[6:9] == [
        "stage 2: prod in us-east-1",
        "  - TgiSageMaker-prod-r1-llama-8b",
        "      price      ml.g6e.xlarge $2/h (--price on the command line)",
    ]
    assert main(["plan", "--pipeline", "config/pipeline.yaml", "--region", "eu-west-1"]) == 2
    assert "each stage is priced in its own region" in capsys.readouterr().err


def test_each_stage_is_priced_in_its_own_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    pipeline = load_pipeline(read_config_file(Path("config/pipeline.yaml")), "config/pipeline.yaml", ROOT)
    snapshot = Snapshot(taken="2026-11-02", source="a test", prices={"us-east-1": {"ml.g6e.xlarge": 2.0}})
    text = describe_pipeline_costs(pipeline, PriceBook(snapshot=snapshot), TrafficProfile())
    assert "      price      ml.g6e.xlarge $2/h (bundled snapshot of a test, 2026-11-02)" in text.splitlines()


COST_DEFAULTS = (
    "BUSY_HOURS_PER_DAY",
    "BUSY_DAYS_PER_WEEK",
    "BUSY_INSTANCES",
    "WAKE_UP_MINUTES",
    "IDLE_MINUTES_BEFORE_ZERO",
)


def test_the_profile_defaults_live_in_defaults_py_each_with_its_source() -> None:
    options = build_parser().parse_args(["plan"])
    profile = TrafficProfile()
    for name in COST_DEFAULTS:
        field = name.lower()
        assert getattr(options, field) == getattr(profile, field) == getattr(defaults, name), name
    # cost.py keeps conventions (hours in a month), no default of its own
    tree = ast.parse((ROOT / "constructs" / "tgi_sagemaker" / "cli" / "cost.py").read_text())
    own = [
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant | ast.BinOp)
        for target in node.targets
        if isinstance(target, ast.Name)
    ]
    assert own == ["HOURS_PER_MONTH", "WEEKS_PER_MONTH"]
    # each figure says where it comes from: FACTS.md or a stated assumption, in the comment on its line or above
    lines = (ROOT / "constructs" / "tgi_sagemaker" / "defaults.py").read_text().splitlines()
    for name in COST_DEFAULTS:
        (at,) = [number for number, line in enumerate(lines) if line.startswith(f"{name} = ")]
        start = at
        while lines[start - 1].startswith("#"):
            start -= 1
        said = lines[at].partition("#")[2] + " ".join(lines[start:at])
        assert "FACTS.md" in said or "assumption" in said, name


def test_plan_prices_a_shared_endpoint_once_with_each_models_share(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # config/shared.yaml: 0-2 x ml.g6e.12xlarge at $10/h; 1 GPU a copy; max copies 2, 3, 3 = 8 GPUs of 8
    assert main(["plan", "--config", str(ROOT / "config" / "shared.yaml"), "--price", "ml.g6e.12xlarge=10"]) == 0
    cost = capsys.readouterr().out.split("\ncost: ")[1].splitlines()
    assert [line for line in cost if line.startswith("- ")] == ["- TgiSageMaker-r1-distills: shared endpoint, 3 models"]
    assert "    hourly     $0.00/h at the minimum (0 instances), $20.00/h at the maximum (2 instances)" in cost
    # at the maximum $20/h x 2/8 = $5, x 3/8 = $7.50; at the minimum nothing runs
    assert [line for line in cost if line.startswith("    share ")] == [
        "    share      r1-qwen-1-5b  $0.00/h (0 of 0 GPUs) at the minimum, $5.00/h (2 of 8 GPUs) at the maximum",
        "    share      r1-qwen-7b    $0.00/h (0 of 0 GPUs) at the minimum, $7.50/h (3 of 8 GPUs) at the maximum",
        "    share      r1-qwen-14b   $0.00/h (0 of 0 GPUs) at the minimum, $7.50/h (3 of 8 GPUs) at the maximum",
    ]
    # one instance kept, copies 1 and 2 at the minimum: $10/h x 1/3 = $3.33, x 2/3 = $6.67, one GPU idle;
    # at the maximum $30/h over 1 + 3 + 3 x 2 GPUs (the 14B on 2 GPUs a copy): $3, $9, $18 with 2 of 12 GPUs idle
    text = (ROOT / "config" / "shared.yaml").read_text()
    text = text.replace("min_instances: 0 ", "min_instances: 1 ").replace("max_instances: 2 ", "max_instances: 3 ")
    text = text.replace("max_copies: 2\n", "min_copies: 1\n      max_copies: 1\n", 1)
    text = text.replace("max_copies: 3\n", "min_copies: 2\n      max_copies: 3\n", 1)
    text = text.replace("    tgi:\n", "    num_gpus: 2\n    tgi:\n")
    config = tmp_path / "shared.yaml"
    config.write_text(text)
    assert main(["plan", "--config", str(config), "--price", "ml.g6e.12xlarge=10"]) == 0
    cost = capsys.readouterr().out.split("\ncost: ")[1].splitlines()
    assert [line for line in cost if line.startswith(("    share ", "    headroom "))] == [
        "    share      r1-qwen-1-5b  $3.33/h (1 of 3 GPUs) at the minimum, $3.00/h (1 of 10 GPUs) at the maximum",
        "    share      r1-qwen-7b    $6.67/h (2 of 3 GPUs) at the minimum, $9.00/h (3 of 10 GPUs) at the maximum",
        "    share      r1-qwen-14b   $0.00/h (0 of 3 GPUs) at the minimum, $18.00/h (6 of 10 GPUs) at the maximum",
        "    headroom   1 GPU(s) no copy holds at the minimum, billed and spread by the shares",
        "    headroom   2 GPU(s) no copy holds at the maximum, billed and spread by the shares",
    ]
