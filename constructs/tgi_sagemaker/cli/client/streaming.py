"""One streamed request, timed from the client's side, with the server's own token counts.

Timing definitions (the blog's four metrics, per request):
- time to first token: request sent -> first token event received;
- end-to-end latency: request sent -> stream finished;
- inter-token latency: (last token - first token) / (generated tokens - 1), with the server's count, so
  several tokens packed into one network chunk do not skew it the way averaging over chunks does;
- throughput: generated tokens / end-to-end latency.
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
    generated_tokens: int | None
    input_tokens: int | None
    finish_reason: str | None

    @property
    def e2e_latency_s(self) -> float:
        return self.ended_at - self.sent_at

    @property
    def ttft_s(self) -> float | None:
        return None if self.first_token_at is None else self.first_token_at - self.sent_at

    @property
    def itl_s(self) -> float | None:
        tokens = self.generated_tokens
        if tokens is None or tokens < 2 or self.first_token_at is None or self.last_token_at is None:
            return None
        return (self.last_token_at - self.first_token_at) / (tokens - 1)

    @property
    def throughput_tps(self) -> float | None:
        if self.generated_tokens is None or self.e2e_latency_s <= 0:
            return None
        return self.generated_tokens / self.e2e_latency_s


def stream_completion(
    transport: Transport,
    api: Api,
    body: dict[str, Any],
    *,
    on_text: Callable[[str], None] | None = None,
    clock: Clock = time.perf_counter,
) -> Completion:
    """Send ``body``, stream it to the end; raise :class:`EndpointError` on any failure, even mid-stream."""
    decoder = SseDecoder()
    pieces: list[str] = []
    first = last = None
    token_events = 0
    generated = input_tokens = None
    finish_reason = None
    sent_at = clock()
    for chunk in transport.stream(api, body):
        for data in decoder.feed(chunk):
            event = parse_event(api, data)
            if event.error:
                raise EndpointError(f"{transport.target}: error in the stream: {event.error}")
            if event.is_token:
                last = clock()
                first = first if first is not None else last
                token_events += 1
                if event.text:
                    pieces.append(event.text)
                    if on_text:
                        on_text(event.text)
            generated = event.generated_tokens if event.generated_tokens is not None else generated
            input_tokens = event.input_tokens if event.input_tokens is not None else input_tokens
            finish_reason = event.finish_reason or finish_reason
    if decoder.close():
        raise EndpointError(f"{transport.target}: the stream ended inside an event (truncated response)")
    return Completion(
        text="".join(pieces),
        sent_at=sent_at,
        first_token_at=first,
        last_token_at=last,
        ended_at=clock(),
        token_events=token_events,
        generated_tokens=generated,
        input_tokens=input_tokens,
        finish_reason=finish_reason,
    )


@dataclass(frozen=True)
class WakeUpWait:
    attempt: int
    waited_s: float
    deadline_s: float


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
    each one lands as soon as a copy is up.
    """
    started = clock()
    attempt = 0
    while True:
        try:
            return call()
        except NoCapacity as error:
            attempt += 1
            waited = clock() - started
            if waited + interval_s > deadline_s:
                raise EndpointError(
                    f"{error} -- still no capacity after {waited:.0f} s (deadline {deadline_s:.0f} s). "
                    "Fix: wait longer (--wake-up-timeout) or check the scale-out alarm and instance quota"
                ) from error
            on_wait(WakeUpWait(attempt=attempt, waited_s=waited, deadline_s=deadline_s))
            sleep(interval_s)
