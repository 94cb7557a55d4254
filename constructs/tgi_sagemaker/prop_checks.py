"""Checks the serving constructs share: each adds a message that names the prop, states the bad value and the fix,
and a construct raises them all at once (``raise_problems``) before it creates anything."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import aws_cdk as cdk

from tgi_sagemaker import defaults, limits
from tgi_sagemaker.instance_type import InstanceType, form_problem

if TYPE_CHECKING:
    from tgi_sagemaker.serving_model import ServingModel

STARTUP_TIMEOUT_RANGE = limits.STARTUP_TIMEOUT_SECONDS  # ModelDataDownload/ContainerStartupHealthCheck timeouts
COOLDOWN_RANGE = limits.COOLDOWN_SECONDS
BAKE_TIME_RANGE = limits.BAKE_TIME_SECONDS  # TerminationWaitInSeconds / WaitIntervalInSeconds of an update policy
DEFAULT_BAKE_TIME = cdk.Duration.minutes(defaults.BAKE_MINUTES)
DEFAULT_MODEL_DATA_DOWNLOAD_TIMEOUT = cdk.Duration.seconds(defaults.MODEL_DATA_DOWNLOAD_TIMEOUT_SECONDS)
DEFAULT_CONTAINER_STARTUP_TIMEOUT = cdk.Duration.seconds(defaults.CONTAINER_STARTUP_HEALTH_CHECK_TIMEOUT_SECONDS)


def startup_timeouts(download: cdk.Duration | None, startup: cdk.Duration | None) -> dict[str, float]:
    """The two start-up timeouts in seconds, defaults applied, keyed by their prop names."""
    return {
        "model_data_download_timeout": (download or DEFAULT_MODEL_DATA_DOWNLOAD_TIMEOUT).to_seconds(),
        "container_startup_health_check_timeout": (startup or DEFAULT_CONTAINER_STARTUP_TIMEOUT).to_seconds(),
    }


def seconds(duration: cdk.Duration | None, default_seconds: float) -> float:
    return duration.to_seconds() if duration is not None else float(default_seconds)


def instance_type_of(value: InstanceType | str, problems: list[str]) -> InstanceType | None:
    """The value object for an ``instance_type`` prop given as one or as a name; None (a problem) for a bad form."""
    if isinstance(value, InstanceType):
        return value
    problem = form_problem(value)
    if problem is not None:
        problems.append(f"instance_type {value!r} {problem}")
        return None
    return InstanceType(value)


def model_problems(model: ServingModel) -> list[str]:
    """What keeps a model from starting wherever it is served."""
    network = model.network
    if network is not None and not model.network_isolation and not network.allow_internet_egress:
        return [
            "model downloads its weights at start-up (its weights source needs the internet) and model.network has "
            "no internet egress: the container could not start; create its EndpointNetwork with "
            "allow_internet_egress=True, or copy the weights to S3 (HubWeightsCopy, S3PrefixWeights)"
        ]
    return []


def within(seconds_by_name: Mapping[str, float], bounds: tuple[int, int], problems: list[str]) -> None:
    low, high = bounds
    for name, value in seconds_by_name.items():
        if not low <= value <= high:
            problems.append(f"{name} {value:g}s must be between {low} and {high} seconds")


def bake_time_seconds(owner: str, bake_time: cdk.Duration | None) -> int:
    """``configure_updates``' bake time in seconds (Default: 10 minutes), within what the update policies take."""
    bake = seconds(bake_time, DEFAULT_BAKE_TIME.to_seconds())
    problems: list[str] = []
    within({"bake_time": bake}, BAKE_TIME_RANGE, problems)
    raise_problems(owner, problems)
    return int(bake)


def raise_problems(owner: str, problems: list[str]) -> None:
    if problems:
        raise ValueError(f"{owner}: " + "; ".join(problems))
