"""``tgi-sagemaker bench``: the blog's per-request evaluation, run closed-loop at several concurrency levels.

Each level keeps exactly ``concurrency`` requests in flight until ``requests`` have finished. Prompts are
random common words (one token each in Llama/Qwen vocabularies, so a prompt of N words is about N tokens;
the server's own input count is recorded next to the target) placed before the instruction, so no two
requests share a prefix that TGI's prefix cache could serve. Output lengths are drawn around the target as
``max_tokens``; the recorded output count is what the server says it generated.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from tgi_sagemaker.cli.client.payloads import Api, Sampling, request_body
from tgi_sagemaker.cli.client.streaming import Completion, WakeUpWait, call_waking_up, stream_completion
from tgi_sagemaker.cli.client.transports import EndpointError, NoCapacity, Transport

INSTRUCTION = "\n\nIgnore the words above. Write a long, detailed story about a lighthouse keeper."
COMMON_WORDS = (
    "time year people way day man thing woman life child world school state family student group country "
    "problem hand part place case week company system program question work government number night point "
    "home water room mother area money story fact month lot right study book eye job word business issue "
    "side kind head house service friend father power hour game line end member law car city community name "
    "president team minute idea kid body information back parent face others level office door health person "
    "art war history party result change morning reason research girl guy moment air teacher force education"
)
WORDS = tuple(COMMON_WORDS.split())


@dataclass(frozen=True)
class Workload:
    api: Api = "messages"
    requests: int = 20
    concurrency_levels: tuple[int, ...] = (1,)
    input_tokens: int = 512
    input_spread: int = 0
    output_tokens: int = 256
    output_spread: int = 32
    warmup: int = 1
    seed: int = 0
    temperature: float = 0.6

    def __post_init__(self) -> None:
        problems = [
            f"{name} = {value}: must be at least {least}. Fix: pass a larger --{name.replace('_', '-')}"
            for name, value, least in (
                ("requests", self.requests, 1),
                ("input_tokens", self.input_tokens, 1),
                ("output_tokens", self.output_tokens, 1),
                ("warmup", self.warmup, 0),
                ("input_spread", self.input_spread, 0),
                ("output_spread", self.output_spread, 0),
            )
            if value < least
        ]
        if not self.concurrency_levels or min(self.concurrency_levels) < 1:
            problems.append(
                f"concurrency = {self.concurrency_levels}: needs levels >= 1. Fix: e.g. --concurrency 1,4,8"
            )
        if problems:
            raise ValueError("\n".join(problems))


@dataclass(frozen=True)
class PlannedRequest:
    index: int
    prompt: str
    target_input_tokens: int
    max_new_tokens: int


@dataclass(frozen=True)
class RequestRecord:
    target: str
    concurrency: int
    index: int
    target_input_tokens: int
    max_new_tokens: int
    started_s: float  # since the level started
    e2e_latency_s: float
    ttft_s: float | None = None
    itl_s: float | None = None
    throughput_tps: float | None = None
    generated_tokens: int | None = None
    input_tokens: int | None = None
    finish_reason: str | None = None
    token_events: int | None = None
    error: str | None = None


@dataclass
class LevelRun:
    target: str
    concurrency: int
    planned: int
    records: list[RequestRecord] = field(default_factory=list)
    wall_s: float = 0.0
    interrupted: bool = False


def plan_requests(workload: Workload, *, salt: str = "") -> list[PlannedRequest]:
    """The same seed gives the same prompts and lengths, so two endpoints see the same work."""
    rng = random.Random(f"{workload.seed}:{salt}")
    planned = []
    for index in range(workload.requests):
        words = max(1, round(rng.gauss(workload.input_tokens, workload.input_spread)))
        outputs = max(1, round(rng.gauss(workload.output_tokens, workload.output_spread)))
        prompt = " ".join(rng.choice(WORDS) for _ in range(words)) + INSTRUCTION
        planned.append(PlannedRequest(index, prompt, words, outputs))
    return planned


def warm_up(
    transport: Transport,
    workload: Workload,
    *,
    wake_up_timeout_s: float,
    wake_up_interval_s: float,
    on_wait: Callable[[WakeUpWait], None],
) -> None:
    """Requests that are not measured; a scaled-to-zero endpoint is woken up here, not inside the figures."""
    for request in plan_requests(workload, salt="warm-up")[: workload.warmup]:
        call_waking_up(
            partial(stream_completion, transport, workload.api, _body(workload, request)),
            deadline_s=wake_up_timeout_s,
            interval_s=wake_up_interval_s,
            on_wait=on_wait,
        )


def run_level(
    transport: Transport,
    workload: Workload,
    concurrency: int,
    *,
    on_record: Callable[[RequestRecord], None],
    stop: threading.Event,
) -> LevelRun:
    """Keep ``concurrency`` requests in flight; Ctrl-C (KeyboardInterrupt) keeps every finished record.

    Workers are daemon threads: an interrupted run does not wait for requests still streaming.
    """
    run = LevelRun(target=transport.target, concurrency=concurrency, planned=workload.requests)
    todo: queue.Queue[PlannedRequest] = queue.Queue()
    for request in plan_requests(workload):
        todo.put(request)
    done: queue.Queue[RequestRecord] = queue.Queue()
    started = time.perf_counter()

    def worker() -> None:
        while not stop.is_set():
            try:
                request = todo.get_nowait()
            except queue.Empty:
                return
            done.put(_measure(transport, workload, request, concurrency, started))

    for _ in range(min(concurrency, workload.requests)):
        threading.Thread(target=worker, daemon=True).start()
    try:
        while len(run.records) < workload.requests:
            try:
                record = done.get(timeout=0.1)
            except queue.Empty:
                continue
            run.records.append(record)
            on_record(record)
    except KeyboardInterrupt:
        stop.set()
        run.interrupted = True
    run.wall_s = time.perf_counter() - started
    run.records.sort(key=lambda record: record.index)
    return run


def _measure(
    transport: Transport, workload: Workload, request: PlannedRequest, concurrency: int, level_start: float
) -> RequestRecord:
    common: dict[str, Any] = {
        "target": transport.target,
        "concurrency": concurrency,
        "index": request.index,
        "target_input_tokens": request.target_input_tokens,
        "max_new_tokens": request.max_new_tokens,
    }
    sent = time.perf_counter()
    try:
        completion = stream_completion(transport, workload.api, _body(workload, request))
    except (EndpointError, NoCapacity) as error:
        return RequestRecord(
            **common, started_s=sent - level_start, e2e_latency_s=time.perf_counter() - sent, error=str(error)
        )
    return _record(common, completion, level_start)


def _record(common: dict[str, Any], completion: Completion, level_start: float) -> RequestRecord:
    missing_counts = completion.generated_tokens is None
    return RequestRecord(
        **common,
        started_s=completion.sent_at - level_start,
        e2e_latency_s=completion.e2e_latency_s,
        ttft_s=completion.ttft_s,
        itl_s=completion.itl_s,
        throughput_tps=completion.throughput_tps,
        generated_tokens=completion.generated_tokens,
        input_tokens=completion.input_tokens,
        finish_reason=completion.finish_reason,
        token_events=completion.token_events,
        error="the server sent no token counts (usage/details)" if missing_counts else None,
    )


def _body(workload: Workload, request: PlannedRequest) -> dict[str, Any]:
    sampling = Sampling(
        max_new_tokens=request.max_new_tokens, temperature=workload.temperature, seed=workload.seed + request.index
    )
    return request_body(workload.api, request.prompt, sampling)


def levels_from_text(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"--concurrency = {text!r}: not a comma-separated list of integers. Fix: e.g. 1,4,8") from None
    return levels


def labels(runs: Sequence[LevelRun]) -> list[str]:
    """One label a box: the level, prefixed with the target when several targets are compared."""
    several = len({run.target for run in runs}) > 1
    return [f"{run.target}\nc={run.concurrency}" if several else f"c={run.concurrency}" for run in runs]
