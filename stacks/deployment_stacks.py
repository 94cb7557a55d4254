"""One stack per deployment of a resolved config, with the compliance checks on the whole app (or stage)."""

from __future__ import annotations

import aws_cdk as cdk

from stacks.tgi_endpoint_stack import TgiEndpointStack
from tgi_sagemaker import ResolvedApp, add_compliance_checks


def add_deployment_stacks(scope: cdk.Stage, resolved: ResolvedApp) -> list[TgiEndpointStack]:
    """``scope``: the app, or a pipeline's stage (the stack names stay as configured, without a stage prefix)."""
    environment = cdk.Environment(account=resolved.spec.environment.account, region=resolved.spec.environment.region)
    stacks = [
        TgiEndpointStack(
            scope, deployment.stack_name, deployment=deployment, env=environment, stack_name=deployment.stack_name
        )
        for deployment in resolved.deployments
    ]
    add_compliance_checks(scope)
    return stacks
