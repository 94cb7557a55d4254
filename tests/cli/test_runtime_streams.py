"""``bench`` and ``invoke`` against each runtime's stream, over both transports: vLLM and SGLang frame OpenAI chat
completions (a role-only first chunk, a usage-only last one; the R1 parser's thought in ``delta.reasoning`` for vLLM
since 2026, ``delta.reasoning_content`` for SGLang), which the emulator reproduces (``test_openai_framing.py``
proves it with the real ``openai`` client). The metrics must come within 5 % of the emulator's timings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tgi_emulator import R1_SCRIPT, THINK_END, Behaviour, ReasoningField, SageMakerRuntimeEmulator, TgiEmulator

from tgi_sagemaker.cli.command_line import main
from tgi_sagemaker.runtimes.runtime import ServingRuntime
from tgi_sagemaker.runtimes.sglang.runtime import Sglang
from tgi_sagemaker.runtimes.vllm.runtime import Vllm

TTFT, ITL, TOKENS = 0.5, 0.02, 30
EXPECTED = {"ttft_s": TTFT, "itl_s": ITL, "e2e_latency_s": TTFT + (TOKENS - 1) * ITL}
LOAD_ALLOWANCE = 1.5  # a busy machine adds to the server's timings, never takes from them (see test_bench.py)
WORKLOAD = ["--input-tokens", "64", "--output-tokens", "40", "--output-spread", "0", "--warmup", "1"]
# Where each server's R1 reasoning parser puts the thought (vLLM renamed reasoning_content in PR 27752 and removed it
# in PR 33402; SGLang's DeepSeekR1Detector keeps reasoning_content).
RUNTIMES: list[tuple[str, ServingRuntime, ReasoningField]] = [
    ("vllm", Vllm(), "reasoning"),
    ("sglang", Sglang(), "reasoning_content"),
]


def _frame_as(behaviour: Behaviour, reasoning_field: ReasoningField | None) -> None:
    behaviour.framing, behaviour.reasoning_field = "openai", reasoning_field
    behaviour.ttft_s, behaviour.itl_s, behaviour.output_tokens = TTFT, ITL, TOKENS


def _assert_within_5_percent_of_the_server(folder: Path) -> None:
    (level,) = json.loads((folder / "summary.json").read_text())["levels"]
    assert level["errors"] == 0 and level["mean_output_tokens"] == TOKENS  # from usage, not role or finish chunks
    for metric, expected in EXPECTED.items():
        measured = level["metrics"][metric]["p50"]
        assert expected * 0.95 <= measured <= expected * LOAD_ALLOWANCE, (metric, measured, expected)


@pytest.mark.parametrize(("name", "runtime", "reasoning_field"), RUNTIMES)
def test_bench_over_a_url(
    name: str, runtime: ServingRuntime, reasoning_field: ReasoningField, tgi: TgiEmulator, tmp_path: Path
) -> None:
    _frame_as(tgi.behaviour, reasoning_field)
    args = ["bench", "--url", tgi.url, "--api", runtime.stream_formats[0], "--requests", "6", "--concurrency", "2"]
    assert main([*args, *WORKLOAD, "--out", str(tmp_path)]) == 0
    _assert_within_5_percent_of_the_server(tmp_path)


@pytest.mark.parametrize(("name", "runtime", "reasoning_field"), RUNTIMES)
def test_bench_over_sagemaker(
    name: str,
    runtime: ServingRuntime,
    reasoning_field: ReasoningField,
    sagemaker: SageMakerRuntimeEmulator,
    tmp_path: Path,
) -> None:
    _frame_as(sagemaker.behaviour, reasoning_field)
    target = ["--endpoint", "tgi-endpoint:tgi-component", "--endpoint-url", sagemaker.url, "--region", "us-east-1"]
    args = ["bench", *target, "--api", runtime.stream_formats[0], "--requests", "6", "--concurrency", "2"]
    assert main([*args, *WORKLOAD, "--out", str(tmp_path)]) == 0
    _assert_within_5_percent_of_the_server(tmp_path)
    assert all("messages" in body for body in sagemaker.behaviour.requests)


@pytest.mark.parametrize(("name", "runtime", "reasoning_field"), RUNTIMES)
def test_invoke_over_sagemaker_shows_the_thought_apart(
    name: str,
    runtime: ServingRuntime,
    reasoning_field: ReasoningField,
    sagemaker: SageMakerRuntimeEmulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _frame_as(sagemaker.behaviour, reasoning_field)
    sagemaker.behaviour.ttft_s, sagemaker.behaviour.output_tokens = 0.01, len(R1_SCRIPT)
    target = ["--endpoint", "tgi-endpoint:tgi-component", "--endpoint-url", sagemaker.url, "--region", "us-east-1"]
    assert main(["invoke", *target, "--api", runtime.stream_formats[0], "hi"]) == 0
    out, err = capsys.readouterr()
    answer = "".join(R1_SCRIPT[R1_SCRIPT.index(THINK_END) + 1 :])
    assert out == answer.strip() + "\n"
    assert err.startswith("".join(R1_SCRIPT[: R1_SCRIPT.index(THINK_END)]))


def test_the_openai_client_reads_the_completions_stream(tgi: TgiEmulator) -> None:
    """The emulator's /v1/completions framing (vLLM's completion/serving.py) as the real openai client parses it."""
    import openai

    tgi.behaviour.output_tokens = len(R1_SCRIPT)
    client = openai.OpenAI(base_url=f"{tgi.url}/v1", api_key="unused", max_retries=0)
    stream = client.completions.create(
        model="emulator", prompt="one two three", max_tokens=50, stream=True, stream_options={"include_usage": True}
    )
    *tokens, usage = list(stream)
    assert "".join(chunk.choices[0].text for chunk in tokens) == "".join(R1_SCRIPT)  # no parser: </think> included
    assert [chunk.choices[0].finish_reason for chunk in tokens][-2:] == [None, "stop"]
    assert usage.choices == [] and usage.usage is not None
    assert (usage.usage.prompt_tokens, usage.usage.completion_tokens) == (3, len(R1_SCRIPT))


@pytest.mark.parametrize("transport", ["url", "sagemaker"])
def test_bench_and_invoke_with_raw_completions(
    transport: str,
    tgi: TgiEmulator,
    sagemaker: SageMakerRuntimeEmulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert "completions" in Vllm.stream_formats
    server: TgiEmulator | SageMakerRuntimeEmulator = tgi if transport == "url" else sagemaker
    _frame_as(server.behaviour, None)
    target = (
        ["--url", tgi.url]
        if transport == "url"
        else ["--endpoint", "tgi-endpoint:tgi-component", "--endpoint-url", sagemaker.url, "--region", "us-east-1"]
    )
    args = ["bench", *target, "--api", "completions", "--requests", "6", "--concurrency", "2", *WORKLOAD]
    assert main([*args, "--out", str(tmp_path)]) == 0
    _assert_within_5_percent_of_the_server(tmp_path)
    assert all("prompt" in body and "messages" not in body for body in server.behaviour.requests)
    server.behaviour.ttft_s, server.behaviour.output_tokens = 0.01, len(R1_SCRIPT)
    capsys.readouterr()
    assert main(["invoke", *target, "--api", "completions", "hi"]) == 0
    out, err = capsys.readouterr()
    assert out == "".join(R1_SCRIPT[R1_SCRIPT.index(THINK_END) + 1 :]).strip() + "\n"  # split from the raw text
    assert err.startswith("".join(R1_SCRIPT[: R1_SCRIPT.index(THINK_END)]))
