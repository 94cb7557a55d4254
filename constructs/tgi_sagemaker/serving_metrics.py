"""The CloudWatch metrics SageMaker publishes for what serves a model, in one place.

Invocation metrics (``AWS/SageMaker``) per endpoint variant (``EndpointName``, ``VariantName``) or per inference
component (``InferenceComponentName``); utilization per endpoint variant in ``/aws/sagemaker/Endpoints`` (GPU
figures summed over the instance's GPUs: 0-100 x GPUs) or per component in ``/aws/sagemaker/InferenceComponents``
(``...Normalized``: 0-100 of what the copies reserved). Latencies are in microseconds.

Every helper takes the fields of ``cloudwatch.MetricOptions`` (``period``, ``statistic``, ``label``...) over its
own defaults, as aws-cdk's ``metric*`` helpers do; the dimensions are always the construct's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypedDict

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from typing_extensions import Unpack

INVOCATIONS_NAMESPACE = "AWS/SageMaker"
ENDPOINT_UTILIZATION_NAMESPACE = "/aws/sagemaker/Endpoints"
COMPONENT_UTILIZATION_NAMESPACE = "/aws/sagemaker/InferenceComponents"
Resource = Literal["CPU", "Memory", "GPU", "GPUMemory"]
ErrorKind = Literal["4XX", "5XX"]
MICROSECONDS = 1_000_000


class MetricOptionsExceptStatistic(TypedDict, total=False):
    """What latency helpers take after their first argument, the statistic (``metric_model_latency("p99")``)."""

    account: str
    color: str
    id: str
    label: str
    period: cdk.Duration
    region: str
    stack_account: str
    stack_region: str
    unit: cloudwatch.Unit
    visible: bool


class MetricOptions(MetricOptionsExceptStatistic, total=False):
    """``cloudwatch.MetricOptions`` without ``dimensions_map``: a helper's metric is about its construct."""

    statistic: str


def sagemaker_metric(
    namespace: str, metric_name: str, dimensions: Mapping[str, str], **options: Unpack[MetricOptions]
) -> cloudwatch.Metric:
    """A metric of ``dimensions``: the average over one minute, unless ``options`` say otherwise."""
    fields = with_defaults(options, statistic="Average", period=cdk.Duration.minutes(1))
    return cloudwatch.Metric(namespace=namespace, metric_name=metric_name, dimensions_map=dict(dimensions), **fields)


def with_defaults(options: MetricOptions, **defaults: Unpack[MetricOptions]) -> MetricOptions:
    """``options`` over ``defaults``, as aws-cdk spreads a caller's ``MetricOptions`` over a helper's."""
    return {**defaults, **options}


class InvocationMetrics:
    """The ``AWS/SageMaker`` invocation metrics of whatever serves a model, keyed by ``_dimensions``: one
    implementation for an endpoint variant (``EndpointName``, ``VariantName``) and an inference component."""

    @property
    def _dimensions(self) -> dict[str, str]:
        raise NotImplementedError

    def metric(self, metric_name: str, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """A metric in ``AWS/SageMaker`` (``Invocations``, ``ModelLatency``, ``NoCapacityInvocationFailures``...).
        Default: the average over one minute."""
        return sagemaker_metric(INVOCATIONS_NAMESPACE, metric_name, self._dimensions, **options)

    def metric_invocations(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Requests. Default: the sum over one minute."""
        return self.metric("Invocations", **with_defaults(options, statistic="Sum"))

    def metric_invocation_errors(self, kind: ErrorKind, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Requests answered with a 4xx or 5xx. Default: the sum over one minute."""
        return self.metric(f"Invocation{kind}Errors", **with_defaults(options, statistic="Sum"))

    def metric_model_latency(
        self, statistic: str = "p90", **options: Unpack[MetricOptionsExceptStatistic]
    ) -> cloudwatch.Metric:
        """Microseconds from the request reaching the container to its last byte (a whole streamed answer), over
        one minute unless ``options`` say otherwise."""
        return self.metric("ModelLatency", statistic=statistic, **options)

    def metric_overhead_latency(
        self, statistic: str = "p90", **options: Unpack[MetricOptionsExceptStatistic]
    ) -> cloudwatch.Metric:
        """Microseconds SageMaker adds around the container (auth, routing), over one minute unless ``options``
        say otherwise."""
        return self.metric("OverheadLatency", statistic=statistic, **options)


def instance_count_metric(dimensions: Mapping[str, str], **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
    """Instances of an endpoint variant: each reports ``CPUUtilization`` once a minute, so the sample count is
    the count."""
    return sagemaker_metric(
        ENDPOINT_UTILIZATION_NAMESPACE,
        "CPUUtilization",
        dimensions,
        **with_defaults(options, statistic="SampleCount", label="instances"),
    )
