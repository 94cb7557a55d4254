#!/usr/bin/env python3
"""Reads the deployment config once, validates it, instantiates one stack per deployment. Nothing else."""

import sys

import aws_cdk as cdk

from stacks import TgiEndpointStack
from tgi_sagemaker import ConfigError, add_compliance_checks, load_app
from tgi_sagemaker.config_source import CONFIG_FILE_CONTEXT_KEY, CONTEXT_KEY, read_config


def main() -> None:
    app = cdk.App()
    try:
        raw, source = read_config(
            app.node.try_get_context(CONFIG_FILE_CONTEXT_KEY), app.node.try_get_context(CONTEXT_KEY)
        )
        resolved = load_app(raw, source)
    except ConfigError as error:
        print(error, file=sys.stderr)
        sys.exit(1)
    environment = resolved.spec.environment
    for deployment in resolved.deployments:
        TgiEndpointStack(
            app,
            deployment.stack_name,
            deployment=deployment,
            env=cdk.Environment(account=environment.account, region=environment.region),
        )
    add_compliance_checks(app)
    app.synth()


if __name__ == "__main__":
    main()
