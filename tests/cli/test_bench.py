"""``tgi-sagemaker bench`` measures what the emulator was set to, counts errors, plots, and keeps a Ctrl-C'd run."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tgi_emulator import Behaviour, SageMakerRuntimeEmulator, TgiEmulator

from tgi_sagemaker.cli.bench import LevelRun, RequestRecord
from tgi_sagemaker.cli.bench_metrics import percentile
from tgi_sagemaker.cli.bench_mixed import price_of
from tgi_sagemaker.cli.bench_report import box_figure, plot_metrics
from tgi_sagemaker.cli.bench_workload import Workload, plan_requests
from tgi_sagemaker.cli.command_line import main
from tgi_sagemaker.cli.cost import ServingShare, TargetPrice
from tgi_sagemaker.cli.pricing import HourlyPrice

# The emulator's settings: E2E = 0.5 + 29 x 0.02 = 1.08 s. The server's timings are a floor: a measurement can only
# add to them (scheduling on a busy machine: two test workers, the deploy rehearsal's processes, a CDK synth), never
# come in under. The checks hold the floor within 5 % (a figure timed from the wrong event falls through it) and
# allow what load adds above (bench/cli_accuracy.md records the accuracy measured on an idle machine).
TTFT, ITL, TOKENS = 0.5, 0.02, 30
LOAD_ALLOWANCE = 1.5
EXPECTED = {"ttft_s": TTFT, "itl_s": ITL, "e2e_latency_s": TTFT + (TOKENS - 1) * ITL}
EXPECTED["throughput_tps"] = TOKENS / EXPECTED["e2e_latency_s"]
WORKLOAD = ["--input-tokens", "64", "--output-tokens", "40", "--output-spread", "0", "--warmup", "1"]
UNMEASURED = 1 + 2  # the warm-up request, then two probes that calibrate prompt lengths


def _set(behaviour: Behaviour) -> None:
    behaviour.ttft_s, behaviour.itl_s, behaviour.output_tokens = TTFT, ITL, TOKENS


def _summary(folder: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((folder / "summary.json").read_text())
    return summary


def _assert_at_the_servers_timings(level: dict[str, Any]) -> None:
    """Not under the server's timings by more than 5 %, not over them by more than load can explain.

    ITL is (last - first) / (tokens - 1): a first token read late (the client busy) shortens it by that delay over
    tokens - 1, so its floor gives way by the most TTFT was late; every other figure only grows under load."""
    first_read_late_s = max(0.0, level["metrics"]["ttft_s"]["max"] - TTFT)
    for metric, expected in EXPECTED.items():
        for statistic in ("mean", "p50"):
            measured = level["metrics"][metric][statistic]
            if metric == "throughput_tps":  # a rate: load lowers it
                low, high = expected / LOAD_ALLOWANCE, expected * 1.05
            elif metric == "itl_s":
                low, high = expected * 0.95 - first_read_late_s / (TOKENS - 1), expected * LOAD_ALLOWANCE
            else:
                low, high = expected * 0.95, expected * LOAD_ALLOWANCE
            assert low <= measured <= high, (level["concurrency"], metric, statistic, measured, expected)


def test_tgi_url_at_concurrency_1_and_8(tgi: TgiEmulator, tmp_path: Path) -> None:
    _set(tgi.behaviour)
    args = ["bench", "--url", tgi.url, "--concurrency", "1,8", "--requests", "8", *WORKLOAD, "--out", str(tmp_path)]
    assert main(args) == 0
    levels = _summary(tmp_path)["levels"]
    assert [(level["concurrency"], level["succeeded"], level["errors"]) for level in levels] == [(1, 8, 0), (8, 8, 0)]
    for level in levels:
        _assert_at_the_servers_timings(level)
        assert level["mean_output_tokens"] == TOKENS  # from the server's usage chunk, not a tokenizer
        assert level["mean_input_tokens"] == level["mean_target_input_tokens"] == 64  # calibrated: words + instruction
    # eight in flight: about eight times the requests per second of one at a time
    assert levels[1]["requests_per_s"] / levels[0]["requests_per_s"] == pytest.approx(8, rel=0.25)
    assert len(tgi.behaviour.requests) == UNMEASURED + 16


def test_sagemaker_transport_at_concurrency_8_with_a_wake_up(
    sagemaker: SageMakerRuntimeEmulator, tmp_path: Path
) -> None:
    _set(sagemaker.behaviour)
    sagemaker.behaviour.failures.extend(["no_capacity", "no_capacity"])  # scaled to zero: the warm-up waits
    target = ["--endpoint", "tgi-endpoint:tgi-component", "--endpoint-url", sagemaker.url, "--region", "us-east-1"]
    args = ["bench", *target, "--api", "generate", "--concurrency", "8", "--requests", "16", *WORKLOAD]
    assert main([*args, "--wake-up-interval", "0.05", "--out", str(tmp_path)]) == 0
    (level,) = _summary(tmp_path)["levels"]
    assert (level["target"], level["succeeded"], level["errors"]) == ("tgi-endpoint/tgi-component", 16, 0)
    _assert_at_the_servers_timings(level)
    assert all(body["parameters"]["details"] for body in sagemaker.behaviour.requests)


def test_errors_are_counted_not_crashed_on(tgi: TgiEmulator, tmp_path: Path) -> None:
    _set(tgi.behaviour)
    failures: list[Any] = [*[None] * UNMEASURED, "status_500", "stream_error", "truncate", "status_422"]
    tgi.behaviour.failures.extend(failures)
    args = ["bench", "--url", tgi.url, "--requests", "8", "--concurrency", "4", *WORKLOAD, "--out", str(tmp_path)]
    assert main(args) == 0
    (level,) = _summary(tmp_path)["levels"]
    assert (level["succeeded"], level["errors"]) == (4, 4)
    with (tmp_path / "requests.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    errors = sorted(row["error"] for row in rows if row["error"])
    assert len(rows) == 8 and len(errors) == 4
    assert any("HTTP 500" in error for error in errors) and any("HTTP 422" in error for error in errors)
    assert any("CUDA out of memory" in error for error in errors) and any("truncated" in error for error in errors)
    _assert_at_the_servers_timings(level)  # failed requests stay out of the latency figures


def test_one_box_per_level_and_per_target(tmp_path: Path) -> None:
    def run(target: str, concurrency: int, values: list[float]) -> LevelRun:
        records = [
            RequestRecord(target, concurrency, i, 10, 10, 0.0, e2e_latency_s=v, ttft_s=v / 4, itl_s=v / 40)
            for i, v in enumerate(values)
        ]
        return LevelRun(target, concurrency, len(values), records, wall_s=1.0)

    runs = [run("g6e-xlarge", 1, [1.0, 1.2, 1.1]), run("g6e-xlarge", 8, [2.0, 2.5]), run("g5-2xlarge", 1, [3.0])]
    paths = plot_metrics(tmp_path, runs)
    assert sorted(path.name for path in paths) == [
        "e2e_latency_s.png",
        "inter_token_gap_s.png",
        "itl_s.png",
        "throughput_tps.png",
        "tpot_s.png",
        "ttft_s.png",
    ]
    assert all(path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for path in paths)
    (axes,) = box_figure(runs, "e2e_latency_s").axes
    assert [tick.get_text() for tick in axes.get_xticklabels()] == [
        "g6e-xlarge\nc=1",
        "g6e-xlarge\nc=8",
        "g5-2xlarge\nc=1",
    ]
    medians = [line.get_ydata()[0] for line in axes.lines if line.get_color() == "C1"]  # boxplot draws medians in C1
    assert medians == [1.1, 2.25, 3.0]  # one box a run, each from that run's own requests
    assert [a.get_text() for a in axes.texts] == ["n=3", "n=2", "n=1"]
    (single,) = box_figure(runs[:2], "ttft_s").axes
    assert [tick.get_text() for tick in single.get_xticklabels()] == ["c=1", "c=8"]


def test_workloads_are_reproducible_and_validated() -> None:
    workload = Workload(requests=5, input_tokens=100, input_spread=20, seed=7)
    assert plan_requests(workload) == plan_requests(workload)
    assert plan_requests(workload) != plan_requests(Workload(requests=5, input_tokens=100, input_spread=20, seed=8))
    prompts = [request.prompt for request in plan_requests(workload)]
    assert len({prompt.split()[0:8].__str__() for prompt in prompts}) == 5  # no shared prefix for the cache
    with pytest.raises(ValueError, match=r"--requests 0: must be at least 1. Fix: pass a larger --requests"):
        Workload(requests=0)
    with pytest.raises(ValueError, match=r"--concurrency 0: every level must be 1 or more"):
        Workload(concurrency_levels=(0,))
    assert percentile([1, 2, 3, 4], 50) == 2.5 and percentile([5], 99) == 5


def test_bad_bench_options_exit_2_with_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--url", "http://127.0.0.1:9", "--concurrency", "1,x"]) == 2
    assert "--concurrency = '1,x': not a comma-separated list of integers. Fix: e.g. 1,4,8" in capsys.readouterr().err


def test_ctrl_c_keeps_what_finished(tgi: TgiEmulator, tmp_path: Path) -> None:
    _set(tgi.behaviour)  # 1.08 s a request, one at a time: 40 would take 43 s
    command = [sys.executable, "-m", "tgi_sagemaker.cli", "bench", "--url", tgi.url, "--requests", "40"]
    process = subprocess.Popen(
        [*command, *WORKLOAD, "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )
    deadline = time.monotonic() + 30
    while len(tgi.behaviour.requests) < UNMEASURED + 4 and time.monotonic() < deadline:  # 3 measured, 1 sent
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err.decode()
    (level,) = _summary(tmp_path)["levels"]
    assert level["interrupted"] is True
    assert 3 <= level["finished"] < 40 and level["errors"] == 0
    assert len(json.loads((tmp_path / "requests.json").read_text())) == level["finished"]
    assert b"stopped by Ctrl-C" in err


def test_labelled_targets_are_compared_side_by_side(tmp_path: Path) -> None:
    fast, slow = (
        TgiEmulator(Behaviour(ttft_s=0.05, output_tokens=5)),
        TgiEmulator(Behaviour(ttft_s=0.3, output_tokens=5)),
    )
    try:
        args = ["bench", "--url", f"g6e.xlarge={fast.url}", "--url", f"g5.2xlarge={slow.url}", "--requests", "2"]
        assert main([*args, "--warmup", "0", "--input-tokens", "8", "--out", str(tmp_path)]) == 0
    finally:
        fast.close()
        slow.close()
    levels = {level["target"]: level for level in _summary(tmp_path)["levels"]}
    assert set(levels) == {"g6e.xlarge", "g5.2xlarge"}
    assert levels["g5.2xlarge"]["metrics"]["ttft_s"]["p50"] > levels["g6e.xlarge"]["metrics"]["ttft_s"]["p50"] + 0.2


def test_targets_named_alike_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--url", "a=http://127.0.0.1:9", "--url", "a=http://127.0.0.1:10"]) == 2
    assert "two are named alike. Fix: give each its own LABEL= prefix" in " ".join(capsys.readouterr().err.split())


def test_mixed_drives_every_target_at_once_and_adds_their_combined_figures(tmp_path: Path) -> None:
    # two models of one endpoint, as two servers: each at the emulator's timings, driven together at c=1 and c=4
    small, large = TgiEmulator(), TgiEmulator()
    _set(small.behaviour)
    _set(large.behaviour)
    try:
        args = ["bench", "--url", f"small={small.url}", "--url", f"large={large.url}", "--mixed"]
        args += ["--concurrency", "1,4", "--requests", "4", *WORKLOAD, "--out", str(tmp_path)]
        assert main(args) == 0
    finally:
        small.close()
        large.close()
    levels = _summary(tmp_path)["levels"]
    combined = "mixed: small + large"
    assert [(level["target"], level["concurrency"], level["succeeded"]) for level in levels] == [
        ("small", 1, 4),
        ("large", 1, 4),
        (combined, 2, 8),
        ("small", 4, 4),
        ("large", 4, 4),
        (combined, 8, 8),
    ]
    for level in levels:  # each model's figures, and those across both, at the server's timings
        _assert_at_the_servers_timings(level)
    assert len(small.behaviour.requests) == len(large.behaviour.requests) == UNMEASURED + 8
    with (tmp_path / "requests.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 16  # each request once: the combined levels add figures, not rows
    for concurrency in ("1", "4"):
        # one clock for both, and each model's requests in flight while the other's were (not one after the other).
        # In flight, not sent: at c=4 all four go out within a few ms, and a busy machine may send one model's four
        # before the other's first; each request lasts ~1 s (TTFT 0.5 s + 29 x 20 ms), so the two overlap anyway
        in_flight = {
            target: [
                (float(row["started_s"]), float(row["started_s"]) + float(row["e2e_latency_s"]))
                for row in rows
                if (row["target"], row["concurrency"]) == (target, concurrency)
            ]
            for target in ("small", "large")
        }
        first = {target: min(start for start, _ in spans) for target, spans in in_flight.items()}
        last = {target: max(end for _, end in spans) for target, spans in in_flight.items()}
        assert first["small"] < last["large"] and first["large"] < last["small"], in_flight
        assert max(first.values()) < min(last.values()) - TTFT, in_flight  # together for most of the level
    # the level's combined rate is the endpoint's: every target's requests over the longest target's time (a ratio
    # to one target's rate would depend on how evenly a busy machine ran the two)
    for small_level, large_level, combined_level in (levels[0:3], levels[3:6]):
        assert combined_level["wall_s"] == max(small_level["wall_s"], large_level["wall_s"])
        succeeded = small_level["succeeded"] + large_level["succeeded"]
        assert combined_level["requests_per_s"] == pytest.approx(succeeded / combined_level["wall_s"])


def test_mixed_prices_each_target_by_its_share_and_the_endpoint_by_their_shares_added_up(tmp_path: Path) -> None:
    # two components of one ml.g6e.12xlarge (4 GPUs, $12/h as given): 1 GPU and 2 GPUs, so $3/h and $6/h, $9/h both
    small, large = TgiEmulator(), TgiEmulator()
    _set(small.behaviour)
    _set(large.behaviour)
    try:
        args = ["bench", "--url", f"small={small.url}", "--url", f"large={large.url}", "--mixed"]
        args += ["--instance", "small=ml.g6e.12xlarge:1", "--instance", "large=ml.g6e.12xlarge:2"]
        args += ["--price", "ml.g6e.12xlarge=12", "--concurrency", "2", "--requests", "4", *WORKLOAD]
        assert main([*args, "--out", str(tmp_path)]) == 0
    finally:
        small.close()
        large.close()
    small_level, large_level, combined = _summary(tmp_path)["levels"]
    assert combined["combined"] and not small_level["combined"]
    for level, usd_per_hour, share in ((small_level, 3.0, 0.25), (large_level, 6.0, 0.5), (combined, 9.0, 0.75)):
        cost = level["cost"]
        assert (cost["usd_per_hour"], cost["share"]) == (usd_per_hour, share)
        by_hand = usd_per_hour / 3600 / level["output_tokens_per_s"] * 1e6
        assert cost["usd_per_million_output_tokens"] == pytest.approx(by_hand)
    assert combined["cost"]["instance_from"] == "the targets' GPUs added up"
    # a target without a price leaves the endpoint without one, and says which
    hourly = HourlyPrice("ml.g6e.12xlarge", None, 12, "--price on the command line", "")
    prices = {"small": TargetPrice(ServingShare("ml.g6e.12xlarge", 1), hourly)}
    run = LevelRun("mixed: small + large", 2, 8, combined=True, parts=("small", "large"))
    priced = price_of(run, prices)
    assert (
        priced is not None
        and priced.share is None
        and priced.missing == ("not every target has a cost (large: no --instance)")
    )
    prices["large"] = TargetPrice(ServingShare("ml.g5.12xlarge", 1), HourlyPrice("ml.g5.12xlarge", None, 5, "x", ""))
    priced = price_of(run, prices)
    assert priced is not None and "different instances or prices (small on ml.g6e.12xlarge, large on ml.g5" in str(
        priced.missing
    )


def test_mixed_needs_two_targets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--url", "http://127.0.0.1:9", "--mixed"]) == 2
    assert "--mixed with one target: nothing to mix. Fix: name two or more" in capsys.readouterr().err


def test_mixed_drives_two_components_of_one_sagemaker_endpoint(
    sagemaker: SageMakerRuntimeEmulator, tmp_path: Path
) -> None:
    _set(sagemaker.behaviour)
    sagemaker.inference_components = ("r1-qwen-7b", "r1-qwen-14b")  # one endpoint name, two models on it
    target = ["--endpoint", "tgi-endpoint:r1-qwen-7b", "--endpoint", "tgi-endpoint:r1-qwen-14b", "--mixed"]
    target += ["--endpoint-url", sagemaker.url, "--region", "us-east-1", "--api", "generate"]
    assert main(["bench", *target, "--concurrency", "2", "--requests", "4", *WORKLOAD, "--out", str(tmp_path)]) == 0
    levels = _summary(tmp_path)["levels"]
    combined = "mixed: tgi-endpoint/r1-qwen-7b + tgi-endpoint/r1-qwen-14b"
    assert [(level["target"], level["concurrency"], level["succeeded"]) for level in levels] == [
        ("tgi-endpoint/r1-qwen-7b", 2, 4),
        ("tgi-endpoint/r1-qwen-14b", 2, 4),
        (combined, 4, 8),
    ]
    for level in levels:
        _assert_at_the_servers_timings(level)
    rows = json.loads((tmp_path / "requests.json").read_text())
    sent = {
        t: sorted(r["started_s"] for r in rows if r["target"] == t) for t in (levels[0]["target"], levels[1]["target"])
    }
    first, second = sent.values()
    assert first[0] < second[-1] and second[0] < first[-1], sent  # the two components' requests overlapped
