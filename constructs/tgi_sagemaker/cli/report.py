"""``tgi-sagemaker report``: several bench result folders side by side, the cheapest target that meets the SLOs
at each load, and two plots: throughput against latency (one curve a target, a point a load level) and cost per
1M output tokens against p90 TTFT.

A level meets the SLOs when the chosen percentile of each metric is within its bound and its error rate is
within ``--max-error-rate``; the comparison is only as good as the folders: the same workload and seed on every
target (``bench`` records its command in each ``summary.json``; the report shows them when they differ).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tgi_sagemaker.cli.bench_metrics import SLO_METRICS, Objectives, percentile_key


@dataclass(frozen=True)
class Level:
    """One bench level as a summary.json holds it, named by the target (its folder's name when two clash)."""

    target: str
    load: str
    figures: Mapping[str, Any]

    def metric(self, name: str, statistic: str) -> float | None:
        value = self.figures.get("metrics", {}).get(name, {}).get(statistic)
        return None if value is None else float(value)

    @property
    def combined(self) -> bool:
        """A ``bench --mixed`` level of every target at once: the endpoint's figures, not a target to choose."""
        return bool(self.figures.get("combined"))

    @property
    def percentiles(self) -> tuple[float, ...] | None:
        """The percentiles bench recorded for this level (bench --percentiles); from the metrics' columns when a
        summary.json does not list them; None when it has neither."""
        recorded = self.figures.get("percentiles")
        if recorded is not None:
            return tuple(float(q) for q in recorded)
        columns = {key for figures in self.figures.get("metrics", {}).values() for key in figures}
        found = tuple(sorted(float(key[1:]) for key in columns if key.startswith("p") and _is_number(key[1:])))
        return found or None

    @property
    def usd_per_million_output_tokens(self) -> float | None:
        cost = self.figures.get("cost") or {}
        value = cost.get("usd_per_million_output_tokens")
        return None if value is None else float(value)


def load_levels(folders: Sequence[Path]) -> tuple[list[Level], dict[str, str]]:
    """Every level of every folder, and the bench command of each workload (one entry when every folder ran
    the same workload). Raises ``ValueError`` naming each folder that holds no summary.json."""
    summaries = []
    problems = []
    for folder in folders:
        path = folder / "summary.json"
        if not path.is_file():
            problems.append(f"{folder}: no summary.json. Fix: pass folders that bench --out wrote")
            continue
        summaries.append((folder, json.loads(path.read_text())))
    if problems:
        raise ValueError("\n".join(problems))
    names = [level["target"] for _, summary in summaries for level in summary["levels"]]
    levels = []
    for folder, summary in summaries:
        for level in summary["levels"]:
            target = level["target"]
            clash = names.count(target) > sum(1 for other in summary["levels"] if other["target"] == target)
            name = f"{folder.name}/{target}" if clash else target
            levels.append(Level(name, level.get("load", f"c={level['concurrency']}"), level))
    workloads = {json.dumps(summary.get("workload"), sort_keys=True): summary["command"] for _, summary in summaries}
    return levels, workloads


@dataclass(frozen=True)
class Verdict:
    level: Level
    meets: bool
    misses: tuple[str, ...]  # what it missed, in words
    unjudged: tuple[str, ...] = ()  # SLO metrics its folder has no figure for at the percentile: neither met nor missed

    @property
    def status(self) -> str:
        """The SLOs column: met, missed (and why), or not judged (the percentile was not recorded)."""
        parts = ["missed: " + "; ".join(self.misses)] if self.misses else []
        if self.unjudged:
            statistic = self.unjudged[0].split()[0]
            parts.append(f"not judged: no {statistic} {', '.join(u.split()[1] for u in self.unjudged)} recorded")
        return "; ".join(parts) or "met"


def judge(level: Level, objectives: Objectives, *, at: float, max_error_rate: float) -> Verdict:
    """Whether a level meets every SLO at the ``at`` percentile, with at most ``max_error_rate`` errors. An SLO
    whose percentile the level did not record (bench --percentiles) is not judged: neither met nor missed."""
    statistic = percentile_key(at)
    recorded = level.percentiles
    misses, unjudged = [], []
    for name, bound in objectives.slos.items():
        value = level.metric(SLO_METRICS[name], statistic)
        if recorded is not None and at not in recorded:
            unjudged.append(f"{statistic} {name}")
        elif value is None:
            misses.append(f"no {statistic} {name} measured")
        elif value > bound:
            misses.append(f"{statistic} {name} {value:.3g} s > {bound:g} s")
    error_rate = float(level.figures.get("error_rate", 0.0))
    if error_rate > max_error_rate:
        misses.append(f"error rate {error_rate:.0%} > {max_error_rate:.0%}")
    return Verdict(level, not misses and not unjudged, tuple(misses), tuple(unjudged))


def recorded_percentiles(levels: Sequence[Level]) -> list[float]:
    """The percentiles every level recorded (bench --percentiles), so a report can say which it can judge at."""
    sets = [set(level.percentiles) for level in levels if level.percentiles is not None]
    return sorted(set.intersection(*sets)) if sets else []


def cheapest_by_load(verdicts: Sequence[Verdict]) -> dict[str, Verdict | None]:
    """At each load, the passing level with the lowest cost per 1M output tokens (None: none passes, or none
    passing has a cost). A ``bench --mixed`` combined level is no candidate: it is its targets together."""
    by_load: dict[str, list[Verdict]] = {}
    for verdict in verdicts:
        if not verdict.level.combined:
            by_load.setdefault(verdict.level.load, []).append(verdict)
    best: dict[str, Verdict | None] = {}
    for load, candidates in by_load.items():
        priced = [v for v in candidates if v.meets and v.level.usd_per_million_output_tokens is not None]
        best[load] = min(priced, key=lambda v: v.level.usd_per_million_output_tokens or 0.0) if priced else None
    return best


def report_lines(verdicts: Sequence[Verdict], objectives: Objectives, *, at: float) -> list[str]:
    slos = ", ".join(f"{name} <= {bound:g} s" for name, bound in objectives.slos.items()) or "none given"
    lines = [f"SLOs at p{at:g}: {slos}", ""]
    header = ("target", "load", "out tok/s", f"p{at:g} TTFT s", f"p{at:g} E2E s", "errors", "$/1M out tok", "SLOs")
    rows = [header]
    for verdict in verdicts:
        level = verdict.level
        cost = level.usd_per_million_output_tokens
        rows.append(
            (
                level.target,
                level.load,
                f"{float(level.figures['output_tokens_per_s']):.1f}",
                _figure(level.metric("ttft_s", percentile_key(at))),
                _figure(level.metric("e2e_latency_s", percentile_key(at))),
                f"{float(level.figures.get('error_rate', 0)):.0%}",
                "-" if cost is None else f"{cost:,.2f}",
                verdict.status,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines += [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows
    ]
    lines.append("")
    prices = {v.level.target: (v.level.figures.get("cost") or {}).get("price") for v in verdicts}
    lines += [f"price of {target}: {price}" for target, price in prices.items() if price]
    for load, best in cheapest_by_load(verdicts).items():
        at_load = [v for v in verdicts if v.level.load == load and not v.level.combined]
        met = [v.level.target for v in at_load if v.meets]
        unjudged = [v.level.target for v in at_load if v.unjudged and not v.misses]
        if best is None and not met and unjudged:
            missed = [v.level.target for v in at_load if v.misses]
            verdict_text = f"{', '.join(missed)} missed the SLOs; " if missed else ""
            lines.append(f"at {load}: {verdict_text}{', '.join(unjudged)} could not be judged (no p{at:g})")
        elif best is None and not met:
            lines.append(f"at {load}: no target met the SLOs")
        elif best is None:
            lines.append(f"at {load}: {', '.join(met)} met the SLOs, without a cost figure (bench --instance, a price)")
        else:
            cost = best.level.usd_per_million_output_tokens
            lines.append(
                f"at {load}: cheapest meeting the SLOs is {best.level.target}, ${cost:,.2f} per 1M output tokens"
            )
    for verdict in verdicts:
        if verdict.level.combined:
            cost = verdict.level.usd_per_million_output_tokens
            figure = "" if cost is None else f", ${cost:,.2f} per 1M output tokens"
            verdict_text = "met the SLOs" if verdict.meets else "missed the SLOs" if verdict.misses else "not judged"
            where = f"{verdict.level.target} at {verdict.level.load} (all at once, one endpoint)"
            lines.append(f"{where}: {verdict_text}{figure}")
    if any(verdict.unjudged for verdict in verdicts):
        lines.append(_percentile_fix([verdict.level for verdict in verdicts], at))
    return lines


def _percentile_fix(levels: Sequence[Level], at: float) -> str:
    """Which percentiles the folders do have, and the two ways to judge the SLOs."""
    recorded = recorded_percentiles(levels)
    bench_fix = f"or bench again with --percentiles including {at:g}"
    if not recorded:
        return f"not judged: the folders record no percentile in common. Fix: {bench_fix}"
    nearest = min(recorded, key=lambda q: (abs(q - at), -q))
    have = ", ".join(f"p{q:g}" for q in recorded)
    return (
        f"not judged: these folders record {have}, not p{at:g}. "
        f"Fix: report --slo-percentile {nearest:g} (one of {', '.join(f'{q:g}' for q in recorded)}), {bench_fix}"
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def write_report(folder: Path, verdicts: Sequence[Verdict], lines: Sequence[str], *, at: float) -> list[Path]:
    """report.txt, comparison.csv (one row a target and load), and the two plots."""
    folder.mkdir(parents=True, exist_ok=True)
    text = folder / "report.txt"
    text.write_text("\n".join(lines) + "\n")
    table = folder / "comparison.csv"
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        statistic = percentile_key(at)
        latency = [f"ttft_s_{statistic}", f"e2e_latency_s_{statistic}"]
        writer.writerow(
            [
                "target",
                "load",
                "output_tokens_per_s",
                *latency,
                "error_rate",
                "usd_per_million_output_tokens",
                "meets_slos",
            ]
        )
        for verdict in verdicts:
            level = verdict.level
            writer.writerow(
                [
                    level.target,
                    level.load,
                    level.figures["output_tokens_per_s"],
                    level.metric("ttft_s", percentile_key(at)),
                    level.metric("e2e_latency_s", percentile_key(at)),
                    level.figures.get("error_rate", 0),
                    level.usd_per_million_output_tokens,
                    verdict.meets,
                ]
            )
    return [text, table, *plot_report(folder, [verdict.level for verdict in verdicts], at=at)]


def plot_report(folder: Path, levels: Sequence[Level], *, at: float) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    statistic = percentile_key(at)
    targets = list(dict.fromkeys(level.target for level in levels))
    written = []
    figure, axes = plt.subplots(figsize=(7.5, 5), layout="constrained")
    for target in targets:
        points = [
            (float(level.figures["output_tokens_per_s"]), e2e, level.load)
            for level in levels
            if level.target == target and (e2e := level.metric("e2e_latency_s", statistic)) is not None
        ]
        combined = any(level.combined for level in levels if level.target == target)
        label = f"{target} (all at once)" if combined else target
        axes.plot([p[0] for p in points], [p[1] for p in points], "o--" if combined else "o-", label=label)
        for x, y, load in points:
            axes.annotate(load, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    axes.set_xlabel("throughput (output tokens/s, all requests of the level)")
    axes.set_ylabel(f"{statistic} end-to-end latency (s)")
    axes.set_title("Throughput vs latency: one curve a target, a point a load level")
    axes.grid(alpha=0.3)
    axes.legend(title="target")
    written.append(_save(figure, folder / "throughput_vs_latency.png"))
    figure, axes = plt.subplots(figsize=(7.5, 5), layout="constrained")
    priced = False
    for target in targets:
        points = [
            (ttft, cost, level.load)
            for level in levels
            if level.target == target
            and (ttft := level.metric("ttft_s", statistic)) is not None
            and (cost := level.usd_per_million_output_tokens) is not None
        ]
        priced = priced or bool(points)
        axes.scatter([p[0] for p in points], [p[1] for p in points], label=target)
        for x, y, load in points:
            axes.annotate(load, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    axes.set_xlabel(f"{statistic} time to first token (s)")
    axes.set_ylabel("cost per 1M output tokens (USD)")
    axes.set_title("Cost vs responsiveness: lower left is better" if priced else "no cost figures in these results")
    axes.grid(alpha=0.3)
    if priced:
        axes.legend(title="target")
    written.append(_save(figure, folder / "cost_vs_ttft.png"))
    return written


def _save(figure: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
