"""One stack per deployment of a resolved config (the app adds the compliance checks once, over everything)."""

from __future__ import annotations

import aws_cdk as cdk

from stacks.tgi_endpoint_stack import TgiEndpointStack
from tgi_sagemaker import ResolvedApp


def add_deployment_stacks(scope: cdk.Stage, resolved: ResolvedApp) -> list[TgiEndpointStack]:
    """``scope``: the app, or a pipeline's stage (the stack names stay as configured, without a stage prefix).
    Stacks of a production environment get termination protection."""
    spec = resolved.spec.environment
    environment = cdk.Environment(account=spec.account, region=spec.region)
    return [
        TgiEndpointStack(
            scope,
            deployment.stack_name,
            deployment=deployment,
            env=environment,
            stack_name=deployment.stack_name,
            termination_protection=spec.production,
        )
        for deployment in resolved.own_endpoint_deployments
    ]
