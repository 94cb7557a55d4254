"""One streamed request, timed from the client's side, with the server's own token counts.

Timing definitions (the blog's four metrics, per request):
- time to first token: request sent -> first event that carries a token (text, or reasoning sent apart; not an
  OpenAI-style role-only first chunk, nor a last chunk with only ``finish_reason``/``usage``);
- end-to-end latency: request sent -> stream finished;
- inter-token latency: (last token - first token) / (generated tokens - 1), with the server's count, so
  several tokens packed into one network chunk do not skew it the way averaging over chunks does (exact when
  the answer stops on its length, as bench's do; one that stops on an end token whose chunk has no text spans
  one step less than the count says, which lowers ITL by 1/(tokens - 1));
- throughput: generated tokens / end-to-end latency.

A server that sends no token counts still gets figures: the token events are counted instead, and the
completion says so (:attr:`Completion.tokens_approximate`), since one event may carry several tokens.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tgi_sagemaker.cli.client.payloads import Api, parse_event
from tgi_sagemaker.cli.client.sse import SseDecoder
from tgi_sagemaker.cli.client.transports import EndpointError, NoCapacity, Transport

Clock = Callable[[], float]
T = TypeVar("T")


@dataclass(frozen=True)
class Completion:
    text: str
    sent_at: float
    first_token_at: float | None
    last_token_at: float | None
    ended_at: float
    token_events: int
    generated_tokens: int | None  # the server's own count
    input_tokens: int | None
    finish_reason: str | None
    reasoning: str = ""  # what the server's reasoning parser sent apart from ``text``
    token_times: tuple[float, ...] = ()  # when each token event arrived (first is first_token_at, last last_token_at)

    @property
    def output_tokens(self) -> int | None:
        """The server's count; without one, the token events counted (see :attr:`tokens_approximate`)."""
        if self.generated_tokens is not None:
            return self.generated_tokens
        return self.token_events or None

    @property
    def tokens_approximate(self) -> bool:
        """True when :attr:`output_tokens` counts stream events: a server may pack several tokens in one."""
        return self.generated_tokens is None and self.token_events > 0

    @property
    def e2e_latency_s(self) -> float:
        return self.ended_at - self.sent_at

    @property
    def ttft_s(self) -> float | None:
        return None if self.first_token_at is None else self.first_token_at - self.sent_at

    @property
    def itl_s(self) -> float | None:
        tokens = self.output_tokens
        if tokens is None or tokens < 2 or self.first_token_at is None or self.last_token_at is None:
            return None
        return (self.last_token_at - self.first_token_at) / (tokens - 1)

    @property
    def throughput_tps(self) -> float | None:
        if self.output_tokens is None or self.e2e_latency_s <= 0:
            return None
        return self.output_tokens / self.e2e_latency_s


def stream_completion(
    transport: Transport,
    api: Api,
    body: dict[str, Any],
    *,
    on_text: Callable[[str], None] | None = None,
    on_reasoning: Callable[[str], None] | None = None,
    clock: Clock = time.perf_counter,
) -> Completion:
    """Send ``body``, stream it to the end; raise :class:`EndpointError` on any failure, even mid-stream.

    ``on_text`` gets each piece of text as it arrives; ``on_reasoning`` the pieces of a thought that the server's
    reasoning parser sends apart (when it does; R1's ``<think>`` text otherwise arrives through ``on_text``).
    """
    decoder = SseDecoder()
    pieces: list[str] = []
    thought: list[str] = []
    first = last = None
    token_times: list[float] = []
    generated = input_tokens = None
    finish_reason = None
    ended = False
    sent_at = clock()
    for chunk in transport.stream(api, body):
        for data in decoder.feed(chunk):
            event = parse_event(api, data)
            if event.error:
                raise EndpointError(f"{transport.target}: error in the stream: {event.error}")
            if event.is_token:
                last = clock()
                first = first if first is not None else last
                token_times.append(last)
            for text, kept, callback in ((event.reasoning, thought, on_reasoning), (event.text, pieces, on_text)):
                if text:
                    kept.append(text)
                    if callback:
                        callback(text)
            generated = event.generated_tokens if event.generated_tokens is not None else generated
            input_tokens = event.input_tokens if event.input_tokens is not None else input_tokens
            finish_reason = event.finish_reason or finish_reason
            ended = ended or event.done or event.finish_reason is not None
    if decoder.close():
        raise EndpointError(f"{transport.target}: the stream ended inside an event (truncated response)")
    if not ended:
        raise EndpointError(
            f"{transport.target}: the stream ended without its last event (no finish reason, no [DONE]): "
            "truncated response"
        )
    return Completion(
        text="".join(pieces),
        reasoning="".join(thought),
        sent_at=sent_at,
        first_token_at=first,
        last_token_at=last,
        ended_at=clock(),
        token_events=len(token_times),
        generated_tokens=generated,
        input_tokens=input_tokens,
        finish_reason=finish_reason,
        token_times=tuple(token_times),
    )


@dataclass(frozen=True)
class WakeUpWait:
    attempt: int
    waited_s: float
    deadline_s: float
    retry_in_s: float

    def describe(self) -> str:
        return (
            f"waited {seconds(self.waited_s)} of {seconds(self.deadline_s)}, "
            f"retry {self.attempt} in {seconds(self.retry_in_s)}"
        )


def seconds(value: float) -> str:
    """``900 s``, ``12 s``, ``0.5 s``: whole seconds, unless that would round a short wait to nothing."""
    return f"{value:.0f} s" if value >= 10 else f"{value:.2g} s"


def call_waking_up(
    call: Callable[[], T],
    *,
    deadline_s: float,
    interval_s: float,
    on_wait: Callable[[WakeUpWait], None],
    sleep: Callable[[float], None] = time.sleep,
    clock: Clock = time.monotonic,
) -> T:
    """Run ``call``; while it raises :class:`NoCapacity` (scaled to zero), wait and retry until ``deadline_s``.

    The first no-capacity answer is what makes SageMaker's alarm add a copy, so the retries are not wasted:
    each one lands as soon as a copy is up. When less than ``interval_s`` is left, it waits what is left and
    tries once more at the deadline.
    """
    started = clock()
    attempt = 0
    while True:
        try:
            return call()
        except NoCapacity as error:
            attempt += 1
            waited = clock() - started
            left = deadline_s - waited
            if left <= 0:
                raise EndpointError(
                    f"{error} -- still no capacity after {seconds(waited)} (deadline {seconds(deadline_s)}). "
                    "Fix: wait longer (--wake-up-timeout) or check the scale-out alarm and instance quota"
                ) from error
            retry_in = min(interval_s, left)
            on_wait(WakeUpWait(attempt=attempt, waited_s=waited, deadline_s=deadline_s, retry_in_s=retry_in))
            sleep(retry_in)
