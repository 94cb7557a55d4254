"""The graphs a model's dashboard and a shared endpoint's dashboard both draw: requests and errors with the 5xx rate,
model latency percentiles, each graph of one size."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch

from tgi_sagemaker.operations.metric_math import error_rate_percent, in_seconds
from tgi_sagemaker.served_model import IServedModel

PERCENTILES = ("p50", "p90", "p99")


def graph(
    title: str, left: Sequence[cloudwatch.IMetric], *, right: Sequence[cloudwatch.IMetric] = ()
) -> cloudwatch.GraphWidget:
    """A graph a third of the dashboard wide."""
    return cloudwatch.GraphWidget(title=title, left=list(left), right=list(right), width=8, height=6)


def requests_and_errors_graph(title: str, serving: IServedModel) -> cloudwatch.GraphWidget:
    """Invocations, 4xx and 5xx a minute on the left; the 5xx rate (%) on the right."""
    return graph(
        title,
        [
            serving.metric_invocations(),
            serving.metric_invocation_errors("4XX"),
            serving.metric_invocation_errors("5XX"),
        ],
        right=[error_rate_percent(serving, period=cdk.Duration.minutes(1))],
    )


def model_latency_graph(title: str, serving: IServedModel, *, label: str) -> cloudwatch.GraphWidget:
    """Model latency p50/p90/p99 in seconds, each line labelled ``<label> <percentile>``."""
    return graph(title, [in_seconds(serving.metric_model_latency(p), f"{label} {p}") for p in PERCENTILES])
