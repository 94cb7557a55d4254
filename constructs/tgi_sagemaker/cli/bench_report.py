"""What ``bench`` leaves behind: per-request CSV/JSON, a summary with percentiles, one box plot per metric.

Token counts the server did not send (stream events counted instead) are marked wherever they are used: the
``tokens_approximate`` column per request, ``approximate_token_counts`` per level, a note on the plots.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tgi_sagemaker.cli.bench import LevelRun, RequestRecord, labels
from tgi_sagemaker.cli.bench_workload import PromptCalibration, Workload

if TYPE_CHECKING:
    from matplotlib.figure import Figure

METRICS: dict[str, str] = {
    "ttft_s": "Time to first token (s)",
    "itl_s": "Inter-token latency (s)",
    "e2e_latency_s": "End-to-end latency (s)",
    "throughput_tps": "Throughput per request (output tokens/s)",
}
PERCENTILES = (50, 90, 99)
FROM_TOKEN_COUNTS = ("itl_s", "throughput_tps")  # the metrics that an approximate count makes approximate


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), so small runs still give honest figures."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class LevelSummary:
    target: str
    concurrency: int
    planned: int
    finished: int
    succeeded: int
    errors: int
    interrupted: bool
    wall_s: float
    requests_per_s: float
    output_tokens_per_s: float
    mean_output_tokens: float | None
    mean_target_input_tokens: float
    mean_input_tokens: float | None  # what the server counted
    approximate_token_counts: int  # successful requests whose output counts are stream events counted
    metrics: dict[str, dict[str, float]]


def summarize(run: LevelRun) -> LevelSummary:
    ok = [record for record in run.records if record.error is None]
    metrics: dict[str, dict[str, float]] = {}
    for metric in METRICS:
        values = [value for record in ok if (value := getattr(record, metric)) is not None]
        if values:
            metrics[metric] = {"mean": sum(values) / len(values), "min": min(values), "max": max(values)} | {
                f"p{q}": percentile(values, q) for q in PERCENTILES
            }
    output_tokens = [record.generated_tokens for record in ok if record.generated_tokens is not None]
    input_tokens = [record.input_tokens for record in ok if record.input_tokens is not None]
    wall = run.wall_s or math.inf
    return LevelSummary(
        target=run.target,
        concurrency=run.concurrency,
        planned=run.planned,
        finished=len(run.records),
        succeeded=len(ok),
        errors=len(run.records) - len(ok),
        interrupted=run.interrupted,
        wall_s=run.wall_s,
        requests_per_s=len(ok) / wall,
        output_tokens_per_s=sum(output_tokens) / wall,
        mean_output_tokens=sum(output_tokens) / len(output_tokens) if output_tokens else None,
        mean_target_input_tokens=sum(r.target_input_tokens for r in run.records) / max(1, len(run.records)),
        mean_input_tokens=sum(input_tokens) / len(input_tokens) if input_tokens else None,
        approximate_token_counts=sum(record.tokens_approximate for record in ok),
        metrics=metrics,
    )


def write_results(
    folder: Path,
    workload: Workload,
    runs: Sequence[LevelRun],
    *,
    command: str,
    calibrations: Mapping[str, PromptCalibration] | None = None,
) -> list[Path]:
    """Write everything; returns the files written. Partial runs (Ctrl-C) are written the same way.

    ``calibrations``: how each target's prompt lengths were made. Default: none recorded.
    """
    folder.mkdir(parents=True, exist_ok=True)
    records = [record for run in runs for record in run.records]
    summaries = [summarize(run) for run in runs]
    written = [
        _write_csv(folder / "requests.csv", records),
        _write_json(folder / "requests.json", [asdict(record) for record in records]),
        _write_json(
            folder / "summary.json",
            {
                "command": command,
                "workload": asdict(workload),
                "prompt_calibration": {target: asdict(found) for target, found in (calibrations or {}).items()},
                "levels": [asdict(summary) for summary in summaries],
            },
        ),
    ]
    written += plot_metrics(folder, runs)
    return written


def _write_csv(path: Path, records: Sequence[RequestRecord]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[field.name for field in fields(RequestRecord)])
        writer.writeheader()
        writer.writerows(asdict(record) for record in records)
    return path


def _write_json(path: Path, payload: Any) -> Path:
    path.write_text(json.dumps(payload, indent=1) + "\n")
    return path


def plot_metrics(folder: Path, runs: Sequence[LevelRun]) -> list[Path]:
    """One PNG a metric, one box a run (concurrency level, or target and level when comparing targets)."""
    import matplotlib.pyplot as plt

    written = []
    for metric in METRICS:
        figure = box_figure(runs, metric)
        path = folder / f"{metric}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path)
    return written


def box_figure(runs: Sequence[LevelRun], metric: str) -> Figure:
    """The box plot of one metric, one box a run, its sample count on top (successful requests only)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    title, names = METRICS[metric], labels(runs)
    data = [[v for r in run.records if r.error is None and (v := getattr(r, metric)) is not None] for run in runs]
    figure, axes = plt.subplots(figsize=(max(4.0, 1.4 * len(runs) + 2), 4.5), layout="constrained")
    axes.boxplot([values or [math.nan] for values in data], tick_labels=names, showmeans=True)
    approximate = metric in FROM_TOKEN_COUNTS and any(r.tokens_approximate for run in runs for r in run.records)
    axes.set_title(
        title + ("\napproximate: the server sent no token counts, stream events counted" if approximate else "")
    )
    axes.set_ylabel(title)
    axes.set_xlabel("target and concurrency" if "\n" in "".join(names) else "concurrency")
    for position, values in enumerate(data, start=1):
        axes.annotate(f"n={len(values)}", (position, 0.99), xycoords=("data", "axes fraction"), ha="center", va="top")
    axes.grid(axis="y", alpha=0.3)
    return figure
