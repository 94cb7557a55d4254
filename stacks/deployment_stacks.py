"""One stack per deployment of a resolved config, with the compliance checks on the whole app."""

from __future__ import annotations

import aws_cdk as cdk

from stacks.tgi_endpoint_stack import TgiEndpointStack
from tgi_sagemaker import ResolvedApp, add_compliance_checks


def add_deployment_stacks(app: cdk.App, resolved: ResolvedApp) -> list[TgiEndpointStack]:
    environment = cdk.Environment(account=resolved.spec.environment.account, region=resolved.spec.environment.region)
    stacks = [
        TgiEndpointStack(app, deployment.stack_name, deployment=deployment, env=environment)
        for deployment in resolved.deployments
    ]
    add_compliance_checks(app)
    return stacks
