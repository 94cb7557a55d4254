"""What serving costs: per 1M output tokens and per 1K requests at a measured load, and a deployment by the month.

A bench level's cost is the hourly price of what served it over the rate it served at: an instance endpoint uses
its whole instance; an inference component its share of the instance, by accelerators (a component with 1 of
the 4 GPUs of an ml.g6e.12xlarge is billed a quarter of it here: the other copies on the instance pay the rest).

A deployment's month compares keeping its busy capacity always on with scaling to zero: billed only on busy days,
for the busy hours plus, each day, the wake-up (instances are billed while they start and load the model, and
the first requests wait) and the idle time before scale-in reaches zero. The profile's defaults, and where each
figure comes from (FACTS.md or a stated assumption): :mod:`tgi_sagemaker.defaults`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from tgi_sagemaker import defaults
from tgi_sagemaker.catalog.instance_types import INSTANCE_TYPES, name_form_problem, similar_instance_types
from tgi_sagemaker.cli.option_checks import sentence
from tgi_sagemaker.cli.pricing import HourlyPrice

HOURS_PER_MONTH = 730.0  # 8760 / 12, AWS's own monthly convention
WEEKS_PER_MONTH = 365 / 12 / 7


@dataclass(frozen=True)
class ServingShare:
    """What one bench target runs on: ``--instance TARGET=ml.g6e.12xlarge[:GPUS]``, or asked of SageMaker
    (:mod:`tgi_sagemaker.cli.target_discovery`)."""

    instance_type: str
    accelerators: int | None = None  # an inference component's GPUs; None: the whole instance
    found_by: str = "--instance"  # where the instance type came from

    @property
    def share(self) -> float:
        if self.accelerators is None:
            return 1.0
        return self.accelerators / INSTANCE_TYPES[self.instance_type].gpu_count


def shares_from_text(values: list[str] | None, targets: list[str]) -> dict[str, ServingShare]:
    """``--instance LABEL=ml.g6e.12xlarge:1`` (repeated) by target, checked against the targets and the catalog: an
    unknown target, a name not of the form ``ml.<family>.<size>`` (with the closest listed names) or GPUs the
    instance does not have are refused; a well-formed type the catalog does not list is taken
    (:func:`unlisted_instance_notes` says so)."""
    shares: dict[str, ServingShare] = {}
    problems = []
    for text in values or ():
        target, _, rest = text.rpartition("=")
        instance_type, _, gpus = rest.partition(":")
        example = f"{targets[0] if targets else 'g6e'}={instance_type or 'ml.g6e.12xlarge'}"
        fix = f"Fix: e.g. --instance {example} (TARGET=INSTANCE[:GPUS of an inference component])"
        if target not in targets:
            problems.append(_unknown_target(text, target, targets, example))
            continue
        form = name_form_problem(instance_type)
        if form is not None:  # a typo found now, not after the run, when its cost line asks to price the typo
            problems.append(sentence(f"--instance {text!r}: {instance_type!r} {form}") + f" {fix}")
            continue
        accelerators = None
        if gpus:
            known = INSTANCE_TYPES.get(instance_type)
            if not gpus.isdigit() or known is None or not 1 <= int(gpus) <= known.gpu_count:
                whole = f"1 to {known.gpu_count}" if known else "unknown here: leave :GPUS out, or price the share"
                problems.append(f"--instance {text!r}: GPUs of {instance_type} must be {whole}. {fix}")
                continue
            accelerators = int(gpus)
        shares[target] = ServingShare(instance_type, accelerators)
    if problems:
        raise ValueError("\n".join(problems))
    return shares


def _unknown_target(text: str, target: str, targets: list[str], example: str) -> str:
    """An ``--instance`` that names no target; says how targets are named, since an unlabelled one is its URL."""
    naming = (
        "a target is named by its label (--url LABEL=URL, --endpoint LABEL=NAME[:COMPONENT]), "
        "or without one by the URL or NAME[/COMPONENT] itself"
    )
    named = f"targets: {', '.join(targets)}"
    if not target:
        return f"--instance {text!r}: names no target ({named}); {naming}. Fix: --instance {example}"
    return f"--instance {text!r}: no target {target!r} ({named}); {naming}. Fix: --instance {example}"


def unlisted_instance_notes(shares: dict[str, ServingShare], priced: set[str] | dict[str, float]) -> list[str]:
    """A note for each ``--instance`` type this library's catalog does not list and no ``--price`` prices: a new
    family is fine, a typo of a listed one is not, and only the Price List API can price it then."""
    notes = []
    for instance_type in dict.fromkeys(share.instance_type for share in shares.values()):
        if instance_type in INSTANCE_TYPES or instance_type in priced:
            continue
        close = similar_instance_types(instance_type)
        meant = f" (did you mean {' or '.join(close)}?)" if close else ""
        notes.append(
            f"note: --instance {instance_type} is not in this library's catalog{meant}: its cost needs "
            f"--price {instance_type}=USD_PER_HOUR (or the Price List API)"
        )
    return notes


@dataclass(frozen=True)
class TargetPrice:
    """A bench target's serving share and its instance's price; ``missing`` says why there is none (no price,
    or SageMaker could not say what the target runs on: then ``share`` is None too)."""

    share: ServingShare | None
    price: HourlyPrice | None
    missing: str | None = None


@dataclass(frozen=True)
class LevelCost:
    instance_type: str
    instance_from: str  # --instance, or the SageMaker call that said it
    share: float  # of the instance
    usd_per_hour: float  # the share's
    price: str  # the instance's price, its source and date
    usd_per_million_output_tokens: float | None  # None when nothing was served
    usd_per_thousand_requests: float | None


def level_cost(
    share: ServingShare, price: HourlyPrice, *, output_tokens_per_s: float, requests_per_s: float
) -> LevelCost:
    usd_per_second = price.usd_per_hour * share.share / 3600
    return LevelCost(
        instance_type=share.instance_type,
        instance_from=share.found_by,
        share=share.share,
        usd_per_hour=price.usd_per_hour * share.share,
        price=price.describe(),
        usd_per_million_output_tokens=usd_per_second / output_tokens_per_s * 1e6 if output_tokens_per_s else None,
        usd_per_thousand_requests=usd_per_second / requests_per_s * 1e3 if requests_per_s else None,
    )


@dataclass(frozen=True)
class TrafficProfile:
    """When a deployment is busy. Defaults (``tgi_sagemaker.defaults``, each with its source): 8 h a day, 5 days a
    week, on 1 instance; a wake-up of 10 minutes and 25 idle minutes before scale-in reaches zero."""

    busy_hours_per_day: float = defaults.BUSY_HOURS_PER_DAY
    busy_days_per_week: float = defaults.BUSY_DAYS_PER_WEEK
    busy_instances: int = defaults.BUSY_INSTANCES
    wake_up_minutes: float = defaults.WAKE_UP_MINUTES
    idle_minutes_before_zero: float = defaults.IDLE_MINUTES_BEFORE_ZERO

    def __post_init__(self) -> None:
        problems = [
            f"--{option} = {value:g}: must be {low:g} to {high:g}. Fix: e.g. --{option} {example}"
            for name, value, low, high, example in (
                ("busy_hours_per_day", self.busy_hours_per_day, 0, 24, 8),
                ("busy_days_per_week", self.busy_days_per_week, 0, 7, 5),
                ("busy_instances", self.busy_instances, 1, 10_000, 1),
                ("wake_up_minutes", self.wake_up_minutes, 0, 24 * 60, 10),
                ("idle_minutes_before_zero", self.idle_minutes_before_zero, 0, 24 * 60, 25),
            )
            if not low <= value <= high
            for option in [name.replace("_", "-")]
        ]
        if problems:
            raise ValueError("\n".join(problems))

    @property
    def busy_days_per_month(self) -> float:
        return self.busy_days_per_week * WEEKS_PER_MONTH

    @property
    def billed_hours_per_busy_day(self) -> float:
        """Scaled to zero: the busy hours, the wake-up before them and the idle time after, at most the day."""
        return min(24.0, self.busy_hours_per_day + (self.wake_up_minutes + self.idle_minutes_before_zero) / 60)


@dataclass(frozen=True)
class MonthlyCost:
    always_on_usd: float  # the busy instances every hour of the month
    scale_to_zero_usd: float  # billed on busy days only: wake-up, busy hours, idle tail
    wake_up_usd: float  # of scale_to_zero_usd: the instances billed while waking up
    idle_tail_usd: float  # of scale_to_zero_usd: billed while idle, before scale-in reaches zero


def monthly_cost(usd_per_instance_hour: float, profile: TrafficProfile) -> MonthlyCost:
    per_hour = usd_per_instance_hour * profile.busy_instances
    busy_days = profile.busy_days_per_month
    return MonthlyCost(
        always_on_usd=per_hour * HOURS_PER_MONTH,
        scale_to_zero_usd=per_hour * busy_days * profile.billed_hours_per_busy_day,
        wake_up_usd=per_hour * busy_days * profile.wake_up_minutes / 60,
        idle_tail_usd=per_hour * busy_days * profile.idle_minutes_before_zero / 60,
    )


def add_price_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--price",
        action="append",
        metavar="INSTANCE=USD_PER_HOUR",
        help="an instance type's hourly price, repeatable (your rate; overrides the Price List API and the "
        "bundled snapshot), e.g. --price ml.g6e.xlarge=1.86",
    )


def add_profile_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("monthly estimate (traffic profile)")
    for name, default, what in (
        ("busy-hours-per-day", defaults.BUSY_HOURS_PER_DAY, "hours of traffic on a busy day"),
        ("busy-days-per-week", defaults.BUSY_DAYS_PER_WEEK, "busy days a week"),
        ("busy-instances", defaults.BUSY_INSTANCES, "instances the busy hours need"),
        ("wake-up-minutes", defaults.WAKE_UP_MINUTES, "scale to zero: minutes billed waking up, each busy day"),
        ("idle-minutes-before-zero", defaults.IDLE_MINUTES_BEFORE_ZERO, "scale to zero: idle minutes billed"),
    ):
        kind = int if isinstance(default, int) else float
        group.add_argument(f"--{name}", type=kind, default=default, help=f"{what}. Default: {default:g}")


def profile_from_args(args: argparse.Namespace) -> TrafficProfile:
    return TrafficProfile(
        busy_hours_per_day=args.busy_hours_per_day,
        busy_days_per_week=args.busy_days_per_week,
        busy_instances=args.busy_instances,
        wake_up_minutes=args.wake_up_minutes,
        idle_minutes_before_zero=args.idle_minutes_before_zero,
    )
