"""``operations``: alarms and where they notify, log retention, and how updates roll out."""

from __future__ import annotations

from typing import Literal

from tgi_sagemaker.config.errors import Problems
from tgi_sagemaker.config.spec import DeploymentSpec, OperationsSpec, SharedEndpointOperationsSpec
from tgi_sagemaker.limits import LOG_RETENTION_DAYS


def check_operations(spec: DeploymentSpec, problems: Problems) -> None:
    operations = spec.operations
    check_retention_and_notification(operations, problems)
    notifies = bool(operations.alarm_emails or operations.alarm_topic_arn)
    for setting, needs_alarms in (("alarm_emails", notifies), ("auto_rollback", operations.auto_rollback)):
        if needs_alarms and not operations.alarms:
            problems.add(
                f"operations.{setting}",
                getattr(operations, setting),
                "needs the alarms, which operations.alarms turns off",
                f"set operations.alarms: true, or drop operations.{setting}",
            )
    if operations.update_strategy == "blue_green" and spec.scaling.mode == "scale_to_zero":
        problems.add(
            "operations.update_strategy",
            "blue_green",
            "an inference component updates copy by copy; blue/green is for instance-based endpoints",
            "drop operations.update_strategy (rolling)"
            # A model on a shared endpoint is always an inference component: no other mode to offer.
            + (", or use scaling.mode: instances" if spec.endpoint is None else ""),
        )


def resolve_update_strategy(spec: DeploymentSpec) -> Literal["blue_green", "rolling"]:
    if spec.operations.update_strategy is not None:
        return spec.operations.update_strategy
    return "rolling" if spec.scaling.mode == "scale_to_zero" else "blue_green"


def check_retention_and_notification(
    operations: OperationsSpec | SharedEndpointOperationsSpec, problems: Problems
) -> None:
    """What a deployment's ``operations`` and a shared endpoint's both check: a log retention CloudWatch Logs
    offers, and one place to notify at most."""
    if operations.log_retention_days not in LOG_RETENTION_DAYS:
        problems.add(
            "operations.log_retention_days",
            operations.log_retention_days,
            "CloudWatch Logs keeps logs for set periods only",
            f"use one of {', '.join(map(str, LOG_RETENTION_DAYS))}",
        )
    if operations.alarm_emails and operations.alarm_topic_arn:
        problems.add(
            "operations.alarm_topic_arn",
            operations.alarm_topic_arn,
            "given together with alarm_emails",
            "keep one: alarm_emails creates a topic for them, or subscribe the addresses to your topic",
        )
