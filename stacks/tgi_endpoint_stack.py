"""One deployment: network, TGI model and endpoint with autoscaling, composed from the library."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.stack_parts import (
    PinnedZonesStack,
    alarm_topic,
    deployment_alarms,
    endpoint_network,
    invoke_command,
    log_retention,
    model_weights,
    scalable_component,
)
from tgi_sagemaker import (
    DeploymentDashboard,
    EndpointNetwork,
    HubWeightsCopy,
    InferenceComponentEndpoint,
    InstanceEndpoint,
    IServedModel,
    ModelWeights,
    ResolvedDeployment,
    ServingModel,
    manage_function_log_groups,
)


class TgiEndpointStack(PinnedZonesStack):
    def __init__(self, scope: Construct, construct_id: str, *, deployment: ResolvedDeployment, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            availability_zones=deployment.spec.network.availability_zones,
            tags=deployment.tags,
            description=f"{deployment.runtime.container_name} on SageMaker: {deployment.model_id}",
            **kwargs,
        )
        self.log_retention = log_retention(deployment.spec.operations.log_retention_days)
        self.weights_copy: HubWeightsCopy | None = None
        network = self._network(deployment)
        self.model = ServingModel(
            self,
            "TgiModel",  # names deployed resources: another id would replace them
            runtime=deployment.runtime,
            weights=self._weights(deployment),
            environment=deployment.settings_environment,
            network=network,
        )
        if deployment.scaling.mode == "scale_to_zero":
            self.serving, endpoint_name, component_name = self._scale_to_zero_endpoint(deployment, network)
        else:
            self.serving, endpoint_name, component_name = self._instance_endpoint(deployment)
        self._operations(deployment, self.serving)
        manage_function_log_groups(self, self.log_retention)
        cdk.CfnOutput(self, "EndpointName", value=endpoint_name, description="SageMaker endpoint")
        cdk.CfnOutput(
            self,
            "InvokeCommand",
            description="Send one chat request (AWS CLI v2)",
            value=invoke_command(region=self.region, endpoint_name=endpoint_name, component_name=component_name),
        )
        target = f"{endpoint_name}:{component_name}" if component_name is not None else endpoint_name
        self.endpoint_name = endpoint_name
        self.component_name = component_name
        self.invoke_target_output = cdk.CfnOutput(
            self, "InvokeTarget", value=target, description="tgi-sagemaker invoke --endpoint value"
        )
        cdk.CfnOutput(
            self,
            "StreamCommand",
            description="Stream an answer, reasoning apart, waiting out a scale-from-zero (tgi-sagemaker CLI)",
            value=f"tgi-sagemaker invoke --region {self.region} --endpoint {target} 'What is 7 x 8? Think briefly.'",
        )
        self.tag_resources()

    def _weights(self, deployment: ResolvedDeployment) -> ModelWeights:
        weights = model_weights(self, deployment, self.log_retention)
        self.weights_copy = weights.copy
        if weights.bucket is not None:
            self.weights_bucket = weights.bucket
        return weights.source

    def _instance_endpoint(self, deployment: ResolvedDeployment) -> tuple[IServedModel, str, str | None]:
        scaling, plan, timeouts = deployment.spec.scaling, deployment.scaling, deployment.spec.timeouts
        endpoint = InstanceEndpoint(
            self,
            "Endpoint",
            model=self.model,
            instance_type=deployment.instance.name,
            min_instances=plan.min_instances,
            max_instances=plan.max_instances,
            invocations_per_instance=scaling.invocations_per_instance,
            scale_in_cooldown=cdk.Duration.seconds(scaling.scale_in_cooldown_seconds),
            scale_out_cooldown=cdk.Duration.seconds(scaling.scale_out_cooldown_seconds),
            model_data_download_timeout=cdk.Duration.seconds(timeouts.model_data_download_seconds),
            container_startup_health_check_timeout=cdk.Duration.seconds(
                timeouts.container_startup_health_check_seconds
            ),
        )
        self.endpoint: InstanceEndpoint | InferenceComponentEndpoint = endpoint
        return endpoint, endpoint.endpoint_name, None

    def _scale_to_zero_endpoint(
        self, deployment: ResolvedDeployment, network: EndpointNetwork | None
    ) -> tuple[IServedModel, str, str | None]:
        plan = deployment.scaling
        endpoint = InferenceComponentEndpoint(
            self,
            "Endpoint",
            role=self.model.role,
            instance_type=deployment.instance.name,
            min_instances=plan.min_instances,
            max_instances=plan.max_instances,
            network=network,
            network_isolation=self.model.network_isolation,
            inference_ami_version=deployment.runtime.inference_ami_version,
        )
        self.component = scalable_component(self, endpoint=endpoint, model=self.model, deployment=deployment)
        self.endpoint = endpoint
        cdk.CfnOutput(self, "InferenceComponentName", value=self.component.component_name)
        return self.component, endpoint.endpoint_name, self.component.component_name

    def _operations(self, deployment: ResolvedDeployment, serving: IServedModel) -> None:
        """Alarms (and what they notify), the update policy that rolls back on them, the dashboard."""
        operations = deployment.spec.operations
        copy = self.weights_copy
        self.alarms = None
        if operations.alarms:
            self.alarms = deployment_alarms(
                self,
                deployment=deployment,
                serving=serving,
                weights_copy=copy,
                topic=alarm_topic(self, operations),
            )
        rollback = self.alarms.rollback_alarms if self.alarms and operations.auto_rollback else []
        serving.configure_updates(
            strategy=deployment.update_strategy,
            bake_time=cdk.Duration.minutes(operations.bake_minutes),
            rollback_alarms=rollback,
        )
        if operations.dashboard:
            self.dashboard = DeploymentDashboard(
                self,
                "Dashboard",
                serving=serving,
                alarms=self.alarms.alarms if self.alarms else [],
                weights_copy_state_machine=copy.state_machine if copy else None,
                weights_copy_function=copy.copy_function if copy else None,
            )
            cdk.CfnOutput(self, "DashboardName", value=self.dashboard.dashboard_name)

    def _network(self, deployment: ResolvedDeployment) -> EndpointNetwork | None:
        return endpoint_network(
            self, deployment.spec.network, egress=deployment.network_egress, log_retention=self.log_retention
        )
