#!/usr/bin/env python3
"""Reads the deployment config once, validates it, instantiates one stack per deployment. Nothing else."""

import sys

import aws_cdk as cdk

from stacks import add_deployment_stacks
from tgi_sagemaker import ConfigError, load_app
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
    add_deployment_stacks(app, resolved)
    app.synth()


if __name__ == "__main__":
    main()
