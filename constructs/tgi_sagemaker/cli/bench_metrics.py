"""What a bench level's requests add up to: the figures serving teams compare (vLLM's benchmark_serving, LLMPerf).

Per request (successful ones only): TTFT; ITL, the mean gap between the first and the last token
(``(last - first) / (tokens - 1)``, LLMPerf's inter-token latency); TPOT, vLLM's time per output token after the
first (``(E2E - TTFT) / (tokens - 1)``, which also counts the wait for the stream's end); E2E; per-request
throughput. Pooled over a level's requests: every individual gap between two token events (what vLLM calls ITL),
so a stall shows in the tail even when the per-request means hide it. Per level: request, input, output and total
token rates over the level's wall time, the error rate, and goodput: the share and the rate of requests that met
every SLO given (a failed request meets none).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tgi_sagemaker.cli.bench import LevelRun, RequestRecord
from tgi_sagemaker.cli.cost import LevelCost, TargetPrice, level_cost
from tgi_sagemaker.cli.option_checks import repeated

METRICS: dict[str, str] = {
    "ttft_s": "Time to first token (s)",
    "itl_s": "Inter-token latency, per request (s)",
    "tpot_s": "Time per output token (s)",
    "e2e_latency_s": "End-to-end latency (s)",
    "throughput_tps": "Throughput per request (output tokens/s)",
}
TOKEN_GAPS = "inter_token_gap_s"  # the pooled distribution of every gap between two token events
TOKEN_GAPS_TITLE = "Gap between token events, pooled (s)"
FROM_TOKEN_COUNTS = ("itl_s", "tpot_s", "throughput_tps")  # the metrics that an approximate count makes approximate
DEFAULT_PERCENTILES: tuple[float, ...] = (50, 90, 99)
SLO_METRICS: dict[str, str] = {"ttft": "ttft_s", "tpot": "tpot_s", "itl": "itl_s", "e2e": "e2e_latency_s"}


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), so small runs still give honest figures."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def standard_deviation(values: Sequence[float]) -> float:
    """The population standard deviation (numpy's default, as vLLM reports it); 0 for one value."""
    mean = sum(values) / len(values)
    return math.sqrt(sum((value - mean) ** 2 for value in values) / len(values))


@dataclass(frozen=True)
class Objectives:
    """How a level is summarized: which percentiles, and the SLOs (seconds, by ``SLO_METRICS`` key) for goodput.

    ``percentiles``: Default: 50, 90, 99. ``slos``: Default: none (goodput is then not reported).
    """

    percentiles: tuple[float, ...] = DEFAULT_PERCENTILES
    slos: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = [
            f"--percentiles: {q:g} is not between 0 and 100. Fix: e.g. --percentiles 50,90,95,99"
            for q in self.percentiles
            if not 0 <= q <= 100
        ]
        if not self.percentiles:
            problems.append("--percentiles: none given. Fix: e.g. --percentiles 50,90,95,99")
        problems += repeated("--percentiles", self.percentiles)
        problems += [
            f"--slo {name}={seconds:g}: an SLO is a positive number of seconds. Fix: e.g. --slo {name}=0.5"
            for name, seconds in self.slos.items()
            if not seconds > 0
        ]
        problems += [
            f"--slo {name}: unknown metric. Fix: one of {', '.join(SLO_METRICS)}, e.g. --slo ttft=0.5"
            for name in self.slos
            if name not in SLO_METRICS
        ]
        if problems:
            raise ValueError("\n".join(problems))

    @property
    def statistics(self) -> tuple[str, ...]:
        """The columns of a summary: mean, standard deviation, then the percentiles."""
        return ("mean", "std", *(percentile_key(q) for q in self.percentiles))

    def met_by(self, record: RequestRecord) -> bool:
        """Whether a request met every SLO: it succeeded and each measured figure is within its bound."""
        if record.error is not None:
            return False
        for name, bound in self.slos.items():
            value = getattr(record, SLO_METRICS[name])
            if value is None or value > bound:
                return False
        return True


def percentile_key(q: float) -> str:
    return f"p{q:g}"


def objectives_from_text(percentiles: str | None, slos: Sequence[str] | None) -> Objectives:
    """``--percentiles 50,90,95,99`` and ``--slo ttft=0.5`` (repeated) as :class:`Objectives`."""
    problems = []
    chosen: tuple[float, ...] = DEFAULT_PERCENTILES
    if percentiles is not None:
        try:
            chosen = tuple(float(part) for part in percentiles.split(",") if part.strip())
        except ValueError:
            problems.append(f"--percentiles = {percentiles!r}: not a comma-separated list of numbers. Fix: 50,90,99")
    bounds: dict[str, float] = {}
    for text in slos or ():
        name, _, value = text.partition("=")
        try:
            bounds[name.strip()] = float(value)
        except ValueError:
            problems.append(f"--slo {text!r}: not METRIC=SECONDS. Fix: e.g. --slo ttft=0.5 --slo e2e=10")
    try:
        objectives = Objectives(percentiles=chosen, slos=bounds)
    except ValueError as invalid:  # reported beside the parse problems: every problem at once
        problems += str(invalid).splitlines()
    if problems:
        raise ValueError("\n".join(problems))
    return objectives


@dataclass(frozen=True)
class Goodput:
    slos: dict[str, float]
    met: int  # requests that succeeded and met every SLO
    share: float  # of the requests finished (a failed one counts as missed)
    requests_per_s: float


@dataclass(frozen=True)
class LevelSummary:
    target: str
    concurrency: int
    request_rate: float | None  # open loop: the arrival rate asked for (requests/s); None: closed loop
    load: str  # how the level is named on plots: c=8 or 2/s
    planned: int
    finished: int
    succeeded: int
    errors: int
    error_rate: float  # errors / finished
    interrupted: bool
    wall_s: float
    requests_per_s: float
    input_tokens_per_s: float | None  # the server's prompt counts; None when it sent none
    output_tokens_per_s: float
    total_tokens_per_s: float | None
    mean_output_tokens: float | None
    mean_target_input_tokens: float
    mean_input_tokens: float | None  # what the server counted
    approximate_token_counts: int  # successful requests whose output counts are stream events counted
    percentiles: tuple[float, ...]
    metrics: dict[str, dict[str, float]]
    goodput: Goodput | None
    cost: LevelCost | None = None  # with --instance and a price
    cost_missing: str | None = None  # why a target with an instance (given or found) has no cost
    max_concurrency: int | None = None  # open loop: the cap on requests in flight
    queued: int = 0  # of the requests under that cap, those that waited for a slot
    queue_wait_s: dict[str, float] | None = None  # how long requests waited for a slot (all under the cap)
    combined: bool = False  # bench --mixed: every target of the level at once, as one (its requests are theirs)


def describe(values: Sequence[float], objectives: Objectives) -> dict[str, float]:
    figures = {"mean": sum(values) / len(values), "std": standard_deviation(values)}
    figures |= {"min": min(values), "max": max(values)}
    return figures | {percentile_key(q): percentile(values, q) for q in objectives.percentiles}


def metric_values(records: Sequence[RequestRecord], metric: str) -> list[float]:
    """A metric's values over the successful requests; the token gaps pooled across them."""
    ok = [record for record in records if record.error is None]
    if metric == TOKEN_GAPS:
        return [gap for record in ok for gap in record.inter_token_gaps_s]
    return [value for record in ok if (value := getattr(record, metric)) is not None]


def summarize(
    run: LevelRun, objectives: Objectives | None = None, target_price: TargetPrice | None = None
) -> LevelSummary:
    """``objectives``: Default: p50, p90, p99, no SLO. ``target_price``: what serving cost. Default: no cost."""
    objectives = objectives or Objectives()
    ok = [record for record in run.records if record.error is None]
    metrics = {
        metric: describe(values, objectives)
        for metric in (*METRICS, TOKEN_GAPS)
        if (values := metric_values(run.records, metric))
    }
    output_tokens = [record.generated_tokens for record in ok if record.generated_tokens is not None]
    input_tokens = [record.input_tokens for record in ok if record.input_tokens is not None]
    wall = run.wall_s or math.inf
    finished = len(run.records)
    input_rate = sum(input_tokens) / wall if input_tokens else None
    output_rate = sum(output_tokens) / wall
    waits = [record.queued_s for record in run.records if record.queued_s is not None]
    goodput = None
    if objectives.slos:
        met = sum(objectives.met_by(record) for record in run.records)
        goodput = Goodput(dict(objectives.slos), met, met / max(1, finished), met / wall)
    return LevelSummary(
        target=run.target,
        concurrency=run.concurrency,
        request_rate=run.request_rate,
        load=run.load,
        planned=run.planned,
        finished=finished,
        succeeded=len(ok),
        errors=finished - len(ok),
        error_rate=(finished - len(ok)) / max(1, finished),
        interrupted=run.interrupted,
        wall_s=run.wall_s,
        requests_per_s=len(ok) / wall,
        input_tokens_per_s=input_rate,
        output_tokens_per_s=output_rate,
        total_tokens_per_s=None if input_rate is None else input_rate + output_rate,
        mean_output_tokens=sum(output_tokens) / len(output_tokens) if output_tokens else None,
        mean_target_input_tokens=sum(r.target_input_tokens for r in run.records) / max(1, finished),
        mean_input_tokens=sum(input_tokens) / len(input_tokens) if input_tokens else None,
        approximate_token_counts=sum(record.tokens_approximate for record in ok),
        percentiles=objectives.percentiles,
        metrics=metrics,
        goodput=goodput,
        cost=_cost(target_price, output_rate, len(ok) / wall),
        cost_missing=target_price.missing if target_price else None,
        max_concurrency=run.max_concurrency,
        queued=sum(wait > 0 for wait in waits),
        queue_wait_s=describe(waits, objectives) if waits else None,
        combined=run.combined,
    )


def _cost(target_price: TargetPrice | None, output_tokens_per_s: float, requests_per_s: float) -> LevelCost | None:
    if target_price is None or target_price.share is None or target_price.price is None:
        return None
    return level_cost(
        target_price.share,
        target_price.price,
        output_tokens_per_s=output_tokens_per_s,
        requests_per_s=requests_per_s,
    )
