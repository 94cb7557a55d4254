"""A CDK pipeline: source from a CodeConnections connection, synth with the README's commands, one stage per
environment in order, a manual approval where asked, a smoke test that invokes each model once (own endpoint or
shared), and termination protection turned on for every stack of a production stage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import pipelines
from constructs import Construct

from stacks.deployment_stacks import SmokeTarget
from stacks.deployment_stage import DeploymentStage
from tgi_sagemaker.compliance import acknowledge, acknowledge_checkov, acknowledge_wildcards
from tgi_sagemaker.config.pipeline import ResolvedPipeline, ResolvedStage

# CodeBuild's standard image with the Python and Node versions the project needs (README: Python 3.11, Node 20).
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
RUNTIMES = {"phases": {"install": {"runtime-versions": {"python": "3.11", "nodejs": "20"}}}}
SMOKE_PROMPT = "Reply with the single word OK."
PACKAGE_LOCK = Path(__file__).resolve().parents[1] / "package-lock.json"


def locked_npm_version(package: str, lock_file: Path = PACKAGE_LOCK) -> str:
    """The exact version of an npm package that package-lock.json pins (what ``npm ci`` installs)."""
    return str(json.loads(lock_file.read_text())["packages"][f"node_modules/{package}"]["version"])


_ARTIFACTS = (
    "The artifact bucket holds what each run rebuilds from Git (templates, assets, build outputs), private and "
    "encrypted, written only by the pipeline's roles"
)
PIPELINE_ACKNOWLEDGEMENTS = {
    "AwsSolutions::AwsSolutions-S1": f"{_ARTIFACTS}; CloudTrail records its API use, access logs add nothing.",
    "HIPAA.Security::HIPAA.Security-S3BucketLoggingEnabled": f"{_ARTIFACTS}; CloudTrail records its API use.",
    "HIPAA.Security::HIPAA.Security-S3BucketVersioningEnabled": f"{_ARTIFACTS}: Git is the version history.",
    "HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled": f"{_ARTIFACTS}: a lost copy is rebuilt by a run.",
    "HIPAA.Security::HIPAA.Security-IAMNoInlinePolicy": "Each CDK Pipelines role carries its own inline policy, "
    "created and deleted with it; no other principal uses it.",
    "HIPAA.Security::HIPAA.Security-CodeBuildProjectSourceRepoUrl": "No CodeBuild project has a repository source "
    "or credentials: the source arrives from the CodeConnections connection as a CodePipeline artifact.",
}


_ASSET_ROLE = (
    "CDK Pipelines' one role for its asset-publishing projects, made before them: CDK grants it CodeBuild builds, "
    "log groups and report groups account-wide rather than per project (not configurable)"
)
# Every wildcard CDK Pipelines puts in its roles here, each with what it covers; another one stays a finding.
PIPELINE_WILDCARD_REASONS = {
    r"^(s3|kms):[A-Za-z]+\*$": "S3 and KMS action groups of CDK's grants on the pipeline's own artifact bucket and "
    "its key, the only resources of those statements.",
    r"^<PipelineArtifactsBucket[A-Za-z0-9]*\.Arn>/\*$": "The objects of the pipeline's own artifact bucket.",
    r":log-group:/aws/codebuild/<[A-Za-z0-9]+>:\*$": "The log streams of that CodeBuild project's own log group.",
    r":report-group/<[A-Za-z0-9]+>-\*$": "The report groups CodeBuild names after that project.",
    r":log-group:/aws/codebuild/\*$|:report-group/\*$": f"{_ASSET_ROLE}.",
    r"^\*$": "Resource '*' of CDK Pipelines' own roles: the self-mutation job's cloudformation:DescribeStacks and "
    f"s3:ListBucket (the CDK CLI finds stacks and buckets by name), and the asset role's builds ({_ASSET_ROLE}).",
    r"^arn:\*:iam::\d{12}:role/\*$": "The CDK bootstrap roles of this account, assumed only with the tag condition "
    "aws-cdk:bootstrap-role (image-publishing, file-publishing, deploy).",
}


class PipelineStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, pipeline: ResolvedPipeline, pipeline_file: str, **kwargs: Any
    ) -> None:
        spec = pipeline.spec
        env = cdk.Environment(account=spec.account, region=spec.region)
        super().__init__(scope, construct_id, env=env, description=f"CDK pipeline: {spec.repository}", **kwargs)
        self.source = pipelines.CodePipelineSource.connection(
            spec.repository, spec.branch, connection_arn=spec.connection_arn, trigger_on_push=True
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=spec.name,
            synth=pipelines.ShellStep(
                "Synth",
                input=self.source,
                env={"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
                commands=[f"make synth PIPELINE={pipeline_file}"],
                primary_output_directory="cdk.out",
            ),
            cross_account_keys=pipeline.cross_account,
            enable_key_rotation=pipeline.cross_account,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE),
                partial_build_spec=codebuild.BuildSpec.from_object(RUNTIMES),
                logging=codebuild.LoggingOptions(
                    cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self._build_logs())
                ),
            ),
            docker_enabled_for_synth=False,
            # The self-mutation and asset jobs assume deploy roles: they install exactly the tools the lock pins.
            cli_version=locked_npm_version("aws-cdk"),
            cdk_assets_cli_version=locked_npm_version("cdk-assets"),
        )
        self.stages: list[DeploymentStage] = []
        for stage in pipeline.stages:
            deployment_stage = DeploymentStage(
                self, stage.name, app=stage.app, env=cdk.Environment(account=stage.account, region=stage.region)
            )
            self.pipeline.add_stage(
                deployment_stage,
                pre=[pipelines.ManualApprovalStep(f"Approve-{stage.name}")] if stage.spec.approval else [],
                post=[
                    *(self._smoke_tests(stage, deployment_stage) if stage.spec.smoke_test else []),
                    *(self._termination_protection(stage, deployment_stage) if stage.production else []),
                ],
            )
            self.stages.append(deployment_stage)
        self.pipeline.build_pipeline()
        self._acknowledge()

    def _build_logs(self) -> logs.LogGroup:
        """One group for every build of the pipeline, expiring (CodeBuild's default groups never do)."""
        group = logs.LogGroup(
            self, "BuildLogs", retention=logs.RetentionDays.ONE_YEAR, removal_policy=cdk.RemovalPolicy.RETAIN
        )
        acknowledge(
            group,
            {
                "HIPAA.Security::HIPAA.Security-CloudWatchLogGroupEncrypted": "Build logs: commands and their "
                "output, no secrets (none are passed to builds); CloudWatch Logs encrypts them with AWS-owned keys.",
            },
        )
        return group

    def _acknowledge(self) -> None:
        """On the pipeline construct only: the deployment stacks in the stages keep their own checks."""
        acknowledge_wildcards(self.pipeline, reasons=PIPELINE_WILDCARD_REASONS)
        acknowledge(self.pipeline, PIPELINE_ACKNOWLEDGEMENTS)
        assets = self.pipeline.node.try_find_child("Assets")
        asset_role = assets.node.try_find_child("FileRole") if assets is not None else None
        if asset_role is not None:
            acknowledge_checkov(asset_role, {"CKV_AWS_111": f"{_ASSET_ROLE}."}, "AWS::IAM::Policy")

    def _smoke_tests(self, stage: ResolvedStage, deployment_stage: DeploymentStage) -> list[pipelines.Step]:
        """One request per model through the project's own CLI (each inference component of a shared endpoint
        included): waits out a scale-from-zero wake-up."""
        return [
            pipelines.CodeBuildStep(
                f"SmokeTest-{target.name}",
                input=self.source,
                env_from_cfn_outputs={"INVOKE_TARGET": target.invoke_target},
                commands=[
                    "python3 -m venv .venv",
                    ".venv/bin/pip install --quiet './constructs[cli]'",
                    f'.venv/bin/tgi-sagemaker invoke --region {stage.region} --endpoint "$INVOKE_TARGET" '
                    f'--wake-up-timeout 1800 --max-tokens 64 --no-reasoning "{SMOKE_PROMPT}"',
                ],
                role_policy_statements=[
                    iam.PolicyStatement(
                        actions=["sagemaker:InvokeEndpointWithResponseStream"],
                        resources=self._invoke_resources(stage, target),
                    )
                ],
            )
            for target in deployment_stage.smoke_targets
        ]

    def _invoke_resources(self, stage: ResolvedStage, target: SmokeTarget) -> list[str]:
        """The endpoint, and the component when the request names one: the service authorization reference lists
        ``inference-component`` beside the required ``endpoint`` as a resource of InvokeEndpointWithResponseStream
        (as ``ScalableInferenceComponent.grant_invoke`` grants), so a grant on the endpoint alone may be refused for
        a request that names a component. Names are lower case in SageMaker ARNs: documented for endpoints; for
        inference components as modelled by prometheus-community/yet-another-cloudwatch-exporter's SageMaker tests
        (not verified against an account). The stage's stacks are another account's or another stage's: their
        ARN attributes cannot be referenced here, the names are literal."""
        arn = f"arn:{self.partition}:sagemaker:{stage.region}:{stage.account}"
        resources = [f"{arn}:endpoint/{target.endpoint_name.lower()}"]
        if target.component_name is not None:
            resources.append(f"{arn}:inference-component/{target.component_name.lower()}")
        return resources

    def _termination_protection(self, stage: ResolvedStage, deployment_stage: DeploymentStage) -> list[pipelines.Step]:
        """CDK Pipelines deploys through CloudFormation change sets, which ignore a stack's termination protection
        (aws/aws-cdk#17871): after each deploy, turn it on with the stage's CDK deploy role, which may do exactly
        that (``cloudformation:UpdateTerminationProtection`` is in its bootstrap policy)."""
        steps: list[pipelines.Step] = []
        for stack in deployment_stage.stacks:
            synthesizer = stack.synthesizer
            assert isinstance(synthesizer, cdk.DefaultStackSynthesizer)  # what the stage stacks use
            deploy_role_arn = cdk.Fn.sub(synthesizer.deploy_role_arn)
            steps.append(
                pipelines.CodeBuildStep(
                    f"TerminationProtection-{stack.stack_name}",
                    env={"DEPLOY_ROLE_ARN": deploy_role_arn},
                    commands=[
                        'aws configure set profile.deploy.role_arn "$DEPLOY_ROLE_ARN"',
                        "aws configure set profile.deploy.credential_source EcsContainer",
                        f"aws cloudformation update-termination-protection --profile deploy --region {stage.region} "
                        f"--stack-name {stack.stack_name} --enable-termination-protection",
                    ],
                    role_policy_statements=[
                        iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[deploy_role_arn])
                    ],
                )
            )
        return steps
