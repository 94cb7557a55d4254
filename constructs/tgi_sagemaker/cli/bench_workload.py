"""What ``bench`` sends: the workload, its reproducible prompts, and prompt lengths calibrated on the server.

Prompts are random common words placed before the instruction, so no two requests share a prefix that TGI's
prefix cache could serve. How many tokens a word is depends on the tokenizer, and the instruction and the chat
template add their own: ``--input-tokens`` is the prompt length *the server counts*. During warm-up two short
probes (the instruction alone, then with ``CALIBRATION_WORDS`` words) measure that with the server's own prompt
counts; without them (``--warmup 0``, a server that sends no counts) a word is taken as a token, and the results
say the lengths were not calibrated. Every request's actual count is recorded beside its target either way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from tgi_sagemaker.cli.client.payloads import Api, Sampling, request_body
from tgi_sagemaker.cli.client.streaming import stream_completion
from tgi_sagemaker.cli.client.transports import EndpointError, NoCapacity, Transport
from tgi_sagemaker.cli.option_checks import listed, repeated

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
CALIBRATION_WORDS = 200  # enough words to average their token lengths; short enough for any server's input limit


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
    request_rates: tuple[float, ...] = ()  # open-loop levels (requests/s), swept after the concurrency levels
    burstiness: float = 1.0  # the arrivals' gamma shape: 1 Poisson, under 1 burstier, over 1 more even
    max_concurrency: int | None = None  # open loop: most requests in flight; an arrival beyond it waits

    def __post_init__(self) -> None:
        """Every problem at once, each named as the option the user typed (``--concurrency 0,4``), not as a field."""
        problems = [
            f"{_option(name)} {value}: must be at least {least}. Fix: pass a larger {_option(name)}"
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
        if self.concurrency_levels and min(self.concurrency_levels) < 1:
            problems.append(
                f"--concurrency {listed(self.concurrency_levels)}: every level must be 1 or more. "
                "Fix: e.g. --concurrency 1,4,8"
            )
        problems += repeated("--concurrency", self.concurrency_levels)
        if not self.concurrency_levels and not self.request_rates:
            problems.append("no load level: give --concurrency, --request-rate or both. Fix: e.g. --concurrency 1,4")
        if self.request_rates and min(self.request_rates) <= 0:
            problems.append(
                f"--request-rate {listed(self.request_rates)}: every rate must be over 0 requests/s. "
                "Fix: e.g. --request-rate 0.5,1,2"
            )
        problems += repeated("--request-rate", self.request_rates)
        if self.max_concurrency is not None and (self.max_concurrency < 1 or not self.request_rates):
            problems.append(
                f"--max-concurrency {self.max_concurrency}: caps open-loop levels, so needs --request-rate and at "
                "least 1. Fix: e.g. --request-rate 2,4 --max-concurrency 16"
            )
        if not self.burstiness > 0:
            problems.append(
                f"--burstiness {self.burstiness:g}: must be over 0 (1 is Poisson). Fix: e.g. --burstiness 1"
            )
        if problems:
            raise ValueError("\n".join(problems))


def _option(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


@dataclass(frozen=True)
class PromptCalibration:
    """Prompt tokens as the server counts them: ``overhead_tokens + tokens_per_word x words``."""

    overhead_tokens: float = 0.0
    tokens_per_word: float = 1.0
    calibrated: bool = False
    note: str = "not calibrated: one token a word assumed"

    def words_for(self, target_tokens: int) -> int:
        return max(1, round((target_tokens - self.overhead_tokens) / self.tokens_per_word))


@dataclass(frozen=True)
class PlannedRequest:
    index: int
    prompt: str
    target_input_tokens: int
    max_new_tokens: int


def plan_requests(
    workload: Workload, *, salt: str = "", calibration: PromptCalibration | None = None
) -> list[PlannedRequest]:
    """The same seed gives the same targets and lengths, so two endpoints see the same work (and, with the same
    tokenizer, the same prompts)."""
    calibration = calibration or PromptCalibration()
    rng = random.Random(f"{workload.seed}:{salt}")
    planned = []
    for index in range(workload.requests):
        target = max(1, round(rng.gauss(workload.input_tokens, workload.input_spread)))
        outputs = max(1, round(rng.gauss(workload.output_tokens, workload.output_spread)))
        planned.append(PlannedRequest(index, _prompt(rng, calibration.words_for(target)), target, outputs))
    return planned


def calibrate(transport: Transport, workload: Workload) -> PromptCalibration:
    """Two one-token requests to an awake server: its prompt count without words, then with some."""
    if workload.warmup == 0:
        return PromptCalibration(note="not calibrated (--warmup 0): one token a word assumed")
    rng = random.Random(f"{workload.seed}:calibration")
    counts = []
    try:
        for words in (0, CALIBRATION_WORDS):
            body = request_body(workload.api, _prompt(rng, words), Sampling(max_new_tokens=1, seed=workload.seed))
            counts.append(stream_completion(transport, workload.api, body).input_tokens)
    except (EndpointError, NoCapacity) as error:
        return PromptCalibration(note=f"not calibrated (a probe failed: {error}): one token a word assumed")
    overhead, with_words = counts
    if overhead is None or with_words is None or with_words <= overhead:
        return PromptCalibration(note="not calibrated (the server sent no prompt token counts): one token a word")
    per_word = (with_words - overhead) / CALIBRATION_WORDS
    note = f"calibrated on the server's prompt counts: {overhead} tokens + {per_word:.3g} a word"
    if workload.input_tokens < overhead + per_word:  # the instruction and the chat template alone are longer
        note += (
            f"; the shortest prompt is {overhead + per_word:.0f} tokens, over --input-tokens {workload.input_tokens}"
        )
    return PromptCalibration(overhead_tokens=overhead, tokens_per_word=per_word, calibrated=True, note=note)


def request_body_for(workload: Workload, request: PlannedRequest) -> dict[str, Any]:
    sampling = Sampling(
        max_new_tokens=request.max_new_tokens, temperature=workload.temperature, seed=workload.seed + request.index
    )
    return request_body(workload.api, request.prompt, sampling)


def _prompt(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)) + INSTRUCTION
