"""The one protocol of what serves a model: ``InstanceEndpoint`` and ``ScalableInferenceComponent`` both implement it,
so alarms, dashboards, update policies and grants are written once for either (``DeploymentAlarms``,
``DeploymentDashboard``, the reference stack).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from typing_extensions import Unpack

from tgi_sagemaker.serving_metrics import ErrorKind, MetricOptions, MetricOptionsExceptStatistic, Resource

UpdateStrategy = Literal["blue_green", "rolling"]


class IServedModel(Protocol):
    """A model served to callers: an instance endpoint's variant, or an inference component on a shared endpoint."""

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to invoke the model, streaming or not."""
        ...

    def configure_updates(
        self,
        *,
        strategy: UpdateStrategy | None = None,
        bake_time: cdk.Duration | None = None,
        rollback_alarms: Sequence[cloudwatch.IAlarm] = (),
    ) -> None:
        """How a new model version reaches callers, and which alarms roll it back. Default strategy: the one
        the construct supports best (blue/green for an instance endpoint, rolling for a component)."""
        ...

    def metric(self, metric_name: str, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """A metric of ``AWS/SageMaker`` for this model."""
        ...

    def metric_invocations(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric: ...

    def metric_invocation_errors(self, kind: ErrorKind, **options: Unpack[MetricOptions]) -> cloudwatch.Metric: ...

    def metric_model_latency(
        self, statistic: str = "p90", **options: Unpack[MetricOptionsExceptStatistic]
    ) -> cloudwatch.Metric: ...

    def metric_overhead_latency(
        self, statistic: str = "p90", **options: Unpack[MetricOptionsExceptStatistic]
    ) -> cloudwatch.Metric: ...

    def metric_utilization_percent(self, resource: Resource, **options: Unpack[MetricOptions]) -> cloudwatch.IMetric:
        """0-100 of ``resource``: of an instance's, or of what the component's copies reserved."""
        ...

    def capacity_metrics(self) -> list[cloudwatch.IMetric]:
        """What runs and what is missing: instances, and for components copies and requests that found none."""
        ...
