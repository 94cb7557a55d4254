"""Checks the endpoint constructs share: each returns messages that state the bad value and the range or fix."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk

from tgi_sagemaker import defaults, limits
from tgi_sagemaker.catalog.instance_types import InstanceType, find_instance_type

STARTUP_TIMEOUT_RANGE = limits.STARTUP_TIMEOUT_SECONDS  # ModelDataDownload/ContainerStartupHealthCheck timeouts
COOLDOWN_RANGE = limits.COOLDOWN_SECONDS
DEFAULT_MODEL_DATA_DOWNLOAD_TIMEOUT = cdk.Duration.seconds(defaults.MODEL_DATA_DOWNLOAD_TIMEOUT_SECONDS)
DEFAULT_CONTAINER_STARTUP_TIMEOUT = cdk.Duration.seconds(defaults.CONTAINER_STARTUP_HEALTH_CHECK_TIMEOUT_SECONDS)


def startup_timeouts(download: cdk.Duration | None, startup: cdk.Duration | None) -> dict[str, float]:
    """The two start-up timeouts in seconds, defaults applied, keyed by their prop names."""
    return {
        "model_data_download_timeout": (download or DEFAULT_MODEL_DATA_DOWNLOAD_TIMEOUT).to_seconds(),
        "container_startup_health_check_timeout": (startup or DEFAULT_CONTAINER_STARTUP_TIMEOUT).to_seconds(),
    }


def known_instance_type(instance_type: str, problems: list[str]) -> InstanceType | None:
    """The instance type's figures; None for a token (checked at deploy) or an unknown name (a problem)."""
    if cdk.Token.is_unresolved(instance_type):
        return None
    instance = find_instance_type(instance_type)
    if instance is None:
        problems.append(f"instance_type {instance_type!r} is not a known GPU instance type; use e.g. 'ml.g5.2xlarge'")
    return instance


def within(seconds_by_name: Mapping[str, float], bounds: tuple[int, int], problems: list[str]) -> None:
    low, high = bounds
    for name, seconds in seconds_by_name.items():
        if not low <= seconds <= high:
            problems.append(f"{name} {seconds:g}s must be between {low} and {high} seconds")


def raise_problems(owner: str, problems: list[str]) -> None:
    if problems:
        raise ValueError(f"{owner}: " + "; ".join(problems))
