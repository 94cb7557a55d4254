"""One stack per deployment of a resolved config with its own endpoint, and one per shared endpoint with every model
on it (the app adds the compliance checks once, over everything)."""

from __future__ import annotations

import aws_cdk as cdk

from stacks.shared_endpoint_stack import SharedEndpointStack
from stacks.tgi_endpoint_stack import TgiEndpointStack
from tgi_sagemaker import ResolvedApp


def add_deployment_stacks(scope: cdk.Stage, resolved: ResolvedApp) -> list[TgiEndpointStack]:
    """``scope``: the app, or a pipeline's stage (the stack names stay as configured, without a stage prefix).
    Stacks of a production environment get termination protection. Returns the deployments' own stacks; the
    shared endpoints' stacks are ``add_shared_endpoint_stacks``'s, which this calls too."""
    spec = resolved.spec.environment
    environment = cdk.Environment(account=spec.account, region=spec.region)
    own = [
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
    add_shared_endpoint_stacks(scope, resolved)
    return own


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
