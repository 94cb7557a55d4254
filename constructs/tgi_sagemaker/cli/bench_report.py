"""What ``bench`` leaves behind: per-request CSV/JSON, a summary (:mod:`.bench_metrics`), one box plot a metric.

Token counts the server did not send (stream events counted instead) are marked wherever they are used: the
``tokens_approximate`` column per request, ``approximate_token_counts`` per level, a note on the plots.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tgi_sagemaker.cli.bench import LevelRun, RequestRecord, labels
from tgi_sagemaker.cli.bench_metrics import (
    FROM_TOKEN_COUNTS,
    METRICS,
    TOKEN_GAPS,
    TOKEN_GAPS_TITLE,
    LevelSummary,
    metric_values,
)
from tgi_sagemaker.cli.bench_workload import PromptCalibration, Workload

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CSV_LEFT_OUT = ("inter_token_gaps_s",)  # one list a request: requests.json holds it, a CSV cell would not


def write_results(
    folder: Path,
    workload: Workload,
    runs: Sequence[LevelRun],
    summaries: Sequence[LevelSummary],
    *,
    command: str,
    calibrations: Mapping[str, PromptCalibration] | None = None,
) -> list[Path]:
    """Write everything (``summaries``: each run's, in order); returns the files written. Partial runs (Ctrl-C) are
    written the same way.

    ``calibrations``: how each target's prompt lengths were made. Default: none recorded.
    """
    folder.mkdir(parents=True, exist_ok=True)
    records = [record for run in runs if not run.combined for record in run.records]  # each request once
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
        _write_levels_csv(folder / "levels.csv", [asdict(summary) for summary in summaries]),
    ]
    written += plot_metrics(folder, runs)
    return written


def _write_csv(path: Path, records: Sequence[RequestRecord]) -> Path:
    with path.open("w", newline="") as handle:
        names = [field.name for field in fields(RequestRecord) if field.name not in CSV_LEFT_OUT]
        writer = csv.DictWriter(handle, fieldnames=names, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(asdict(record) for record in records)
    return path


def _write_levels_csv(path: Path, levels: Sequence[dict[str, Any]]) -> Path:
    """One row a level, nested figures flattened: ``ttft_s_p90``, ``goodput_share``."""
    rows = [_flatten(level) for level in levels]
    names = list(dict.fromkeys(name for row in rows for name in row))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if name == "metrics":
            name = ""
        if isinstance(value, Mapping):
            flat |= _flatten(value, f"{name}_" if name else "")
        elif isinstance(value, list | tuple):
            flat[name] = " ".join(f"{item:g}" if isinstance(item, float) else str(item) for item in value)
        else:
            flat[name] = value
    return flat


def _write_json(path: Path, payload: Any) -> Path:
    path.write_text(json.dumps(payload, indent=1) + "\n")
    return path


def plot_metrics(folder: Path, runs: Sequence[LevelRun]) -> list[Path]:
    """One PNG a metric, one box a run (load level, or target and level when comparing targets)."""
    import matplotlib.pyplot as plt

    written = []
    for metric in (*METRICS, TOKEN_GAPS):
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

    title, names = METRICS.get(metric, TOKEN_GAPS_TITLE), labels(runs)
    data = [metric_values(run.records, metric) for run in runs]
    figure, axes = plt.subplots(figsize=(max(4.0, 1.4 * len(runs) + 2), 4.5), layout="constrained")
    axes.boxplot([values or [math.nan] for values in data], tick_labels=names, showmeans=True)
    approximate = metric in (*FROM_TOKEN_COUNTS, TOKEN_GAPS) and any(
        r.tokens_approximate for run in runs for r in run.records
    )
    axes.set_title(
        title + ("\napproximate: the server sent no token counts, stream events counted" if approximate else "")
    )
    axes.set_ylabel(title)
    load = "request rate" if any(run.request_rate is not None for run in runs) else "concurrency"
    axes.set_xlabel(f"target and {load}" if "\n" in "".join(names) else load)
    for position, values in enumerate(data, start=1):
        axes.annotate(f"n={len(values)}", (position, 0.99), xycoords=("data", "axes fraction"), ha="center", va="top")
    axes.grid(axis="y", alpha=0.3)
    return figure
