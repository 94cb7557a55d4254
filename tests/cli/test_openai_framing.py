"""OpenAI-style streams (vLLM, SGLang, ``transformers serve``): the emulator frames them as those servers do, which
the real ``openai`` client proves, and the CLI counts as tokens only the chunks that carry text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest
from tgi_emulator import R1_SCRIPT, THINK_END, Behaviour, ReasoningField, TgiEmulator

from tgi_sagemaker.cli.client.streaming import stream_completion
from tgi_sagemaker.cli.client.transports import TgiUrlTransport
from tgi_sagemaker.cli.command_line import main

THOUGHT = R1_SCRIPT[: R1_SCRIPT.index(THINK_END)]
ANSWER = R1_SCRIPT[R1_SCRIPT.index(THINK_END) + 1 :]


def _openai_chunks(tgi: TgiEmulator, max_tokens: int) -> list[Any]:
    client = openai.OpenAI(base_url=f"{tgi.url}/v1", api_key="unused", max_retries=0)
    stream = client.chat.completions.create(
        model="emulator",
        messages=[{"role": "user", "content": "one two three"}],
        max_tokens=max_tokens,
        stream=True,
        stream_options={"include_usage": True},
    )
    return list(stream)


@pytest.mark.parametrize("reasoning_field", [None, "reasoning_content", "reasoning"])
def test_the_openai_client_reads_role_tokens_finish_and_usage(
    tgi: TgiEmulator, reasoning_field: ReasoningField | None
) -> None:
    tgi.behaviour.framing, tgi.behaviour.reasoning_field = "openai", reasoning_field
    tokens = len(R1_SCRIPT)
    role, *middle, finish, usage = _openai_chunks(tgi, tokens)
    assert (role.choices[0].delta.role, role.choices[0].delta.content) == ("assistant", None)
    assert (finish.choices[0].delta.content, finish.choices[0].delta.role) == (None, None)
    assert finish.choices[0].finish_reason == "length"
    assert usage.choices == [] and (usage.usage.completion_tokens, usage.usage.prompt_tokens) == (tokens, 3)
    assert all(chunk.usage is None for chunk in [role, *middle, finish])  # include_usage: only the last has it
    content = "".join(chunk.choices[0].delta.content or "" for chunk in middle)
    if reasoning_field is None:
        assert content == "".join(R1_SCRIPT) and len(middle) == tokens
        return
    thought = [getattr(chunk.choices[0].delta, reasoning_field, None) for chunk in middle]  # an extra field
    assert "".join(text for text in thought if text) == "".join(THOUGHT)
    assert content == "".join(ANSWER)
    assert len(middle) == tokens - 1  # the parser swallows </think>: its step sends nothing


def test_bench_times_the_first_and_last_chunk_that_carry_text(tgi: TgiEmulator, tmp_path: Path) -> None:
    """The role chunk comes at once and the finish chunk right after the last token: neither is a token."""
    ttft, itl, tokens = 0.4, 0.02, 25
    tgi.behaviour = Behaviour(framing="openai", ttft_s=ttft, itl_s=itl, output_tokens=tokens)
    args = ["bench", "--url", tgi.url, "--requests", "4", "--input-tokens", "16", "--output-tokens", "40"]
    assert main([*args, "--output-spread", "0", "--out", str(tmp_path)]) == 0
    (level,) = json.loads((tmp_path / "summary.json").read_text())["levels"]
    ttft_p50, itl_p50 = level["metrics"]["ttft_s"]["p50"], level["metrics"]["itl_s"]["p50"]
    assert ttft * 0.95 <= ttft_p50 <= ttft * 1.5, ttft_p50  # from the role chunk it would be about 0
    assert itl * 0.95 <= itl_p50 <= itl * 1.5, itl_p50
    requests = json.loads((tmp_path / "requests.json").read_text())
    assert {(r["token_events"], r["generated_tokens"], r["tokens_approximate"]) for r in requests} == {
        (tokens, tokens, False)
    }


@pytest.mark.parametrize("reasoning_field", ["reasoning_content", "reasoning"])
def test_reasoning_sent_apart_is_timed_and_shown_as_reasoning(
    tgi: TgiEmulator, reasoning_field: ReasoningField, capsys: pytest.CaptureFixture[str]
) -> None:
    tgi.behaviour.framing, tgi.behaviour.reasoning_field = "openai", reasoning_field
    tgi.behaviour.ttft_s, tgi.behaviour.output_tokens = 0.3, len(R1_SCRIPT)
    body = {"messages": [{"role": "user", "content": "hi"}], "stream": True, "stream_options": {"include_usage": True}}
    completion = stream_completion(TgiUrlTransport(tgi.url), "messages", body)
    assert completion.reasoning == "".join(THOUGHT) and completion.text == "".join(ANSWER)
    assert completion.ttft_s is not None and completion.ttft_s >= 0.3 * 0.95  # the first thought is the first token
    assert (completion.token_events, completion.generated_tokens) == (len(R1_SCRIPT) - 1, len(R1_SCRIPT))
    assert main(["invoke", "--url", tgi.url, "hi"]) == 0
    out, err = capsys.readouterr()
    assert out == "".join(ANSWER).strip() + "\n"  # the answer alone on stdout, its leading blank line dropped
    assert err.startswith("".join(THOUGHT))  # the thought on stderr, not repeated as an answer
    assert "no </think> came" not in err
