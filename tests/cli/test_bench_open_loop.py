"""Open-loop load: requests leave at the times of a seeded arrival process (Poisson, or burstier / more even),
whatever is in flight. The schedule is checked as numbers (deterministic given the seed), the run against it with
loose bounds that a busy machine cannot break."""

from __future__ import annotations

import json
import statistics
from itertools import pairwise
from pathlib import Path

import pytest
from tgi_emulator import TgiEmulator

from tgi_sagemaker.cli.bench import arrival_times
from tgi_sagemaker.cli.bench_workload import Workload
from tgi_sagemaker.cli.command_line import main


def _gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in pairwise(times)]


@pytest.mark.parametrize(("burstiness", "variation"), [(1.0, 1.0), (4.0, 0.5), (0.25, 2.0)])
def test_arrivals_have_the_configured_rate_and_spread(burstiness: float, variation: float) -> None:
    workload = Workload(requests=4001, seed=3, burstiness=burstiness)
    gaps = _gaps(arrival_times(workload, 5.0))
    assert statistics.fmean(gaps) == pytest.approx(1 / 5.0, rel=0.05)  # 4000 gaps: the mean is within ~2 %
    # the coefficient of variation of gamma gaps is 1 / sqrt(shape): 1 for Poisson
    assert statistics.pstdev(gaps) / statistics.fmean(gaps) == pytest.approx(variation, rel=0.1)
    assert arrival_times(workload, 5.0) == arrival_times(workload, 5.0)
    assert arrival_times(workload, 5.0) != arrival_times(Workload(requests=4001, seed=4, burstiness=burstiness), 5.0)


def test_an_open_loop_level_sends_on_schedule_whatever_is_in_flight(tgi: TgiEmulator, tmp_path: Path) -> None:
    tgi.behaviour.ttft_s, tgi.behaviour.itl_s, tgi.behaviour.output_tokens = 0.3, 0.02, 10  # 0.48 s a request
    rate, requests = 20.0, 30
    args = ["bench", "--url", tgi.url, "--request-rate", f"{rate:g}", "--requests", str(requests), "--warmup", "0"]
    assert main([*args, "--input-tokens", "16", "--out", str(tmp_path)]) == 0
    (level,) = json.loads((tmp_path / "summary.json").read_text())["levels"]
    assert (level["request_rate"], level["concurrency"], level["load"], level["succeeded"]) == (rate, 0, "20/s", 30)
    records = sorted(json.loads((tmp_path / "requests.json").read_text()), key=lambda record: record["index"])
    scheduled = arrival_times(Workload(requests=requests, seed=0), rate)
    assert [record["scheduled_s"] for record in records] == scheduled  # the seeded schedule, request by request
    started = [record["started_s"] for record in records]
    assert all(start >= at for start, at in zip(started, scheduled, strict=True))  # never before its time
    achieved = (requests - 1) / (max(started) - min(started))
    planned = (requests - 1) / scheduled[-1]
    assert planned / 1.5 <= achieved <= planned * 1.1  # loose: a busy machine sends late, never early
    # requests overlapped: a closed loop at concurrency 1 would have kept one in flight
    ends = [start + record["e2e_latency_s"] for start, record in zip(started, records, strict=True)]
    peak = max(sum(s <= moment < e for s, e in zip(started, ends, strict=True)) for moment in started)
    assert peak >= 4


def test_closed_and_open_levels_in_one_sweep_and_bad_rates(tgi: TgiEmulator, tmp_path: Path) -> None:
    args = ["bench", "--url", tgi.url, "--concurrency", "2", "--request-rate", "10,40", "--requests", "4"]
    assert main([*args, "--warmup", "0", "--input-tokens", "8", "--out", str(tmp_path)]) == 0
    levels = json.loads((tmp_path / "summary.json").read_text())["levels"]
    assert [(level["load"], level["succeeded"]) for level in levels] == [("c=2", 4), ("10/s", 4), ("40/s", 4)]
    with pytest.raises(ValueError, match=r"--request-rate 0: every rate must be over 0 requests/s") as refused:
        Workload(request_rates=(0.0,), burstiness=0)
    assert "--burstiness 0: must be over 0 (1 is Poisson)" in str(refused.value)
    with pytest.raises(ValueError, match="no load level"):
        Workload(concurrency_levels=())


def test_max_concurrency_caps_an_open_loop_and_records_each_wait(tgi: TgiEmulator, tmp_path: Path) -> None:
    tgi.behaviour.ttft_s, tgi.behaviour.itl_s, tgi.behaviour.output_tokens = 0.2, 0.02, 10  # 0.38 s a request
    cap, requests = 2, 16  # 20 arrivals a second, about 5 served: most wait for a slot
    args = ["bench", "--url", tgi.url, "--request-rate", "20", "--max-concurrency", str(cap), "--warmup", "0"]
    assert main([*args, "--requests", str(requests), "--input-tokens", "16", "--out", str(tmp_path)]) == 0
    records = sorted(json.loads((tmp_path / "requests.json").read_text()), key=lambda record: record["index"])
    started = [record["started_s"] for record in records]
    ends = [start + record["e2e_latency_s"] for start, record in zip(started, records, strict=True)]
    in_flight = [sum(s <= moment < e for s, e in zip(started, ends, strict=True)) for moment in started]
    assert max(in_flight) == cap  # never more than the cap, and the cap was reached
    waits = [record["queued_s"] for record in records]
    assert waits[0] == 0 and all(wait >= 0 for wait in waits)
    for record in records:  # the wait is part of the delay between arrival and sending, not of the latency
        assert record["started_s"] - record["scheduled_s"] >= record["queued_s"]
    assert max(waits) > 2 * max(record["e2e_latency_s"] for record in records)  # waits pile up; latencies do not
    (level,) = json.loads((tmp_path / "summary.json").read_text())["levels"]
    assert (level["max_concurrency"], level["queued"]) == (cap, sum(wait > 0 for wait in waits))
    assert level["queued"] >= requests // 2 and level["queue_wait_s"]["max"] == max(waits)
    assert main(["bench", "--url", tgi.url, "--max-concurrency", "2"]) == 2  # closed loop: no cap to apply
    assert main(["bench", "--url", tgi.url, "--request-rate", "1", "--max-concurrency", "0"]) == 2
