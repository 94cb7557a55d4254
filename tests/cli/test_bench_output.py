"""What ``bench`` and ``catalog`` say, and where: progress lines in a log as it goes, nothing cut at 80 columns,
prompt lengths calibrated on the server's counts, and token counts a server did not send marked approximate."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from tgi_emulator import Behaviour, SageMakerRuntimeEmulator, TgiEmulator

from tgi_sagemaker.cli.bench_runner import run_bench_session
from tgi_sagemaker.cli.bench_workload import Workload
from tgi_sagemaker.cli.client.transports import TgiUrlTransport
from tgi_sagemaker.cli.command_line import _compact_fits, main
from tgi_sagemaker.cli.plan import catalog_entries

INSTRUCTION_WORDS = 13  # bench_workload.INSTRUCTION, as the emulator counts prompt tokens: by word
CLI = [sys.executable, "-m", "tgi_sagemaker.cli"]


def _piped_env() -> dict[str, str]:
    """The environment of a command whose output goes to a pipe, a file or a CI log (no COLUMNS set)."""
    return {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}


def _summary(folder: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((folder / "summary.json").read_text())
    return summary


def test_a_log_gets_a_line_a_step_as_it_happens(sagemaker: SageMakerRuntimeEmulator, tmp_path: Path) -> None:
    """stderr to a pipe: the wake-up waits and the level show up while they happen, not when the run ends."""
    sagemaker.behaviour = Behaviour(ttft_s=0.5, itl_s=0.02, output_tokens=10)
    sagemaker.behaviour.failures.extend(["no_capacity", "no_capacity"])
    target = ["--endpoint", "tgi-endpoint:tgi-component", "--endpoint-url", sagemaker.url, "--region", "us-east-1"]
    args = [*target, "--requests", "4", "--input-tokens", "32", "--wake-up-interval", "0.3", "--out", str(tmp_path)]
    process = subprocess.Popen(
        [*CLI, "bench", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_piped_env()
    )
    seen: list[tuple[str, int]] = []  # each line, with how many requests the server had had when it came

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            seen.append((line.rstrip("\n"), len(sagemaker.behaviour.requests)))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert process.wait(timeout=60) == 0
    reader.join(timeout=10)
    waits = [count for line, count in seen if "no capacity (scaled to zero), waking up: waited" in line]
    assert len(waits) == 2 and max(waits) <= 2  # printed while waiting, before the copy answered
    (started,) = [count for line, count in seen if line.endswith("c=1: 4 requests, 1 in flight")]
    assert any("c=1: 4/4 done, 0 errors" in line for line, _ in seen)
    assert started <= 3 + 2 + 1  # the warm-up (3 tries), two probes, at most the first measured request
    (headline,) = [line for line, _ in seen if "at concurrency 1: 4/4 ok" in line]
    assert "output tokens/s" in headline and "input tokens: target 32, actual 32" in headline  # one line, uncut


def test_catalog_piped_to_a_file_keeps_a_row_a_line() -> None:
    result = subprocess.run([*CLI, "catalog"], capture_output=True, text=True, env=_piped_env(), check=True)
    lines = result.stdout.splitlines()
    for entry in catalog_entries():
        name = entry["repo_id"].removeprefix("deepseek-ai/")
        (row,) = [line for line in lines if f" {name} " in line]
        assert _compact_fits(entry["fits"]) in row
        if entry["defaults"]:
            assert entry["defaults"]["instance_type"] in row


def test_prompt_lengths_are_calibrated_on_the_servers_counts(tgi: TgiEmulator, tmp_path: Path) -> None:
    """A tokenizer of 3 tokens a word and a 20-token chat template: 256 words would have been 827 tokens."""
    tgi.behaviour = Behaviour(prompt_tokens_per_word=3, template_tokens=20, output_tokens=5)
    args = ["bench", "--url", tgi.url, "--requests", "3", "--input-tokens", "256", "--output-tokens", "5"]
    assert main([*args, "--out", str(tmp_path)]) == 0
    summary = _summary(tmp_path)
    calibration = summary["prompt_calibration"][tgi.url]
    assert calibration["calibrated"] is True and calibration["tokens_per_word"] == 3
    assert calibration["overhead_tokens"] == 20 + 3 * INSTRUCTION_WORDS
    (level,) = summary["levels"]
    assert level["mean_target_input_tokens"] == 256
    assert level["mean_input_tokens"] == pytest.approx(256, abs=1.5)  # a word is 3 tokens: within one word


def test_without_a_warm_up_the_lengths_are_not_calibrated_and_say_so(
    tgi: TgiEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tgi.behaviour = Behaviour(prompt_tokens_per_word=3, template_tokens=20, output_tokens=5)
    args = ["bench", "--url", tgi.url, "--requests", "2", "--input-tokens", "256", "--warmup", "0"]
    assert main([*args, "--out", str(tmp_path)]) == 0
    summary = _summary(tmp_path)
    assert summary["prompt_calibration"][tgi.url]["note"].startswith("not calibrated (--warmup 0)")
    (level,) = summary["levels"]
    actual = 20 + 3 * (256 + INSTRUCTION_WORDS)
    assert level["mean_input_tokens"] == actual
    assert f"input tokens: target 256, actual {actual}" in capsys.readouterr().err


@pytest.mark.parametrize("api", ["messages", "generate"])
def test_a_server_without_token_counts_gets_approximate_figures(
    tgi: TgiEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], api: str
) -> None:
    tokens = 12
    tgi.behaviour = Behaviour(token_counts=False, output_tokens=tokens, framing="openai")
    args = ["bench", "--url", tgi.url, "--api", api, "--requests", "3", "--input-tokens", "8", "--out", str(tmp_path)]
    assert main(args) == 0
    (level,) = _summary(tmp_path)["levels"]
    assert (level["succeeded"], level["approximate_token_counts"], level["mean_output_tokens"]) == (3, 3, tokens)
    assert level["metrics"]["itl_s"]["p50"] > 0
    with (tmp_path / "requests.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {(row["tokens_approximate"], row["generated_tokens"], row["error"]) for row in rows} == {
        ("True", str(tokens), "")
    }
    err = " ".join(capsys.readouterr().err.split())
    assert "token counts approximate for 3 requests (the server sent none: stream events counted)" in err
    assert "~Inter-token latency, per request (ms)" in err and "~Throughput per request" in err
    note = _summary(tmp_path)["prompt_calibration"][tgi.url]["note"]
    assert note.startswith("not calibrated (the server sent no prompt token counts)")
    assert main(["invoke", "--url", tgi.url, "--api", api, "hello"]) == 0
    assert f"~{tokens} output tokens (stream events counted: no counts from the server)" in capsys.readouterr().err


def test_a_terminal_gets_a_bar_a_level_and_the_same_results(tgi: TgiEmulator, tmp_path: Path) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, color_system=None, width=200)
    workload = Workload(requests=3, input_tokens=32, concurrency_levels=(1, 2))
    code = run_bench_session(
        [TgiUrlTransport(tgi.url, label="emulated")],
        workload,
        folder=tmp_path,
        command="test",
        wake_up_timeout_s=5,
        wake_up_interval_s=0.1,
        console=terminal,
        stop=threading.Event(),
    )
    assert code == 0
    shown = screen.getvalue()
    assert "emulated warm-up, prompt lengths calibrated on the server's prompt counts" in shown
    assert "emulated c=1" in shown and "emulated c=2" in shown and "3/3" in shown
    assert [level["succeeded"] for level in _summary(tmp_path)["levels"]] == [3, 3]
