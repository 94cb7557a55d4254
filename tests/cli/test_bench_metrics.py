"""bench's serving metrics (TPOT, the pooled token gaps, token rates, spread, chosen percentiles, error rate,
goodput) measured against the emulator's known timings and checked against hand-computed figures."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from tgi_emulator import TgiEmulator

from tgi_sagemaker.cli.bench import LevelRun, RequestRecord
from tgi_sagemaker.cli.bench_metrics import Objectives, objectives_from_text, standard_deviation, summarize
from tgi_sagemaker.cli.command_line import main

TTFT, ITL, TOKENS = 0.3, 0.02, 20
E2E = TTFT + (TOKENS - 1) * ITL
LOAD_ALLOWANCE = 1.5  # what a busy machine may add above the server's timings (see test_bench.py)
WORKLOAD = ["--input-tokens", "48", "--output-tokens", "40", "--output-spread", "0", "--warmup", "1"]


def _within_the_floor(measured: float, expected: float) -> bool:
    return expected * 0.95 <= measured <= expected * LOAD_ALLOWANCE


def _bench(tgi: TgiEmulator, folder: Path, *extra: str) -> dict[str, Any]:
    tgi.behaviour.ttft_s, tgi.behaviour.itl_s, tgi.behaviour.output_tokens = TTFT, ITL, TOKENS
    args = ["bench", "--url", tgi.url, "--requests", "8", "--concurrency", "4", *WORKLOAD, *extra]
    assert main([*args, "--out", str(folder)]) == 0
    (level,) = json.loads((folder / "summary.json").read_text())["levels"]
    return dict(level)


def test_tpot_token_gaps_rates_and_chosen_percentiles_at_the_emulators_timings(
    tgi: TgiEmulator, tmp_path: Path
) -> None:
    level = _bench(tgi, tmp_path, "--percentiles", "50,90,95,99")
    metrics = level["metrics"]
    assert level["percentiles"] == [50, 90, 95, 99]
    for metric in ("tpot_s", "inter_token_gap_s", "itl_s"):
        assert set(metrics[metric]) == {"mean", "std", "min", "max", "p50", "p90", "p95", "p99"}
        for statistic in ("mean", "p50"):
            assert _within_the_floor(metrics[metric][statistic], ITL), (metric, statistic, metrics[metric])
    assert _within_the_floor(metrics["e2e_latency_s"]["p95"], E2E)
    requests = json.loads((tmp_path / "requests.json").read_text())
    assert all(len(request["inter_token_gaps_s"]) == TOKENS - 1 for request in requests)  # one gap between two
    with (tmp_path / "requests.csv").open() as handle:
        row = next(csv.DictReader(handle))
    assert "inter_token_gaps_s" not in row and float(row["tpot_s"]) > 0
    # token rates share one wall time: their ratios are the ratios of the counts
    assert level["output_tokens_per_s"] == pytest.approx(level["requests_per_s"] * TOKENS)
    assert level["input_tokens_per_s"] == pytest.approx(level["requests_per_s"] * level["mean_input_tokens"])
    assert level["total_tokens_per_s"] == pytest.approx(level["input_tokens_per_s"] + level["output_tokens_per_s"])
    assert (level["error_rate"], level["goodput"]) == (0, None)
    with (tmp_path / "levels.csv").open() as handle:
        (flat,) = list(csv.DictReader(handle))
    assert float(flat["tpot_s_p95"]) == pytest.approx(metrics["tpot_s"]["p95"])


def test_goodput_counts_the_requests_that_meet_every_slo(tgi: TgiEmulator, tmp_path: Path) -> None:
    tgi.behaviour.failures.extend([None, None, None, "status_500", "status_500"])  # warm-up, 2 probes, then 2 fail
    slos = ["--slo", f"ttft={TTFT * LOAD_ALLOWANCE}", "--slo", "e2e=30", "--slo", "tpot=1"]
    level = _bench(tgi, tmp_path, *slos)
    assert (level["errors"], level["error_rate"]) == (2, 2 / 8)
    goodput = level["goodput"]
    assert goodput["slos"] == {"ttft": TTFT * LOAD_ALLOWANCE, "e2e": 30, "tpot": 1}
    assert (goodput["met"], goodput["share"]) == (6, 6 / 8)  # every success met them; a failure meets none
    assert goodput["requests_per_s"] == pytest.approx(level["requests_per_s"])
    missed = _bench(tgi, tmp_path / "missed", "--slo", f"ttft={TTFT / 2}")  # under the server's own TTFT
    assert (missed["goodput"]["met"], missed["goodput"]["share"], missed["goodput"]["requests_per_s"]) == (0, 0, 0)


def test_figures_against_hand_computed_values() -> None:
    def record(index: int, ttft: float, e2e: float, error: str | None = None) -> RequestRecord:
        return RequestRecord(
            "t", 2, index, 10, 5, 0.0, e2e, ttft_s=ttft, generated_tokens=5, input_tokens=10, error=error,
            tpot_s=(e2e - ttft) / 4, inter_token_gaps_s=(0.1, 0.2, 0.3, 0.4),
        )  # fmt: skip

    run = LevelRun("t", 2, 4, [record(0, 0.2, 1.0), record(1, 0.4, 2.2), record(2, 0.6, 3.0), record(3, 0, 1, "x")])
    run.wall_s = 4.0
    summary = summarize(run, Objectives(percentiles=(50, 75), slos={"ttft": 0.5, "tpot": 0.5}))
    assert summary.metrics["ttft_s"]["mean"] == pytest.approx(0.4)
    assert summary.metrics["ttft_s"]["std"] == pytest.approx((0.08 / 3) ** 0.5)  # deviations -0.2, 0, 0.2
    assert summary.metrics["ttft_s"]["p75"] == pytest.approx(0.5)  # halfway between 0.4 and 0.6
    assert summary.metrics["tpot_s"]["p50"] == pytest.approx(0.45)  # (2.2 - 0.4) / 4
    assert summary.metrics["inter_token_gap_s"]["p50"] == pytest.approx(0.25)  # 12 gaps pooled
    assert (summary.output_tokens_per_s, summary.input_tokens_per_s, summary.total_tokens_per_s) == (3.75, 7.5, 11.25)
    assert (summary.error_rate, summary.requests_per_s) == (0.25, 0.75)
    assert summary.goodput is not None and (summary.goodput.met, summary.goodput.share) == (2, 0.5)  # 0.6 s TTFT
    assert summary.goodput.requests_per_s == 0.5
    assert standard_deviation([2.0]) == 0


def test_bad_percentiles_and_slos_are_refused_with_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    bad = ["--percentiles", "50,101", "--slo", "ttfb=1", "--slo", "e2e=-1", "--slo", "tpot"]
    assert main(["bench", "--url", "http://127.0.0.1:9", *bad]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--percentiles: 101 is not between 0 and 100. Fix: e.g. --percentiles 50,90,95,99" in err
    assert "--slo ttfb: unknown metric. Fix: one of ttft, tpot, itl, e2e" in err
    assert "--slo e2e=-1: an SLO is a positive number of seconds" in err
    assert "--slo 'tpot': not METRIC=SECONDS" in err
    with pytest.raises(ValueError, match=r"--percentiles = 'p90': not a comma-separated list of numbers"):
        objectives_from_text("p90", None)
