"""Metric math the alarms and the dashboard share, over any served model (``IServedModel``)."""

from __future__ import annotations

import re

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch

from tgi_sagemaker.served_model import IServedModel
from tgi_sagemaker.serving_metrics import MICROSECONDS


def error_rate_percent(serving: IServedModel, *, period: cdk.Duration) -> cloudwatch.MathExpression:
    """5xx responses as a share of invocations; 0 when there was no traffic (an idle endpoint is healthy)."""
    return cloudwatch.MathExpression(
        expression="IF(invocations > 0, 100 * errors / invocations, 0)",
        using_metrics={
            "invocations": serving.metric_invocations(period=period),
            "errors": serving.metric_invocation_errors("5XX", period=period),
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
