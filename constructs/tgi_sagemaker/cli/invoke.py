"""``tgi-sagemaker invoke``: stream one answer, reasoning apart, riding out a scaled-to-zero wake-up."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.status import Status

from tgi_sagemaker.cli.client.payloads import Api, Sampling, request_body
from tgi_sagemaker.cli.client.reasoning import ReasoningSplitter, Segment
from tgi_sagemaker.cli.client.streaming import Completion, WakeUpWait, call_waking_up, stream_completion
from tgi_sagemaker.cli.client.transports import EndpointError, Transport
from tgi_sagemaker.cli.consoles import INTERRUPTED


@dataclass(frozen=True)
class InvokeOptions:
    prompt: str
    api: Api = "messages"
    sampling: Sampling = field(default_factory=lambda: Sampling(max_new_tokens=2048))
    system: str | None = None
    split_reasoning: bool = True
    show_reasoning: bool = True
    wake_up_timeout_s: float = 900.0
    wake_up_interval_s: float = 15.0


def invoke(transport: Transport, options: InvokeOptions, *, out: Console, err: Console) -> int:
    """The answer goes to ``out`` (stdout: pipe it), reasoning dimmed, status and figures to ``err``.

    Exit code: 0 answered, 1 failed (one line says why), 130 stopped by Ctrl-C (streaming or waiting for a copy).
    """
    body = request_body(options.api, options.prompt, options.sampling, system=options.system)
    printer = _SplitPrinter(options, out=out, err=err)
    status: Status | None = None

    def on_wait(wait: WakeUpWait) -> None:
        nonlocal status
        message = (
            f"[yellow]{transport.target} has no capacity (scaled to zero): a copy is starting. "
            f"{wait.describe().capitalize()}[/]"
        )
        if not err.is_terminal:  # a log (CI, pipeline): one line a retry
            err.print(message)
        elif status is None:
            status = err.status(message)
            status.start()
        else:
            status.update(message)

    def call() -> Completion:
        return stream_completion(
            transport, options.api, body, on_text=printer.feed, on_reasoning=printer.feed_reasoning
        )

    try:
        completion = call_waking_up(
            call, deadline_s=options.wake_up_timeout_s, interval_s=options.wake_up_interval_s, on_wait=on_wait
        )
    except EndpointError as error:
        printer.abandon()
        err.print(str(error), style="red", highlight=False, markup=False)
        return 1
    except KeyboardInterrupt:
        printer.abandon()
        err.print("stopped by Ctrl-C", style="yellow", highlight=False)
        return INTERRUPTED
    finally:
        if status is not None:
            status.stop()
    printer.finish()
    err.print(_figures(completion), style="cyan", highlight=False)
    return 0


class _SplitPrinter:
    def __init__(self, options: InvokeOptions, *, out: Console, err: Console) -> None:
        self._splitter = ReasoningSplitter(enabled=options.split_reasoning)
        self._show_reasoning = options.show_reasoning
        self._out, self._err = out, err
        self._reasoning_printed = self._answer_printed = False

    def feed(self, text: str) -> None:
        for segment in self._splitter.feed(text):
            self._print(segment)

    def feed_reasoning(self, text: str) -> None:
        for segment in self._splitter.feed_reasoning(text):
            self._print(segment)

    def finish(self) -> None:
        split = self._splitter.finish()
        if self._answer_printed:
            self._out.print()
            return
        if self._reasoning_printed:
            self._err.print()
            if split.answer:  # the thought never closed: what streamed dimmed was the answer
                self._err.print("(no </think> came: that text was the answer, repeated on stdout)", style="dim")
        if split.answer:
            self._out.print(split.answer, highlight=False, markup=False, soft_wrap=True)

    def abandon(self) -> None:
        if self._reasoning_printed or self._answer_printed:
            self._err.print()

    def _print(self, segment: Segment) -> None:
        if segment.kind == "answer":
            if self._reasoning_printed and not self._answer_printed:
                self._err.print()
            self._answer_printed = True
            self._out.print(segment.text, end="", highlight=False, markup=False, soft_wrap=True)
        elif self._show_reasoning:
            self._reasoning_printed = True
            self._err.print(segment.text, end="", style="dim italic", highlight=False, markup=False, soft_wrap=True)


def _figures(completion: Completion) -> str:
    parts = [f"time to first token {completion.ttft_s:.2f} s" if completion.ttft_s is not None else "no tokens"]
    if completion.throughput_tps is not None:
        parts.append(f"{completion.throughput_tps:.1f} tokens/s")
    parts.append(f"end to end {completion.e2e_latency_s:.2f} s")
    if completion.generated_tokens is not None:
        parts.append(f"{completion.input_tokens} input + {completion.generated_tokens} output tokens")
    elif completion.output_tokens is not None:
        parts.append(f"~{completion.output_tokens} output tokens (stream events counted: no counts from the server)")
    if completion.finish_reason:
        parts.append(f"finished: {completion.finish_reason}")
    return " | ".join(parts)
