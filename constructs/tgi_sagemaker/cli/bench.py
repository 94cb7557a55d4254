"""``tgi-sagemaker bench``: the blog's per-request evaluation, run closed-loop at several concurrency levels.

Each level keeps exactly ``concurrency`` requests in flight until ``requests`` have finished; what a request is
and how its prompt is made: :mod:`tgi_sagemaker.cli.bench_workload`. Output lengths are drawn around the target
as ``max_tokens``; the recorded output count is what the server says it generated (or, from a server that sends
no counts, the token events counted, marked approximate). A level always ends: every request is recorded, as a
measurement or as an error with its message, whatever the server or the connection does.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import pairwise

from tgi_sagemaker.cli.bench_workload import (
    PlannedRequest,
    PromptCalibration,
    Workload,
    plan_requests,
    request_body_for,
)
from tgi_sagemaker.cli.client.streaming import Completion, WakeUpWait, call_waking_up, stream_completion
from tgi_sagemaker.cli.client.transports import EndpointError, NoCapacity, Transport


@dataclass(frozen=True)
class RequestRecord:
    target: str
    concurrency: int  # closed loop: requests kept in flight; 0 in an open-loop level
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
    tokens_approximate: bool = False  # generated_tokens counts stream events: the server sent no counts
    error: str | None = None
    tpot_s: float | None = None  # vLLM's TPOT: (E2E - TTFT) / (tokens - 1)
    inter_token_gaps_s: tuple[float, ...] = ()  # each gap between two token events (requests.json only)
    scheduled_s: float | None = None  # open loop: when the arrival process said to send it (since the level started)
    queued_s: float | None = None  # open loop under --max-concurrency: how long it waited for a slot


@dataclass
class LevelRun:
    target: str
    concurrency: int
    planned: int
    records: list[RequestRecord] = field(default_factory=list)
    wall_s: float = 0.0
    interrupted: bool = False
    request_rate: float | None = None  # open loop: arrivals asked for (requests/s); None: closed loop
    max_concurrency: int | None = None  # open loop: the cap on requests in flight; None: no cap
    combined: bool = False  # a mixed level's targets together: their records, already recorded under each
    parts: tuple[str, ...] = ()  # combined: the targets it adds up

    @property
    def load(self) -> str:
        """The level's name on plots and in tables: ``c=8`` closed loop, ``2/s`` open loop."""
        return f"c={self.concurrency}" if self.request_rate is None else f"{self.request_rate:g}/s"


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
            partial(stream_completion, transport, workload.api, request_body_for(workload, request)),
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
    calibration: PromptCalibration | None = None,
    started_at: float | None = None,
) -> LevelRun:
    """Keep ``concurrency`` requests in flight; Ctrl-C (KeyboardInterrupt) keeps every finished record.

    Workers are daemon threads: an interrupted run does not wait for requests still streaming. A worker records
    every request it takes, whatever happens to it; should every worker end early all the same, the requests
    never sent are recorded as errors and the level ends instead of waiting for them. ``started_at``: the
    level's start (``time.perf_counter``) its send times count from, one for every target of a mixed level, so
    theirs line up. Default: now.
    """
    run = LevelRun(target=transport.target, concurrency=concurrency, planned=workload.requests)
    todo: queue.Queue[PlannedRequest] = queue.Queue()
    for request in plan_requests(workload, calibration=calibration):
        todo.put(request)
    done: queue.Queue[RequestRecord] = queue.Queue()
    started = time.perf_counter() if started_at is None else started_at

    def worker() -> None:
        while not stop.is_set():
            try:
                request = todo.get_nowait()
            except queue.Empty:
                return
            _send(transport, workload, request, concurrency, started, done)

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(min(concurrency, workload.requests))]
    for thread in workers:
        thread.start()
    _collect(
        run,
        done,
        stop,
        on_record,
        alive=lambda: any(thread.is_alive() for thread in workers),
        unsent=lambda: [_not_sent(transport, request, concurrency, started) for request in _drain(todo)],
    )
    run.wall_s = time.perf_counter() - started
    run.records.sort(key=lambda record: record.index)
    return run


def run_rate(
    transport: Transport,
    workload: Workload,
    request_rate: float,
    *,
    on_record: Callable[[RequestRecord], None],
    stop: threading.Event,
    calibration: PromptCalibration | None = None,
    started_at: float | None = None,
) -> LevelRun:
    """Open loop: send each request at its arrival time (:func:`arrival_times`), however many are in flight.

    Each request has its own daemon thread, so a slow server makes requests pile up as real traffic would,
    instead of slowing the arrivals down (what a closed loop does). With ``workload.max_concurrency`` (vLLM's
    benchmark_serving ``--max-concurrency``) at most that many are in flight: a request that arrives when all
    are taken waits, in arrival order, for one to finish, and its record says how long (``queued_s``). The
    level ends, and ``started_at`` counts, as in :func:`run_level`.
    """
    cap = workload.max_concurrency
    run = LevelRun(
        target=transport.target,
        concurrency=0,
        planned=workload.requests,
        request_rate=request_rate,
        max_concurrency=cap,
    )
    planned = plan_requests(workload, calibration=calibration)
    schedule = arrival_times(workload, request_rate)
    done: queue.Queue[RequestRecord] = queue.Queue()
    senders: list[threading.Thread] = []
    slots = threading.BoundedSemaphore(cap) if cap else None
    dispatched = 0
    started = time.perf_counter() if started_at is None else started_at

    def dispatch() -> None:
        nonlocal dispatched
        for request, at in zip(planned, schedule, strict=True):
            if stop.wait(max(0.0, started + at - time.perf_counter())):
                return
            queued_s = None
            if slots is not None:
                queued_s = 0.0
                if not slots.acquire(blocking=False):  # every slot taken: wait, the later arrivals behind it
                    while not slots.acquire(timeout=0.1):
                        if stop.is_set():
                            return
                    queued_s = max(0.0, time.perf_counter() - (started + at))  # since it arrived
            sender = threading.Thread(
                target=_send_in_slot,
                args=(slots, transport, workload, request, started, done, at, queued_s),
                daemon=True,
            )
            senders.append(sender)
            sender.start()
            dispatched += 1

    dispatcher = threading.Thread(target=dispatch, daemon=True)
    dispatcher.start()
    _collect(
        run,
        done,
        stop,
        on_record,
        alive=lambda: dispatcher.is_alive() or any(sender.is_alive() for sender in senders),
        unsent=lambda: [_not_sent(transport, request, 0, started) for request in planned[dispatched:]],
    )
    run.wall_s = time.perf_counter() - started
    run.records.sort(key=lambda record: record.index)
    return run


def _send_in_slot(
    slots: threading.BoundedSemaphore | None,
    transport: Transport,
    workload: Workload,
    request: PlannedRequest,
    started: float,
    done: queue.Queue[RequestRecord],
    scheduled_s: float,
    queued_s: float | None,
) -> None:
    """One open-loop request; its slot (under --max-concurrency) is freed however it ends."""
    try:
        _send(transport, workload, request, 0, started, done, scheduled_s, queued_s)
    finally:
        if slots is not None:
            slots.release()


def arrival_times(workload: Workload, request_rate: float) -> list[float]:
    """When each request of an open-loop level is sent, in seconds from the level's start; the same seed gives
    the same times. Gaps are gamma-distributed with mean ``1 / request_rate`` and shape ``burstiness`` (vLLM's
    benchmark_serving): 1 is a Poisson process, under 1 burstier, over 1 more even. The first leaves at once."""
    rng = random.Random(f"{workload.seed}:arrivals:{request_rate}")
    shape = workload.burstiness
    times, now = [], 0.0
    for _ in range(workload.requests):
        times.append(now)
        now += rng.gammavariate(shape, 1 / (request_rate * shape))
    return times


def _send(
    transport: Transport,
    workload: Workload,
    request: PlannedRequest,
    concurrency: int,
    started: float,
    done: queue.Queue[RequestRecord],
    scheduled_s: float | None = None,
    queued_s: float | None = None,
) -> None:
    """Measure one request and put its record in ``done``, whatever happens to it."""
    try:
        record = _measure(transport, workload, request, concurrency, started)
    except Exception as error:  # a defect, not the server's doing: recorded all the same, the worker goes on
        record = _failed(transport, request, concurrency, started, f"unexpected {_describe(error)}")
    except BaseException as error:  # SystemExit and the like end this thread: its request is still recorded
        failed = _failed(transport, request, concurrency, started, f"worker ended by {_describe(error)}")
        done.put(replace(failed, scheduled_s=scheduled_s, queued_s=queued_s))
        raise
    done.put(replace(record, scheduled_s=scheduled_s, queued_s=queued_s))


def _collect(
    run: LevelRun,
    done: queue.Queue[RequestRecord],
    stop: threading.Event,
    on_record: Callable[[RequestRecord], None],
    *,
    alive: Callable[[], bool],
    unsent: Callable[[], list[RequestRecord]],
) -> None:
    """Take records as they finish until every planned request has one; Ctrl-C keeps those finished. Should
    every thread that sends end early all the same, the requests never sent are recorded as errors."""
    try:
        while len(run.records) < run.planned:
            try:
                record = done.get(timeout=0.1)
            except queue.Empty:
                if stop.is_set():
                    run.interrupted = True
                    break
                if not alive() and done.empty():  # their last puts are in
                    for record in unsent():
                        run.records.append(record)
                        on_record(record)
                    break
                continue
            run.records.append(record)
            on_record(record)
    except KeyboardInterrupt:
        stop.set()
        run.interrupted = True


def _measure(
    transport: Transport, workload: Workload, request: PlannedRequest, concurrency: int, level_start: float
) -> RequestRecord:
    sent = time.perf_counter()
    try:
        completion = stream_completion(transport, workload.api, request_body_for(workload, request))
    except (EndpointError, NoCapacity) as error:
        return _failed(transport, request, concurrency, level_start, str(error), sent=sent)
    return _record(transport, request, concurrency, completion, level_start)


def _record(
    transport: Transport, request: PlannedRequest, concurrency: int, completion: Completion, level_start: float
) -> RequestRecord:
    return RequestRecord(
        target=transport.target,
        concurrency=concurrency,
        index=request.index,
        target_input_tokens=request.target_input_tokens,
        max_new_tokens=request.max_new_tokens,
        started_s=completion.sent_at - level_start,
        e2e_latency_s=completion.e2e_latency_s,
        ttft_s=completion.ttft_s,
        itl_s=completion.itl_s,
        throughput_tps=completion.throughput_tps,
        generated_tokens=completion.output_tokens,
        input_tokens=completion.input_tokens,
        finish_reason=completion.finish_reason,
        token_events=completion.token_events,
        tokens_approximate=completion.tokens_approximate,
        error=None if completion.output_tokens else "no tokens in the stream",
        tpot_s=_tpot(completion),
        inter_token_gaps_s=tuple(later - earlier for earlier, later in pairwise(completion.token_times)),
    )


def _tpot(completion: Completion) -> float | None:
    tokens, ttft = completion.output_tokens, completion.ttft_s
    if tokens is None or tokens < 2 or ttft is None:
        return None
    return (completion.e2e_latency_s - ttft) / (tokens - 1)


def _failed(
    transport: Transport,
    request: PlannedRequest,
    concurrency: int,
    level_start: float,
    error: str,
    *,
    sent: float | None = None,
) -> RequestRecord:
    now = time.perf_counter()
    sent = now if sent is None else sent
    return RequestRecord(
        target=transport.target,
        concurrency=concurrency,
        index=request.index,
        target_input_tokens=request.target_input_tokens,
        max_new_tokens=request.max_new_tokens,
        started_s=sent - level_start,
        e2e_latency_s=now - sent,
        error=error,
    )


def _not_sent(transport: Transport, request: PlannedRequest, concurrency: int, level_start: float) -> RequestRecord:
    return _failed(transport, request, concurrency, level_start, "not sent: every worker had ended")


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _drain(todo: queue.Queue[PlannedRequest]) -> list[PlannedRequest]:
    left = []
    while True:
        try:
            left.append(todo.get_nowait())
        except queue.Empty:
            return left


def levels_from_text(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"--concurrency = {text!r}: not a comma-separated list of integers. Fix: e.g. 1,4,8") from None
    return levels


def rates_from_text(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(
            f"--request-rate = {text!r}: not a comma-separated list of numbers. Fix: e.g. 0.5,1,2"
        ) from None


def labels(runs: Sequence[LevelRun]) -> list[str]:
    """One label a box: the level, prefixed with the target when several targets are compared."""
    several = len({run.target for run in runs}) > 1
    return [f"{run.target}\n{run.load}" if several else run.load for run in runs]
