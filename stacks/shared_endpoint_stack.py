"""One shared endpoint: its network, role and instances, and each model on it as an inference component of its own.

Every model's resources sit under a construct named after its deployment (``<name>/Model``,
``<name>/InferenceComponent``, ...), so their logical ids and the component's name derive from the deployment's name:
adding a model adds resources, changing one updates or replaces its own only, removing one deletes its own only.
"""

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
    DeploymentAlarms,
    InferenceComponentEndpoint,
    ModelExecutionRole,
    ResolvedDeployment,
    ScalableInferenceComponent,
    ServingModel,
    manage_function_log_groups,
)
from tgi_sagemaker.config.resolve import ResolvedSharedEndpoint
from tgi_sagemaker.operations.shared_endpoint_alarms import SharedEndpointAlarms
from tgi_sagemaker.operations.shared_endpoint_dashboard import SharedEndpointDashboard


class SharedEndpointStack(PinnedZonesStack):
    def __init__(
        self, scope: Construct, construct_id: str, *, shared_endpoint: ResolvedSharedEndpoint, **kwargs: Any
    ) -> None:
        spec = shared_endpoint.spec
        models = ", ".join(d.model_id for d in shared_endpoint.deployments)
        super().__init__(
            scope,
            construct_id,
            availability_zones=spec.network.availability_zones,
            tags=shared_endpoint.tags,
            description=f"Shared SageMaker endpoint: {models}",
            **kwargs,
        )
        self.log_retention = log_retention(spec.operations.log_retention_days)
        self.network = endpoint_network(
            self, spec.network, egress=shared_endpoint.network_egress, log_retention=self.log_retention
        )
        # One execution role for the endpoint and its models: the endpoint config's role and each model's must be
        # able to do what SageMaker does for any component (pull its image, read its weights), and which of the
        # two SageMaker uses for a component's container is not documented. Each model's grants stay scoped to its
        # own image and weights prefix.
        self.role = ModelExecutionRole(
            self,
            "ExecutionRole",
            network=self.network,
            description="Runs the containers of the models of a shared SageMaker endpoint",
        ).role
        self.endpoint = InferenceComponentEndpoint(
            self,
            "Endpoint",
            role=self.role,
            instance_type=shared_endpoint.instance.name,
            min_instances=spec.min_instances,
            max_instances=spec.max_instances,
            network=self.network,
            network_isolation=shared_endpoint.deployments[0].spec.weights.source == "s3",
            inference_ami_version=shared_endpoint.inference_ami_version,
        )
        self.topic = alarm_topic(self, spec.operations)
        self.models: dict[str, ServingModel] = {}
        self.components: dict[str, ScalableInferenceComponent] = {}
        self.model_alarms: dict[str, DeploymentAlarms] = {}
        self.invoke_target_outputs: dict[str, cdk.CfnOutput] = {}
        for deployment in shared_endpoint.deployments:
            self._add_model(deployment)
        operations = spec.operations
        self.alarms = (
            SharedEndpointAlarms(self, "Alarms", endpoint=self.endpoint, components=self.components, topic=self.topic)
            if operations.alarms
            else None
        )
        if operations.dashboard:
            self.dashboard = SharedEndpointDashboard(
                self,
                "Dashboard",
                endpoint=self.endpoint,
                components=self.components,
                alarms=[
                    *(self.alarms.alarms if self.alarms else []),
                    *(alarm for alarms in self.model_alarms.values() for alarm in alarms.alarms),
                ],
            )
            cdk.CfnOutput(self, "DashboardName", value=self.dashboard.dashboard_name)
        manage_function_log_groups(self, self.log_retention)
        cdk.CfnOutput(self, "EndpointName", value=self.endpoint.endpoint_name, description="SageMaker endpoint")
        self.tag_resources()

    def _add_model(self, deployment: ResolvedDeployment) -> None:
        """The model's weights, model, component with its scaling, alarms and outputs, under its own name."""
        scope = Construct(self, deployment.name)
        weights = model_weights(scope, deployment, self.log_retention)
        model = ServingModel(
            scope,
            "Model",
            runtime=deployment.runtime,
            weights=weights.source,
            environment=deployment.settings_environment,
            network=self.network,
            role=self.role,
        )
        component = scalable_component(scope, endpoint=self.endpoint, model=model, deployment=deployment)
        operations = deployment.spec.operations
        rollback = []
        if operations.alarms:
            alarms = deployment_alarms(
                scope, deployment=deployment, serving=component, weights_copy=weights.copy, topic=self.topic
            )
            self.model_alarms[deployment.name] = alarms
            rollback = alarms.rollback_alarms if operations.auto_rollback else []
        component.configure_updates(bake_time=cdk.Duration.minutes(operations.bake_minutes), rollback_alarms=rollback)
        self.models[deployment.name] = model
        self.components[deployment.name] = component
        target = f"{self.endpoint.endpoint_name}:{component.component_name}"
        cdk.CfnOutput(scope, "InferenceComponentName", value=component.component_name)
        self.invoke_target_outputs[deployment.name] = cdk.CfnOutput(
            scope, "InvokeTarget", value=target, description="tgi-sagemaker invoke --endpoint value"
        )
        cdk.CfnOutput(
            scope,
            "InvokeCommand",
            description="Send one chat request to this model (AWS CLI v2)",
            value=invoke_command(
                region=self.region,
                endpoint_name=self.endpoint.endpoint_name,
                component_name=component.component_name,
            ),
        )
        for key, value in deployment.tags.items():
            cdk.Tags.of(scope).add(key, value)
