"""The alarms of a shared endpoint that no one model's alarms cover: its fleet is full, a model finds no copy."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from constructs import Construct

from tgi_sagemaker import defaults
from tgi_sagemaker.inference_component_endpoint import InferenceComponentEndpoint
from tgi_sagemaker.operations.alarm_parts import notify, sustained_alarm
from tgi_sagemaker.prop_checks import raise_problems
from tgi_sagemaker.scalable_inference_component import ScalableInferenceComponent


class SharedEndpointAlarms(Construct):
    """Instance-level alarms once per endpoint, and a no-capacity alarm for each component on it.

    - ``fleet_full_alarm``: the endpoint has run ``max_instances`` instances for ``sustained`` minutes: the next
      scale-out of any of its models finds no instance (``metric_instance_count`` at or above ``max_instances``);
    - ``no_capacity_alarms[name]``: requests to that component found no copy in every minute of ``sustained``:
      a wake-up from zero takes minutes, longer means its scale-out is stalled (no room on the instances, or a copy
      that fails to start). The component's own wake-up alarm fires on the first such request instead.

    :param endpoint: the shared endpoint.
    :param components: the components on it, by a name shown in the alarms' descriptions (the deployment's).
        Default: none, the fleet alarm only.
    :param sustained: minutes in a row before either alarm fires. Default: 15.
    :param topic: notified on ALARM and back to OK. Default: none (as ``DeploymentAlarms``).

    Missing data is never breaching: an endpoint scaled to zero sends none and is healthy.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint: InferenceComponentEndpoint,
        components: Mapping[str, ScalableInferenceComponent] | None = None,
        sustained: int = defaults.SHARED_ENDPOINT_ALARM_MINUTES,
        topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if sustained < 1:
            raise_problems("SharedEndpointAlarms", [f"sustained {sustained} must be at least 1 minute"])
        self.fleet_full_alarm = self._alarm(
            "FleetFull",
            f"The endpoint has run its max_instances ({endpoint.max_instances}) for {sustained} minutes: the next "
            "scale-out of any of its models finds no instance",
            endpoint.metric_instance_count(),
            endpoint.max_instances,
            sustained,
        )
        self.no_capacity_alarms: dict[str, cloudwatch.Alarm] = {}
        for name, component in (components or {}).items():
            self.no_capacity_alarms[name] = self._alarm(
                f"NoCapacity{_id(name)}",
                f"Requests to {name} found no copy for {sustained} minutes: its scale-out is stalled (no room on the "
                "endpoint's instances, or a copy that does not start)",
                component.metric_no_capacity_failures(),
                1,
                sustained,
            )
        self.alarms: list[cloudwatch.Alarm] = [self.fleet_full_alarm, *self.no_capacity_alarms.values()]
        notify(self, self.alarms, topic)

    def _alarm(
        self, name: str, description: str, metric: cloudwatch.IMetric, threshold: float, minutes: int
    ) -> cloudwatch.Alarm:
        return sustained_alarm(
            self,
            name,
            description,
            metric,
            threshold,
            periods=minutes,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        )


def _id(name: str) -> str:
    """A construct id from a deployment name: ``r1-qwen-7b`` -> ``R1Qwen7b``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("-"))
