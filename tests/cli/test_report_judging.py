"""``report`` on folders that lack the SLO percentile: not judged (not "missed"), with the percentiles they have and
the fix; the same folder twice is read once, said."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tgi_sagemaker.cli.command_line import main


def _level(target: str, percentiles: list[float], ttft: float) -> dict[str, Any]:
    figures = {f"p{q:g}": ttft for q in percentiles}
    return {
        "target": target,
        "concurrency": 1,
        "load": "c=1",
        "percentiles": percentiles,
        "output_tokens_per_s": 78.1,
        "error_rate": 0.0,
        "metrics": {"ttft_s": figures, "e2e_latency_s": {key: ttft + 5 for key in figures}},
        "cost": {"usd_per_million_output_tokens": 6.62},
    }


def _folder(tmp_path: Path, name: str, percentiles: list[float], ttft: float = 0.2) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    summary = {"command": "tgi-sagemaker bench", "workload": {"seed": 0}, "levels": [_level(name, percentiles, ttft)]}
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def test_slos_at_a_percentile_not_recorded_are_not_judged_and_the_fix_names_those_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    g6e, g5 = _folder(tmp_path, "g6e", [50, 95]), _folder(tmp_path, "g5", [50, 95, 99])
    slos = ["--slo", "ttft=0.5", "--slo", "e2e=10"]
    assert main(["report", str(g6e), str(g5), *slos, "--out", str(tmp_path / "report")]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith(("g6e ", "g5 "))]
    assert len(rows) == 2
    assert all(row.endswith("not judged: no p90 ttft, e2e recorded") and "missed" not in row for row in rows)
    assert "at c=1: g6e, g5 could not be judged (no p90)" in out
    assert "no target met the SLOs" not in out
    assert "these folders record p50, p95, not p90. Fix: report --slo-percentile 95 (one of 50, 95)" in out
    assert "or bench again with --percentiles including 90" in out


def test_a_percentile_the_folders_have_judges_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fast, slow = _folder(tmp_path, "fast", [50, 95]), _folder(tmp_path, "slow", [50, 95], ttft=0.9)
    args = ["report", str(fast), str(slow), "--slo", "ttft=0.5", "--slo-percentile", "95"]
    assert main([*args, "--out", str(tmp_path / "report")]) == 0
    out = capsys.readouterr().out
    assert "not judged" not in out
    assert "missed: p95 ttft 0.9 s > 0.5 s" in out
    assert "at c=1: cheapest meeting the SLOs is fast" in out


def test_a_level_missing_one_slo_and_unjudged_on_another_counts_as_missed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, "g6e", [50, 95])
    summary = json.loads((folder / "summary.json").read_text())
    summary["levels"][0]["error_rate"] = 0.5
    (folder / "summary.json").write_text(json.dumps(summary))
    assert main(["report", str(folder), "--slo", "ttft=0.5", "--out", str(tmp_path / "report")]) == 0
    out = capsys.readouterr().out
    assert "missed: error rate 50% > 0%; not judged: no p90 ttft recorded" in out
    assert "at c=1: no target met the SLOs" in out


def test_the_same_folder_twice_is_read_once_and_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    g6e = _folder(tmp_path, "g6e", [50, 90])
    again = tmp_path / "." / "g6e"
    assert main(["report", str(g6e), str(again), "--slo", "ttft=0.5", "--out", str(tmp_path / "report")]) == 0
    captured = capsys.readouterr()
    assert f"note: {again} given twice (as {g6e}): read once" in captured.err
    rows = [line for line in captured.out.splitlines() if line.startswith("g6e")]
    assert len(rows) == 1 and "g6e/g6e" not in captured.out
