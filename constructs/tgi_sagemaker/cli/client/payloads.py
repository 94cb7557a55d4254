"""Request bodies for TGI's two streaming APIs, and how to read what each streams back.

``messages``: OpenAI-style chat; TGI applies the model's chat template and, with
``stream_options.include_usage``, sends a last chunk whose ``usage`` holds the server's own token counts.
A chunk is a token when its delta carries text: ``content``, or reasoning that a server's reasoning parser puts
in ``reasoning_content`` (SGLang, vLLM before 2026) or ``reasoning`` (vLLM since January 2026). vLLM, SGLang and
``transformers serve`` also send a first chunk with only ``delta.role`` (before any token is generated) and a
last one with only ``finish_reason``/``usage``: neither is a token.
``generate``: TGI's native API; the last event's ``details`` holds ``generated_tokens`` and ``input_length``.
``completions``: OpenAI completions (vLLM): a raw prompt, no chat template; each chunk's ``choices[0].text`` is a
token, and ``stream_options.include_usage`` adds a last chunk with only ``usage``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tgi_sagemaker.runtimes.runtime import StreamFormat
from tgi_sagemaker.runtimes.tgi.runtime import Tgi

Api = StreamFormat
# What the endpoints this library deploys serve, the default first: TGI's, then what only another runtime serves.
APIS: tuple[Api, ...] = (*Tgi.stream_formats, "completions")
DONE = "[DONE]"
REASONING_FIELDS = ("reasoning_content", "reasoning")  # SGLang and vLLM before 2026; vLLM since January 2026


@dataclass(frozen=True)
class Sampling:
    max_new_tokens: int
    temperature: float = 0.6  # DeepSeek's advice for R1 and its distills: 0.5-0.7
    top_p: float = 0.95
    seed: int | None = None


def request_body(api: Api, prompt: str, sampling: Sampling, *, system: str | None = None) -> dict[str, Any]:
    if api in ("messages", "completions"):  # OpenAI framing: the same sampling and stream fields for both
        body: dict[str, Any] = {
            "max_tokens": sampling.max_new_tokens,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if sampling.seed is not None:
            body["seed"] = sampling.seed
        if api == "completions":
            return {"prompt": f"{system}\n\n{prompt}" if system else prompt, **body}
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
        return {"messages": messages, **body}
    parameters: dict[str, Any] = {
        "max_new_tokens": sampling.max_new_tokens,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "do_sample": sampling.temperature > 0,
        "details": True,
    }
    if sampling.seed is not None:
        parameters["seed"] = sampling.seed
    inputs = f"{system}\n\n{prompt}" if system else prompt
    return {"inputs": inputs, "parameters": parameters, "stream": True}


@dataclass(frozen=True)
class StreamEvent:
    """One server-sent event, reduced to what a client needs."""

    text: str = ""
    reasoning: str = ""  # the thought, when the server's reasoning parser sends it apart from the content
    is_token: bool = False
    generated_tokens: int | None = None
    input_tokens: int | None = None
    finish_reason: str | None = None
    error: str | None = None
    done: bool = False


def parse_event(api: Api, data: str) -> StreamEvent:
    if data.strip() == DONE:
        return StreamEvent(done=True)
    try:
        event = json.loads(data)
    except json.JSONDecodeError as error:
        return StreamEvent(error=f"not JSON from the server ({error}): {data[:200]!r}")
    if not isinstance(event, dict):
        return StreamEvent(error=f"unexpected event from the server: {data[:200]!r}")
    if "error" in event:  # TGI reports failures mid-stream as an event with "error" and "error_type"
        kind = event.get("error_type")
        return StreamEvent(error=f"{kind}: {event['error']}" if kind else str(event["error"]))
    if api == "completions":
        return _completion_chunk(event)
    return _chat_chunk(event) if api == "messages" else _generate_event(event)


def _chat_chunk(event: dict[str, Any]) -> StreamEvent:
    usage = event.get("usage") or {}
    choices = event.get("choices") or []
    if not choices:
        return StreamEvent(
            generated_tokens=usage.get("completion_tokens"), input_tokens=usage.get("prompt_tokens"), done=False
        )
    choice = choices[0]
    delta = choice.get("delta") or {}
    text = delta.get("content") or ""
    reasoning = next((value for key in REASONING_FIELDS if isinstance(value := delta.get(key), str) and value), "")
    return StreamEvent(
        text=text,
        reasoning=reasoning,
        is_token=bool(text or reasoning),
        finish_reason=choice.get("finish_reason"),
        generated_tokens=usage.get("completion_tokens"),
        input_tokens=usage.get("prompt_tokens"),
    )


def _completion_chunk(event: dict[str, Any]) -> StreamEvent:
    usage = event.get("usage") or {}
    choices = event.get("choices") or []
    choice = choices[0] if choices else {}
    text = choice.get("text") or ""
    return StreamEvent(
        text=text,
        is_token=bool(text),
        finish_reason=choice.get("finish_reason"),
        generated_tokens=usage.get("completion_tokens"),
        input_tokens=usage.get("prompt_tokens"),
    )


def _generate_event(event: dict[str, Any]) -> StreamEvent:
    token = event.get("token") or {}
    details = event.get("details") or {}
    return StreamEvent(
        text="" if token.get("special") else token.get("text", ""),
        is_token="token" in event,
        generated_tokens=details.get("generated_tokens"),
        input_tokens=details.get("input_length"),
        finish_reason=details.get("finish_reason"),
        done=event.get("generated_text") is not None,
    )
