#!/usr/bin/env python3
"""Reads the config once, validates it, and instantiates one stack per deployment, or the pipeline that deploys
them (``-c pipeline=PATH``). Nothing else."""

import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from stacks import add_deployment_stacks
from stacks.pipeline_stack import PipelineStack
from tgi_sagemaker import ConfigError, add_compliance_checks, load_app
from tgi_sagemaker.config.pipeline import load_pipeline
from tgi_sagemaker.config.source import (
    CONFIG_FILE_CONTEXT_KEY,
    CONTEXT_KEY,
    PIPELINE_FILE_CONTEXT_KEY,
    read_config,
    read_config_file,
)

DISABLE_CREATION_STACK_TRACES = "aws:cdk:disable-creation-stack-traces"


def new_app(*, outdir: str | None = None, context: dict[str, Any] | None = None) -> cdk.App:
    """The app as every synthesis of this repository makes it: its output is the same bytes on every run. No
    performance-counters.json (wall-clock timings CDK writes when the CLI asks and synthesis takes over 10 s a
    stack, as on a busy machine), no creation stack traces (they carry jsii's temporary paths). Set here rather
    than in cdk.json, whose ``aws:`` keys the CLI reserves (and warns about on every command)."""
    return cdk.App(
        outdir=outdir,
        context=context,
        performance_reporting=False,
        post_cli_context={DISABLE_CREATION_STACK_TRACES: True},
    )


def main() -> None:
    app = new_app()
    pipeline_file = app.node.try_get_context(PIPELINE_FILE_CONTEXT_KEY)
    try:
        if pipeline_file:
            pipeline = load_pipeline(read_config_file(Path(pipeline_file)), pipeline_file, Path.cwd())
        else:
            raw, source = read_config(
                app.node.try_get_context(CONFIG_FILE_CONTEXT_KEY), app.node.try_get_context(CONTEXT_KEY)
            )
            resolved = load_app(raw, source)
    except ConfigError as error:
        print(error, file=sys.stderr)
        sys.exit(1)
    if pipeline_file:
        PipelineStack(app, f"{pipeline.spec.name}-pipeline", pipeline=pipeline, pipeline_file=pipeline_file)
    else:
        add_deployment_stacks(app, resolved)
    add_compliance_checks(app)  # once, on the app: it covers the stacks inside pipeline stages too
    app.synth()


if __name__ == "__main__":
    main()
