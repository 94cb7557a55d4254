"""A bench session: warm up (and calibrate prompt lengths on) each target, sweep its levels, write the results."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tgi_sagemaker.cli.bench import LevelRun, RequestRecord, warm_up
from tgi_sagemaker.cli.bench_metrics import (
    FROM_TOKEN_COUNTS,
    METRICS,
    TOKEN_GAPS,
    TOKEN_GAPS_TITLE,
    LevelSummary,
    Objectives,
    summarize,
)
from tgi_sagemaker.cli.bench_mixed import price_of, run_at, run_mixed_level
from tgi_sagemaker.cli.bench_progress import BenchProgress, progress_for
from tgi_sagemaker.cli.bench_report import write_results
from tgi_sagemaker.cli.bench_workload import PromptCalibration, Workload, calibrate
from tgi_sagemaker.cli.client.transports import EndpointError, Transport
from tgi_sagemaker.cli.consoles import INTERRUPTED
from tgi_sagemaker.cli.cost import TargetPrice
from tgi_sagemaker.cli.option_checks import fallback_folder


def run_bench_session(
    targets: Sequence[Transport],
    workload: Workload,
    *,
    folder: Path,
    command: str,
    wake_up_timeout_s: float,
    wake_up_interval_s: float,
    console: Console,
    stop: threading.Event,
    objectives: Objectives | None = None,
    prices: Mapping[str, TargetPrice] | None = None,
    mixed: bool = False,
) -> int:
    """``objectives``: percentiles and SLOs. Default: p50, p90, p99, no SLO. ``prices``: by target, what serving
    it costs. Default: none. ``mixed``: every target at once at each level, plus their combined figures
    (:mod:`.bench_mixed`). Default: one target after another.

    Exit code: 0 all measured; 1 a target failed its warm-up, a level had no successful request (every one
    failed), or the results could not be written in ``folder`` (then in a temporary folder, said); 130 stopped
    by Ctrl-C. The results are written in every case where something was measured."""
    runs: list[LevelRun] = []
    calibrations: dict[str, PromptCalibration] = {}
    failed = False
    with progress_for(console) as progress:
        try:
            for transport in targets:
                if stop.is_set():
                    break
                try:
                    calibration = _warm_up(transport, workload, progress, wake_up_timeout_s, wake_up_interval_s)
                except EndpointError as error:
                    console.print(
                        f"{transport.target}: warm-up failed, not measured: {error}", style="red", markup=False
                    )
                    failed = True
                    continue
                calibrations[transport.target] = calibration
                if mixed:  # every target warmed up first, then driven together below
                    continue
                for level in _levels(workload):
                    on_record = progress.level_started(transport.target, level, workload.requests)
                    run = run_at(transport, workload, level, on_record=on_record, stop=stop, calibration=calibration)
                    progress.level_done(run)
                    runs.append(run)
                    if run.interrupted:
                        break
                if stop.is_set():
                    break
            if mixed:
                runs += _run_mixed(
                    [t for t in targets if t.target in calibrations], workload, calibrations, progress, stop
                )
        except KeyboardInterrupt:  # between requests: keep what finished
            stop.set()
    if not runs:
        console.print("nothing measured, nothing written")
        return INTERRUPTED if stop.is_set() else 1
    summaries = [summarize(run, objectives or Objectives(), price_of(run, prices or {})) for run in runs]
    save = partial(
        write_results, workload=workload, runs=runs, summaries=summaries, command=command, calibrations=calibrations
    )
    written_in, written = _save(save, folder, console)
    failed = failed or written_in != folder  # the results are safe, but not where asked: a script should know
    for summary in summaries:
        _print_summary(console, summary)
    if written:
        console.print(f"results: {written_in}/ ({', '.join(path.name for path in written)})", highlight=False)
    if stop.is_set():
        console.print("stopped by Ctrl-C: the files hold the requests that finished", style="yellow")
        return INTERRUPTED
    unmeasured = [summary for summary in summaries if summary.finished and not summary.succeeded]
    for summary in unmeasured:
        console.print(
            f"{summary.target} at concurrency {summary.concurrency}: every request failed "
            f"({summary.errors} errors; requests.csv has their messages)",
            style="red",
            markup=False,
        )
    return 1 if failed or unmeasured else 0


def _save(save: Callable[[Path], list[Path]], folder: Path, console: Console) -> tuple[Path | None, list[Path]]:
    """Write the results in ``folder``; should that fail after all (checked before the run, yet the disk filled
    or the folder went), in a fresh temporary folder, said on the console: a paid run's figures are not lost."""
    try:
        return folder, save(folder)
    except OSError as error:
        problem = f"could not write the results in {folder} ({type(error).__name__}: {error})"
    try:
        fallback = fallback_folder("tgi-sagemaker-bench-")
        written = save(fallback)
    except OSError as error:
        console.print(
            f"{problem}, nor in a temporary folder ({error}): the summaries below are all that is left",
            style="red",
            markup=False,
        )
        return None, []
    console.print(f"{problem}: written in {fallback} instead", style="red", markup=False)
    return fallback, written


def _run_mixed(
    targets: Sequence[Transport],
    workload: Workload,
    calibrations: Mapping[str, PromptCalibration],
    progress: BenchProgress,
    stop: threading.Event,
) -> list[LevelRun]:
    runs: list[LevelRun] = []
    for level in _levels(workload):
        if stop.is_set() or not targets:
            break
        level_runs = run_mixed_level(
            targets,
            workload,
            level,
            calibrations=calibrations,
            on_record_for=partial(_level_started, progress, level=level, requests=workload.requests),
            stop=stop,
        )
        for run in level_runs:
            if not run.combined:
                progress.level_done(run)
        runs += level_runs
    return runs


def _level_started(
    progress: BenchProgress, target: str, *, level: int | float, requests: int
) -> Callable[[RequestRecord], None]:
    return progress.level_started(target, level, requests)


def _levels(workload: Workload) -> list[int | float]:
    """Closed-loop levels (requests in flight, ``int``) then open-loop ones (requests/s, ``float``)."""
    return [*workload.concurrency_levels, *(float(rate) for rate in workload.request_rates)]


def _warm_up(
    transport: Transport, workload: Workload, progress: BenchProgress, timeout_s: float, interval_s: float
) -> PromptCalibration:
    if workload.warmup == 0:
        return calibrate(transport, workload)
    progress.warm_up_started(transport.target, workload.warmup)
    warm_up(
        transport,
        workload,
        wake_up_timeout_s=timeout_s,
        wake_up_interval_s=interval_s,
        on_wait=lambda wait: progress.waiting(transport.target, wait),
    )
    calibration = calibrate(transport, workload)
    progress.warm_up_done(transport.target, calibration)
    return calibration


def _print_summary(console: Console, summary: LevelSummary) -> None:
    console.print(headline(summary), highlight=False, markup=False)
    if summary.goodput is not None:
        console.print(goodput_line(summary), highlight=False, markup=False)
    if summary.cost is not None or summary.cost_missing is not None:
        console.print(cost_line(summary), highlight=False, markup=False)
    console.print(summary_table(summary))


def headline(summary: LevelSummary) -> str:
    """One line a level: how many succeeded, the rates, target vs actual prompt tokens, whether counts are exact."""
    stopped = " (stopped)" if summary.interrupted else ""
    parts = [
        f"{summary.target} at {_load_text(summary)}: {summary.succeeded}/{summary.planned} ok{stopped}",
        f"{summary.errors} errors ({summary.error_rate:.0%})",
        f"{summary.requests_per_s:.2f} requests/s",
        f"{summary.output_tokens_per_s:.1f} output tokens/s",
    ]
    if summary.total_tokens_per_s is not None and summary.input_tokens_per_s is not None:
        parts.append(f"{summary.input_tokens_per_s:.1f} input, {summary.total_tokens_per_s:.1f} total tokens/s")
    if summary.mean_input_tokens is not None:
        parts.append(
            f"input tokens: target {summary.mean_target_input_tokens:.0f}, actual {summary.mean_input_tokens:.0f}"
        )
    if summary.max_concurrency is not None and summary.queue_wait_s is not None:
        waits = summary.queue_wait_s
        parts.append(
            f"at most {summary.max_concurrency} in flight: {summary.queued} requests waited for a slot "
            f"(mean {waits['mean']:.2f} s, max {waits['max']:.2f} s; not in their latencies)"
        )
    if summary.approximate_token_counts:
        parts.append(
            f"token counts approximate for {summary.approximate_token_counts} requests "
            "(the server sent none: stream events counted)"
        )
    return ", ".join(parts)


def _load_text(summary: LevelSummary) -> str:
    if summary.request_rate is None:
        return f"concurrency {summary.concurrency}"
    return f"{summary.request_rate:g} requests/s (open loop)"


def goodput_line(summary: LevelSummary) -> str:
    """Which share of the requests met every SLO, and at what rate."""
    assert summary.goodput is not None
    good = summary.goodput
    bounds = " and ".join(f"{name} <= {seconds:g} s" for name, seconds in good.slos.items())
    return (
        f"  goodput: {good.met}/{summary.finished} requests ({good.share:.0%}) met {bounds}, "
        f"{good.requests_per_s:.2f} requests/s"
    )


def cost_line(summary: LevelSummary) -> str:
    """What this level's rate costs on its instance (share), with the price's source and date."""
    cost = summary.cost
    if cost is None:
        return f"  cost: {summary.cost_missing}"
    share = "" if cost.share == 1 else f" x {cost.share:g} of the instance (inference component)"
    per_token = cost.usd_per_million_output_tokens
    per_request = cost.usd_per_thousand_requests
    return (
        f"  cost: {cost.instance_type} {cost.price}{share}: "
        + (f"${per_token:,.2f} per 1M output tokens, " if per_token is not None else "nothing served, ")
        + (f"${per_request:,.3f} per 1K requests" if per_request is not None else "no request served")
    )


def summary_table(summary: LevelSummary) -> Table:
    """A narrow table a run: one row a metric, mean, standard deviation and percentiles across."""
    table = Table()
    table.add_column("metric")
    statistics = ("mean", "std", *(f"p{q:g}" for q in summary.percentiles))
    for column in statistics:
        table.add_column(column, justify="right")
    approximate = "~" if summary.approximate_token_counts else ""
    for metric, name in (*METRICS.items(), (TOKEN_GAPS, TOKEN_GAPS_TITLE)):
        values = summary.metrics.get(metric)
        in_ms = metric != "e2e_latency_s" and metric != "throughput_tps"
        label = name.replace("(s)", "(ms)") if in_ms else name
        if metric in (*FROM_TOKEN_COUNTS, TOKEN_GAPS):
            label = approximate + label
        if not values:
            table.add_row(label, *["-"] * len(statistics))
            continue
        scale, digits = (1000, 1) if in_ms else (1, 2)
        table.add_row(label, *(f"{values[key] * scale:.{digits}f}" for key in statistics))
    return table
