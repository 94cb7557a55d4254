"""A bench session on a terminal: warm up each target, sweep its levels with a progress bar, write the results."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from tgi_sagemaker.cli.bench import LevelRun, RequestRecord, Workload, run_level, warm_up
from tgi_sagemaker.cli.bench_report import METRICS, PERCENTILES, LevelSummary, summarize, write_results
from tgi_sagemaker.cli.client.streaming import WakeUpWait
from tgi_sagemaker.cli.client.transports import EndpointError, Transport

INTERRUPTED = 130


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
) -> int:
    """Exit code: 0 all measured, 1 a target failed its warm-up, 130 stopped by Ctrl-C (results still written)."""
    runs: list[LevelRun] = []
    failed = False
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[errors]}"))
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        try:
            for transport in targets:
                if stop.is_set():
                    break
                try:
                    _warm_up(transport, workload, progress, wake_up_timeout_s, wake_up_interval_s)
                except EndpointError as error:
                    console.print(f"[red]{transport.target}: warm-up failed, not measured: {error}[/]", highlight=False)
                    failed = True
                    continue
                for level in workload.concurrency_levels:
                    task = progress.add_task(f"{transport.target} c={level}", total=workload.requests, errors="")
                    errors = 0

                    def on_record(record: RequestRecord, task: TaskID = task) -> None:
                        nonlocal errors
                        errors += record.error is not None
                        progress.update(task, advance=1, errors=f"[red]{errors} errors[/]" if errors else "")

                    run = run_level(transport, workload, level, on_record=on_record, stop=stop)
                    runs.append(run)
                    if run.interrupted:
                        break
                if stop.is_set():
                    break
        except KeyboardInterrupt:  # between requests: keep what finished
            stop.set()
    if not runs:
        console.print("nothing measured, nothing written")
        return INTERRUPTED if stop.is_set() else 1
    written = write_results(folder, workload, runs, command=command)
    _print_summary(console, runs)
    console.print(f"results: {folder}/ ({', '.join(path.name for path in written)})", highlight=False)
    if stop.is_set():
        console.print("[yellow]stopped by Ctrl-C: the files hold the requests that finished[/]")
        return INTERRUPTED
    return 1 if failed else 0


def _warm_up(transport: Transport, workload: Workload, progress: Progress, timeout_s: float, interval_s: float) -> None:
    if workload.warmup == 0:
        return
    task = progress.add_task(f"{transport.target} warm-up", total=None, errors="")

    def on_wait(wait: WakeUpWait) -> None:
        progress.update(
            task,
            description=f"{transport.target} warm-up: no capacity (scaled to zero), waking up, "
            f"{wait.waited_s:.0f}/{wait.deadline_s:.0f} s",
        )

    warm_up(transport, workload, wake_up_timeout_s=timeout_s, wake_up_interval_s=interval_s, on_wait=on_wait)
    progress.update(task, description=f"{transport.target} warm-up", total=workload.warmup, completed=workload.warmup)


def _print_summary(console: Console, runs: Sequence[LevelRun]) -> None:
    for run in runs:
        console.print(summary_table(summarize(run)))


def summary_table(summary: LevelSummary) -> Table:
    """A narrow table a run: one row a metric, mean and percentiles across."""
    stopped = " (stopped)" if summary.interrupted else ""
    title = (
        f"{summary.target} at concurrency {summary.concurrency}: {summary.succeeded}/{summary.planned} ok{stopped}, "
        f"{summary.errors} errors, {summary.requests_per_s:.2f} requests/s, "
        f"{summary.output_tokens_per_s:.1f} output tokens/s"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    statistics = ("mean", *(f"p{q}" for q in PERCENTILES))
    for column in statistics:
        table.add_column(column, justify="right")
    for metric, name in METRICS.items():
        values = summary.metrics.get(metric)
        in_ms = metric in ("ttft_s", "itl_s")
        label = name.replace("(s)", "(ms)") if in_ms else name
        if not values:
            table.add_row(label, *["-"] * len(statistics))
            continue
        scale, digits = (1000, 1) if in_ms else (1, 2)
        table.add_row(label, *(f"{values[key] * scale:.{digits}f}" for key in statistics))
    return table
