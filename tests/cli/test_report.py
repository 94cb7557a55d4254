"""``report``: bench folders side by side, the cheapest target meeting the SLOs at each load, plots with units."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from tgi_emulator import TgiEmulator

from tgi_sagemaker.cli.command_line import main


def _level(target: str, load: str, ttft_p90: float, usd_per_million: float | None, errors: float = 0) -> dict[str, Any]:
    return {
        "target": target,
        "concurrency": int(load[2:]) if load.startswith("c=") else 0,
        "load": load,
        "output_tokens_per_s": 100.0,
        "error_rate": errors,
        "metrics": {"ttft_s": {"p90": ttft_p90}, "e2e_latency_s": {"p90": ttft_p90 + 2}},
        "cost": None if usd_per_million is None else {"usd_per_million_output_tokens": usd_per_million},
    }


def _folder(tmp_path: Path, name: str, levels: list[dict[str, Any]], seed: int = 0) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    summary = {"command": f"tgi-sagemaker bench --seed {seed}", "workload": {"seed": seed}, "levels": levels}
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def test_the_cheapest_target_that_meets_the_slos_at_each_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    g5 = _folder(tmp_path, "g5", [_level("g5", "c=1", 0.3, 4.0), _level("g5", "c=8", 0.9, 1.0)])
    g6e = _folder(tmp_path, "g6e", [_level("g6e", "c=1", 0.2, 6.0), _level("g6e", "c=8", 0.4, 2.0)])
    flaky = _folder(tmp_path, "p5", [_level("p5", "c=8", 0.1, 0.5, errors=0.1), _level("p5", "c=1", 0.1, None)])
    out = tmp_path / "report"
    assert main(["report", str(g5), str(g6e), str(flaky), "--slo", "ttft=0.5", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "at c=1: cheapest meeting the SLOs is g5, $4.00 per 1M output tokens" in printed  # p5 met, no cost
    assert "at c=8: cheapest meeting the SLOs is g6e, $2.00 per 1M output tokens" in printed  # g5 slow, p5 errors
    assert "at c=16: no target met the SLOs" not in printed  # no such load
    assert "missed: p90 ttft 0.9 s > 0.5 s" in printed and "missed: error rate 10% > 0%" in printed
    with (out / "comparison.csv").open() as handle:
        rows = {(row["target"], row["load"]): row for row in csv.DictReader(handle)}
    assert (rows[("g6e", "c=8")]["meets_slos"], rows[("g5", "c=8")]["meets_slos"]) == ("True", "False")
    for png in ("throughput_vs_latency.png", "cost_vs_ttft.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lenient = ["report", str(g6e), str(flaky), "--slo", "ttft=0.5", "--max-error-rate", "0.2", "--out", str(out)]
    assert main(lenient) == 0
    assert "at c=8: cheapest meeting the SLOs is p5, $0.50 per 1M output tokens" in capsys.readouterr().out


def test_a_percentile_the_bench_did_not_record_and_folders_that_are_not_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    g5 = _folder(tmp_path, "g5", [_level("g5", "c=1", 0.3, 4.0)])
    assert main(["report", str(g5), "--slo", "ttft=1", "--slo-percentile", "99", "--out", str(tmp_path / "r")]) == 0
    printed = capsys.readouterr().out
    assert "not judged: no p99 ttft recorded" in printed
    assert "at c=1: g5 could not be judged (no p99)" in printed
    assert "these folders record p90, not p99. Fix: report --slo-percentile 90" in printed
    assert main(["report", str(g5), "--slo", "ttft=1", "--out", str(tmp_path / "r")]) == 0
    unpriced = _folder(tmp_path, "p5", [_level("p5", "c=1", 0.1, None)])
    assert main(["report", str(unpriced), "--slo", "ttft=1", "--out", str(tmp_path / "r")]) == 0
    assert "at c=1: p5 met the SLOs, without a cost figure" in capsys.readouterr().out
    assert main(["report", str(g5), str(tmp_path / "nothing"), "--out", str(tmp_path / "r")]) == 2
    assert "nothing: no summary.json. Fix: pass folders that bench --out wrote" in capsys.readouterr().err


def test_targets_named_alike_in_two_folders_are_told_apart_and_different_commands_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monday = _folder(tmp_path, "monday", [_level("ep", "c=1", 0.3, 4.0)], seed=1)
    tuesday = _folder(tmp_path, "tuesday", [_level("ep", "c=1", 0.2, 3.0)], seed=2)
    assert main(["report", str(monday), str(tuesday), "--slo", "e2e=5", "--out", str(tmp_path / "r")]) == 0
    printed = capsys.readouterr().out
    assert "cheapest meeting the SLOs is tuesday/ep" in printed and "monday/ep" in printed
    assert "the folders ran different workloads (compare like with like):" in printed
    assert "tgi-sagemaker bench --seed 1" in printed


def test_a_mixed_levels_combined_figures_are_the_endpoints_not_a_target_to_choose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # bench --mixed at c=1: two models at once, and their combined level at c=2 (a cost per token lower than
    # either model's: both share it); a single-model g5 folder measured at c=2 is the only candidate there
    both = {**_level("mixed: small + large", "c=2", 0.2, 1.0), "combined": True}
    mixed = _folder(tmp_path, "mixed", [_level("small", "c=1", 0.2, 4.0), _level("large", "c=1", 0.3, 6.0), both])
    g5 = _folder(tmp_path, "g5", [_level("g5", "c=2", 0.3, 3.0)])
    out = tmp_path / "report"
    assert main(["report", str(mixed), str(g5), "--slo", "ttft=0.5", "--out", str(out)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "at c=2: cheapest meeting the SLOs is g5, $3.00 per 1M output tokens" in printed
    assert "at c=1: cheapest meeting the SLOs is small, $4.00" in printed
    assert "mixed: small + large at c=2 (all at once, one endpoint): met the SLOs, $1.00 per 1M output tokens" in (
        printed
    )
    unpriced = _folder(tmp_path, "p5", [_level("p5", "c=2", 0.1, None)])
    assert main(["report", str(mixed), str(unpriced), "--slo", "ttft=0.5", "--out", str(out)]) == 0
    assert "at c=2: p5 met the SLOs, without a cost figure" in capsys.readouterr().out  # not "mixed: ..., p5"


def test_report_on_real_bench_runs_of_two_emulated_instances(tmp_path: Path) -> None:
    """Two targets that differ as two instance types would: the faster one dearer by the hour."""
    fast, slow = TgiEmulator(), TgiEmulator()
    fast.behaviour.ttft_s, fast.behaviour.itl_s, fast.behaviour.output_tokens = 0.05, 0.005, 10
    slow.behaviour.ttft_s, slow.behaviour.itl_s, slow.behaviour.output_tokens = 0.6, 0.02, 10
    try:
        for label, emulator, usd in (("fast", fast, "ml.g6e.xlarge=4"), ("slow", slow, "ml.g5.xlarge=1")):
            instance = f"{label}=ml.{usd.split('.')[1]}.xlarge"
            args = ["bench", "--url", f"{label}={emulator.url}", "--concurrency", "1,2", "--requests", "3"]
            args += ["--warmup", "0", "--input-tokens", "8", "--instance", instance, "--price", usd]
            assert main([*args, "--out", str(tmp_path / label)]) == 0
    finally:
        fast.close()
        slow.close()
    out = tmp_path / "report"
    args = ["report", str(tmp_path / "fast"), str(tmp_path / "slow"), "--slo", "ttft=0.4", "--out", str(out)]
    assert main(args) == 0
    text = (out / "report.txt").read_text()
    assert "different workloads" not in text  # the same workload on both: only targets, instances, prices differ
    assert "price of fast: $4/h (--price on the command line)" in text
    assert "at c=1: cheapest meeting the SLOs is fast" in text and "at c=2: cheapest meeting the SLOs is fast" in text
