"""One stack per deployment of a resolved config with its own endpoint, and one per shared endpoint with every model
on it (the app adds the compliance checks once, over everything)."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk

from stacks.shared_endpoint_stack import SharedEndpointStack
from stacks.tgi_endpoint_stack import TgiEndpointStack
from tgi_sagemaker import ResolvedApp


@dataclass(frozen=True)
class SmokeTarget:
    """One model that a post-deploy smoke test invokes once: what the step reads and what its role may invoke."""

    name: str
    """Unique among the targets of one config, and valid in a CodePipeline action name: the stack's name for a
    deployment with its own endpoint, ``<shared endpoint's stack>.<deployment>`` for a model on a shared one (no
    stack or deployment name holds a '.')."""
    invoke_target: cdk.CfnOutput
    """The stack output with the ``tgi-sagemaker invoke --endpoint`` value: ``ENDPOINT`` or ``ENDPOINT:COMPONENT``."""
    endpoint_name: str
    component_name: str | None
    """The inference component a request names; None for a model that is the endpoint's variant."""


@dataclass(frozen=True)
class DeploymentStacks:
    """Every stack a config deploys, those of its deployments with their own endpoint and those of its shared
    endpoints, each kind typed as itself."""

    own_endpoint: tuple[TgiEndpointStack, ...]
    shared_endpoint: tuple[SharedEndpointStack, ...]

    @property
    def stacks(self) -> tuple[cdk.Stack, ...]:
        """All of them, own-endpoint stacks first, each in config order."""
        return (*self.own_endpoint, *self.shared_endpoint)

    @property
    def smoke_targets(self) -> tuple[SmokeTarget, ...]:
        """Every model once: each own endpoint, and each inference component of each shared endpoint."""
        own = tuple(
            SmokeTarget(
                name=stack.stack_name,
                invoke_target=stack.invoke_target_output,
                endpoint_name=stack.endpoint_name,
                component_name=stack.component_name,
            )
            for stack in self.own_endpoint
        )
        shared = tuple(
            SmokeTarget(
                name=f"{stack.stack_name}.{deployment}",
                invoke_target=output,
                endpoint_name=stack.endpoint.endpoint_name,
                component_name=stack.components[deployment].component_name,
            )
            for stack in self.shared_endpoint
            for deployment, output in stack.invoke_target_outputs.items()
        )
        return (*own, *shared)


def add_deployment_stacks(scope: cdk.Stage, resolved: ResolvedApp) -> DeploymentStacks:
    """``scope``: the app, or a pipeline's stage (the stack names stay as configured, without a stage prefix).
    Stacks of a production environment get termination protection. Returns every stack added: the deployments' own
    and the shared endpoints' (``add_shared_endpoint_stacks``'s, which this calls)."""
    spec = resolved.spec.environment
    environment = cdk.Environment(account=spec.account, region=spec.region)
    own = tuple(
        TgiEndpointStack(
            scope,
            deployment.stack_name,
            deployment=deployment,
            env=environment,
            stack_name=deployment.stack_name,
            termination_protection=spec.production,
        )
        for deployment in resolved.own_endpoint_deployments
    )
    return DeploymentStacks(own_endpoint=own, shared_endpoint=tuple(add_shared_endpoint_stacks(scope, resolved)))


def add_shared_endpoint_stacks(scope: cdk.Stage, resolved: ResolvedApp) -> list[SharedEndpointStack]:
    """A stack per shared endpoint (``endpoints:``), with the models that run on it."""
    spec = resolved.spec.environment
    environment = cdk.Environment(account=spec.account, region=spec.region)
    return [
        SharedEndpointStack(
            scope,
            endpoint.stack_name,
            shared_endpoint=endpoint,
            env=environment,
            stack_name=endpoint.stack_name,
            termination_protection=spec.production,
        )
        for endpoint in resolved.endpoints
    ]
