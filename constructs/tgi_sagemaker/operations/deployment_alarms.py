"""The alarms an on-call engineer needs for one served model, and the ones that roll an update back."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from constructs import Construct

from tgi_sagemaker import defaults, limits
from tgi_sagemaker.operations.alarm_parts import notify, sustained_alarm
from tgi_sagemaker.operations.metric_math import error_rate_percent
from tgi_sagemaker.prop_checks import raise_problems
from tgi_sagemaker.served_model import IServedModel
from tgi_sagemaker.serving_metrics import MICROSECONDS

MODEL_LATENCY_LIMIT_SECONDS = 3600


class DeploymentAlarms(Construct):
    """5xx rate, model latency p90 and GPU memory of ``serving``; the weights copy failing, if there is one.

    :param serving: what serves the model (``IServedModel``: an ``InstanceEndpoint`` or a
        ``ScalableInferenceComponent``).
    :param error_rate_threshold_percent: 5xx share of invocations over 5 minutes. Default: 5.
    :param model_latency_p90: p90 ``ModelLatency`` over 5 minutes (a whole streamed answer), at most an hour.
        Default: 2 minutes.
    :param gpu_memory_percent: GPU memory use for 15 minutes in a row. Default: 98 (TGI reserves most GPU memory
        for its KV cache at start: ~90 % is normal, the alarm is for a leak or an oversized batch).
    :param weights_copy_failures: copy executions that failed or timed out, e.g.
        ``HubWeightsCopy.metric_failed_copies()``: one or more is an alarm. Default: none (no copy alarm).
    :param topic: notified on ALARM and back to OK. Default: none. A topic of this app gets a policy statement
        that lets CloudWatch publish for exactly these alarms (a topic whose policy holds only a Deny, such as a
        TLS-only one, would otherwise refuse them); an imported topic's policy is its owner's to extend.

    ``rollback_alarms`` (5xx rate and latency) are the ones to hand to ``configure_updates``. None of these
    treats missing data as breaching: an endpoint scaled to zero sends none and is healthy.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        serving: IServedModel,
        error_rate_threshold_percent: float = defaults.ERROR_RATE_PERCENT,
        model_latency_p90: cdk.Duration | None = None,
        gpu_memory_percent: float = defaults.GPU_MEMORY_PERCENT,
        weights_copy_failures: cloudwatch.IMetric | None = None,
        topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        latency = model_latency_p90 or cdk.Duration.seconds(defaults.MODEL_LATENCY_P90_SECONDS)
        _validate(error_rate_threshold_percent, gpu_memory_percent, latency)
        five_minutes = cdk.Duration.minutes(5)
        self.error_rate_alarm = self._alarm(
            "ErrorRate",
            f"More than {error_rate_threshold_percent:g} % of requests got a 5xx in 5 minutes",
            error_rate_percent(serving, period=five_minutes),
            error_rate_threshold_percent,
        )
        self.model_latency_alarm = self._alarm(
            "ModelLatency",
            f"p90 model latency above {latency.to_seconds():g} s over 5 minutes",
            serving.metric_model_latency("p90", period=five_minutes),
            latency.to_seconds() * MICROSECONDS,
        )
        self.gpu_memory_alarm = self._alarm(
            "GpuMemory",
            f"GPU memory above {gpu_memory_percent:g} % for 15 minutes",
            serving.metric_utilization_percent("GPUMemory"),
            gpu_memory_percent,
            evaluation_periods=15,
        )
        self.weights_copy_alarm = None
        if weights_copy_failures is not None:
            self.weights_copy_alarm = self._alarm(
                "WeightsCopyFailed",
                "A weights copy execution failed or timed out: the deployment's custom resource fails with it",
                weights_copy_failures,
                1,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            )
        self.rollback_alarms: list[cloudwatch.IAlarm] = [self.error_rate_alarm, self.model_latency_alarm]
        self.alarms: list[cloudwatch.Alarm] = [self.error_rate_alarm, self.model_latency_alarm, self.gpu_memory_alarm]
        if self.weights_copy_alarm is not None:
            self.alarms.append(self.weights_copy_alarm)
        notify(self, self.alarms, topic)

    def _alarm(
        self,
        name: str,
        description: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        *,
        evaluation_periods: int = 1,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    ) -> cloudwatch.Alarm:
        return sustained_alarm(
            self, name, description, metric, threshold, periods=evaluation_periods, comparison=comparison
        )


def _validate(error_rate: float, gpu_memory: float, model_latency_p90: cdk.Duration) -> None:
    problems = [
        f"{name} {value} must be above 0 and at most {limits.MAX_ALARM_PERCENT}"
        for name, value in (("error_rate_threshold_percent", error_rate), ("gpu_memory_percent", gpu_memory))
        if not 0 < value <= limits.MAX_ALARM_PERCENT
    ]
    latency = model_latency_p90.to_seconds()
    if not 0 < latency <= MODEL_LATENCY_LIMIT_SECONDS:
        problems.append(
            f"model_latency_p90 {latency:g}s must be above 0 and at most {MODEL_LATENCY_LIMIT_SECONDS} seconds "
            "(SageMaker ends an invocation within an hour)"
        )
    raise_problems("DeploymentAlarms", problems)
