"""The CloudWatch metrics SageMaker publishes for what serves a model, in one place.

Invocation metrics (``AWS/SageMaker``) per endpoint variant (``EndpointName``, ``VariantName``) or per inference
component (``InferenceComponentName``); utilization per endpoint variant in ``/aws/sagemaker/Endpoints`` (GPU
figures summed over the instance's GPUs: 0-100 x GPUs) or per component in ``/aws/sagemaker/InferenceComponents``
(``...Normalized``: 0-100 of what the copies reserved). Latencies are in microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal, Protocol

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch

INVOCATIONS_NAMESPACE = "AWS/SageMaker"
ENDPOINT_UTILIZATION_NAMESPACE = "/aws/sagemaker/Endpoints"
COMPONENT_UTILIZATION_NAMESPACE = "/aws/sagemaker/InferenceComponents"
Resource = Literal["CPU", "Memory", "GPU", "GPUMemory"]
ErrorKind = Literal["4XX", "5XX"]
MICROSECONDS = 1_000_000


class ServingMetrics(Protocol):
    """What serves a model (``InstanceEndpoint``, ``ScalableInferenceComponent``): the metrics every operator needs."""

    def metric_invocations(self) -> cloudwatch.Metric: ...

    def metric_invocation_errors(self, kind: ErrorKind) -> cloudwatch.Metric: ...

    def metric_model_latency(self, statistic: str = "p90") -> cloudwatch.Metric: ...

    def metric_overhead_latency(self, statistic: str = "p90") -> cloudwatch.Metric: ...

    def metric_utilization_percent(self, resource: Resource) -> cloudwatch.IMetric: ...


class InvocationMetrics:
    """The ``AWS/SageMaker`` invocation metrics of whatever serves a model, keyed by ``_dimensions``: one
    implementation for an endpoint variant (``EndpointName``, ``VariantName``) and an inference component."""

    @property
    def _dimensions(self) -> dict[str, str]:
        raise NotImplementedError

    def metric(
        self, metric_name: str, *, statistic: str = "Average", period: cdk.Duration | None = None
    ) -> cloudwatch.Metric:
        """A metric in ``AWS/SageMaker`` (``Invocations``, ``ModelLatency``, ``NoCapacityInvocationFailures``...)."""
        return sagemaker_metric(
            INVOCATIONS_NAMESPACE, metric_name, self._dimensions, statistic=statistic, period=period
        )

    def metric_invocations(self) -> cloudwatch.Metric:
        return self.metric("Invocations", statistic="Sum")

    def metric_invocation_errors(self, kind: ErrorKind) -> cloudwatch.Metric:
        return self.metric(f"Invocation{kind}Errors", statistic="Sum")

    def metric_model_latency(self, statistic: str = "p90") -> cloudwatch.Metric:
        """Microseconds from the request reaching the container to its last byte (a whole streamed answer)."""
        return self.metric("ModelLatency", statistic=statistic)

    def metric_overhead_latency(self, statistic: str = "p90") -> cloudwatch.Metric:
        """Microseconds SageMaker adds around the container (auth, routing)."""
        return self.metric("OverheadLatency", statistic=statistic)


def sagemaker_metric(
    namespace: str,
    metric_name: str,
    dimensions: Mapping[str, str],
    *,
    statistic: str = "Average",
    period: cdk.Duration | None = None,
    label: str | None = None,
) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=metric_name,
        dimensions_map=dict(dimensions),
        statistic=statistic,
        period=period or cdk.Duration.minutes(1),
        label=label,
    )


def error_rate_percent(serving: ServingMetrics, *, period: cdk.Duration) -> cloudwatch.MathExpression:
    """5xx responses as a share of invocations; 0 when there was no traffic (an idle endpoint is healthy)."""
    return cloudwatch.MathExpression(
        expression="IF(invocations > 0, 100 * errors / invocations, 0)",
        using_metrics={
            "invocations": serving.metric_invocations().with_(period=period),
            "errors": serving.metric_invocation_errors("5XX").with_(period=period),
        },
        label="5xx %",
        period=period,
    )


def in_seconds(latency_microseconds: cloudwatch.Metric, label: str) -> cloudwatch.MathExpression:
    """``label`` names the expression's input too: ids must differ between expressions on one graph."""
    metric_id = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
    return cloudwatch.MathExpression(
        expression=f"{metric_id} / {MICROSECONDS}",
        using_metrics={metric_id: latency_microseconds},
        label=label,
        period=latency_microseconds.period,
    )
