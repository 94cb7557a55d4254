"""Copy a Hub revision into the weights bucket at deploy time: a custom resource over a Step Functions Map.

custom resource (Provider: on_event + is_complete, total wait under CloudFormation's hour)
  on_event Create/Update: resolve revision -> commit, write manifest + Map items to S3, start the state machine (or
      attach to the one copying that commit); a commit already copied and verified needs neither the Hub nor a copy,
      which is what lets CloudFormation's rollback Update succeed while the Hub is down
  is_complete: RUNNING -> wait; SUCCEEDED -> {S3Uri, Commit}; FAILED -> which files failed, and why
  on_event Delete: stop the commit's running copy, abort unfinished uploads under the prefix; objects stay unless
      delete_objects_on_delete
state machine: distributed Map over the items (max concurrency a setting) -> copy-file Lambda, transient errors retried
The Lambdas run outside any VPC (they need the Hub); the token is read from Secrets Manager at run time.
Log groups are retained on delete, but go with the stack when its first creation fails (nothing is left to trip over).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from aws_cdk import custom_resources as cr
from constructs import Construct

from tgi_sagemaker import defaults
from tgi_sagemaker.catalog.sizing import copy_memory_needed_mb
from tgi_sagemaker.compliance import (
    FUNCTION_CHECKOV_REASONS,
    acknowledge,
    acknowledge_checkov,
    acknowledge_wildcards,
)
from tgi_sagemaker.hub_weights_copy.runtime.weights_copy import environment as copy_environment
from tgi_sagemaker.hub_weights_copy.runtime.weights_copy import settings as copy_settings

# The asset is the link's target, not the link: CDK's fingerprint hashes a link it does not follow as its text.
RUNTIME_FOLDER = (Path(__file__).parent / "runtime").resolve()
RUNTIME_EXCLUDE = ["__pycache__", "*.pyc", "README.md"]
RUNTIME = lambda_.Runtime.PYTHON_3_14
RETRYABLE_ERRORS = [
    "TransientError",
    "RetryDeadlineError",  # the Hub asked for a longer wait than the invocation had left: a later one may go on
    "ExpiredUrlError",
    "IntegrityError",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Sandbox.Timedout",
]
TOTAL_WAIT = cdk.Duration.minutes(55)  # CloudFormation gives a custom resource one hour
# The copy gives up before the provider stops asking, so that the failure says why (and what to do instead).
COPY_TIMEOUT = cdk.Duration.minutes(53)


class HubWeightsCopy(Construct):
    """Copies ``repo_id@revision`` into ``bucket`` under ``models/<repo>/<commit>/`` when the stack deploys.

    The functions run ``runtime/`` (the ``weights_copy`` engine), which ships with this library; their environment
    is the one ``weights_copy.environment`` defines, and the engine's defaults are ``weights_copy.settings``.

    :param bucket: the weights bucket.
    :param repo_id: Hub repo id.
    :param revision: branch, tag or commit. Default: the repo's default branch. A branch is resolved at deploy
        time (a rollback keeps the commit it had); pin a commit so that a redeploy copies (and serves) exactly the
        same bytes.
    :param token_secret: secret holding a Hub token (gated or private repos). Default: none.
    :param token_secret_key: the customer managed KMS key the secret is encrypted with, for an imported secret
        (a secret of this app grants its own key). Default: none (Secrets Manager's ``aws/secretsmanager`` key).
    :param hub_endpoint: Default: ``https://huggingface.co`` (an enterprise mirror works too).
    :param max_concurrency: files copied at once (Map concurrency). Default: 16.
    :param log_retention: of the functions', state machines' and provider's log groups. Default: one year.
    :param part_size_mb: range-GET and UploadPart size. Default: 64 (``weights_copy.settings``).
    :param max_in_flight: parallel parts per file (memory: part size x this). Default: 8 (``weights_copy.settings``).
    :param memory_size_mb: copy Lambda memory. Default: 2048.
    :param delete_objects_on_delete: delete the copied objects when the resource is deleted. Default: False.
    :param allow_patterns: repo files to copy (shell-style, on paths). Default: what the container loads
        (safetensors, JSON, text, tokenizer models, chat templates, Python files).
    :param ignore_patterns: files not to copy even if allowed. Default: ``original/*``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        repo_id: str,
        revision: str | None = None,
        token_secret: secretsmanager.ISecret | None = None,
        token_secret_key: kms.IKey | None = None,
        hub_endpoint: str = copy_settings.HUB_ENDPOINT,
        max_concurrency: int = defaults.COPY_MAX_CONCURRENCY,
        part_size_mb: int = copy_settings.PART_SIZE_MB,
        max_in_flight: int = copy_settings.MAX_IN_FLIGHT,
        memory_size_mb: int = defaults.COPY_MEMORY_MB,
        delete_objects_on_delete: bool = False,
        allow_patterns: Sequence[str] = copy_settings.ALLOW_PATTERNS,
        ignore_patterns: Sequence[str] = copy_settings.IGNORE_PATTERNS,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        super().__init__(scope, construct_id)
        self._log_retention = log_retention
        needed = copy_memory_needed_mb(part_size_mb, max_in_flight)
        if needed > memory_size_mb:
            raise ValueError(
                f"HubWeightsCopy: part_size_mb {part_size_mb} x max_in_flight {max_in_flight} needs about "
                f"{needed} MB; memory_size_mb is {memory_size_mb}: raise it or lower them"
            )
        self.bucket = bucket
        self._code = lambda_.Code.from_asset(str(RUNTIME_FOLDER), exclude=RUNTIME_EXCLUDE)
        self._runtime_functions: list[tuple[lambda_.Function, copy_environment.FunctionEnvironment]] = []
        models, manifests = bucket.arn_for_objects("models/*"), bucket.arn_for_objects("manifests/*")
        self.copy_function = self._function(
            "CopyFile", copy_environment.COPY_FILE, cdk.Duration.minutes(15), memory_size_mb
        )
        self.on_event_function = self._function("OnEvent", copy_environment.ON_EVENT, cdk.Duration.minutes(5), 512)
        self.is_complete_function = self._function(
            "IsComplete", copy_environment.IS_COMPLETE, cdk.Duration.minutes(1), 256
        )
        multipart = ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
        # s3:ListBucket: without it S3 answers HeadObject/GetObject of a key not yet written with 403, not 404.
        listing = ["s3:ListBucket", "s3:ListBucketMultipartUploads"]
        # copy_file: the objects (HeadObject is s3:GetObject), and each file's receipt.
        self._allow(self.copy_function, ["s3:GetObject", "s3:PutObject", *multipart], [models])
        self._allow(
            self.copy_function, ["s3:GetObject", "s3:PutObject"], [bucket.arn_for_objects("manifests/*/receipts/*")]
        )
        self._allow(self.copy_function, listing, [bucket.bucket_arn])
        # on_event: manifests, Map items, receipts and the resource's history; the objects it verifies or cleans up.
        cleanup = ["s3:DeleteObject"] if delete_objects_on_delete else []
        self._allow(self.on_event_function, ["s3:GetObject", "s3:PutObject", *cleanup], [manifests])
        self._allow(self.on_event_function, ["s3:GetObject", *multipart, *cleanup], [models])
        self._allow(self.on_event_function, listing, [bucket.bucket_arn])
        if token_secret is not None:
            for function in (self.copy_function, self.on_event_function):
                token_secret.grant_read(function)
                if token_secret_key is not None:  # decrypt through Secrets Manager, nowhere else
                    function.add_to_role_policy(
                        iam.PolicyStatement(
                            actions=["kms:Decrypt"],
                            resources=[token_secret_key.key_arn],
                            conditions={
                                "StringEquals": {
                                    "kms:ViaService": f"secretsmanager.{cdk.Stack.of(self).region}.amazonaws.com"
                                }
                            },
                        )
                    )
        self.state_machine = self._state_machine(bucket, max_concurrency)
        self._set_environments(
            {
                copy_environment.BUCKET: bucket.bucket_name,
                copy_environment.HF_ENDPOINT: hub_endpoint,
                copy_environment.PART_SIZE_MB: str(part_size_mb),
                copy_environment.MAX_IN_FLIGHT: str(max_in_flight),
                copy_environment.DELETE_OBJECTS_ON_DELETE: "true" if delete_objects_on_delete else "false",
                **({copy_environment.HF_TOKEN_SECRET_ID: token_secret.secret_arn} if token_secret is not None else {}),
                copy_environment.STATE_MACHINE_ARN: self.state_machine.state_machine_arn,
            }
        )
        self.state_machine.grant_start_execution(self.on_event_function)
        self.state_machine.grant_read(self.on_event_function)  # ListExecutions: attach to a running copy
        self.state_machine.grant_execution(self.on_event_function, "states:StopExecution")
        self.state_machine.grant_execution(self.is_complete_function, "states:DescribeExecution", "states:ListMapRuns")
        self._allow_map_run_reads(self.is_complete_function)
        self.provider = self._provider()
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=self.provider.service_token,
            resource_type="Custom::HubWeightsCopy",
            # No Revision: the handler resolves the repo's default branch (and records the commit, as for a branch).
            properties={
                "RepoId": repo_id,
                **({"Revision": revision} if revision else {}),
                "AllowPatterns": list(allow_patterns),
                "IgnorePatterns": list(ignore_patterns),
            },
        )
        self._acknowledge()

    @property
    def s3_uri(self) -> str:
        """``s3://bucket/models/<repo>/<commit>/``, known once the copy finished."""
        return self.resource.get_att_string("S3Uri")

    @property
    def commit(self) -> str:
        return self.resource.get_att_string("Commit")

    def metric_failed_copies(self, period: cdk.Duration | None = None) -> cloudwatch.MathExpression:
        """Copy executions that failed or timed out (a file retried to success is not a failure)."""
        period = period or cdk.Duration.minutes(5)
        return cloudwatch.MathExpression(
            expression="failed + timed_out",
            using_metrics={
                "failed": self.state_machine.metric_failed(period=period),
                "timed_out": self.state_machine.metric_timed_out(period=period),
            },
            label="failed copies",
            period=period,
        )

    def _function(
        self, name: str, contract: copy_environment.FunctionEnvironment, timeout: cdk.Duration, memory: int
    ) -> lambda_.Function:
        """One function of the runtime, running ``contract``'s handler (its variables come with
        ``_set_environments``)."""
        log_group = self._log_group(f"{name}Logs")
        role = iam.Role(self, f"{name}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            name,
            runtime=RUNTIME,
            code=self._code,
            handler=contract.handler,
            timeout=timeout,
            memory_size=memory,
            role=role,
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
        )
        self._runtime_functions.append((function, contract))
        return function

    def _set_environments(self, values: dict[str, str]) -> None:
        """Each function gets the variables its handler reads, no more (``weights_copy.environment``), once every value
        exists: the state machine, whose ARN on_event needs, is made after the function it invokes."""
        for function, contract in self._runtime_functions:
            for name, value in contract.variables(values).items():
                function.add_environment(name, value)

    def _provider(self) -> cr.Provider:
        """CDK's provider framework, its functions with roles of their own: logs to the provider's log group, and
        what the framework grants them (invoking on_event/is_complete, starting its waiter), no managed policy."""
        log_group = self._log_group("ProviderLogs")
        on_event_role = iam.Role(self, "ProviderOnEventRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        waiter_role = iam.Role(self, "ProviderWaiterRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        for role in (on_event_role, waiter_role):
            log_group.grant_write(role)
        return cr.Provider(
            self,
            "Provider",
            on_event_handler=self.on_event_function,
            is_complete_handler=self.is_complete_function,
            query_interval=cdk.Duration.seconds(30),
            total_timeout=TOTAL_WAIT,
            log_group=log_group,
            framework_on_event_role=on_event_role,
            framework_complete_and_timeout_role=waiter_role,
            disable_waiter_state_machine_logging=False,
            waiter_state_machine_log_options=cr.LogOptions(
                destination=self._log_group("WaiterLogs"), level=sfn.LogLevel.ALL, include_execution_data=False
            ),
        )

    def _log_group(self, name: str) -> logs.LogGroup:
        """Retained when the stack goes or the group is replaced, deleted when the stack's first creation fails."""
        return logs.LogGroup(
            self, name, retention=self._log_retention, removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
        )

    def _allow_map_run_reads(self, function: lambda_.Function) -> None:
        """Which files a failed copy failed on: the Map run's failed child executions and their errors."""
        stack = cdk.Stack.of(self)
        name = cdk.Fn.select(6, cdk.Fn.split(":", self.state_machine.state_machine_arn))
        arn = f"arn:{stack.partition}:states:{stack.region}:{stack.account}"
        self._allow(function, ["states:ListExecutions"], [f"{arn}:mapRun:{name}/*:*"])
        self._allow(function, ["states:DescribeExecution"], [f"{arn}:execution:{name}/*:*"])

    @staticmethod
    def _allow(function: lambda_.Function, actions: list[str], resources: list[str]) -> None:
        function.add_to_role_policy(iam.PolicyStatement(actions=actions, resources=resources))

    def _state_machine(self, bucket: s3.IBucket, max_concurrency: int) -> sfn.StateMachine:
        copy_file = tasks.LambdaInvoke(
            self, "Copy file", lambda_function=self.copy_function, payload_response_only=True
        )
        copy_file.add_retry(errors=RETRYABLE_ERRORS, interval=cdk.Duration.seconds(5), backoff_rate=2, max_attempts=5)
        each_file = sfn.DistributedMap(
            self,
            "Each file",
            item_reader=sfn.S3JsonItemReader(bucket=bucket, key=sfn.JsonPath.string_at("$.items_key")),
            max_concurrency=max_concurrency,
            result_path=sfn.JsonPath.DISCARD,
        )
        each_file.item_processor(copy_file)
        log_group = self._log_group("StateMachineLogs")
        return sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(each_file),
            timeout=COPY_TIMEOUT,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )

    def _acknowledge(self) -> None:
        for function in (self.copy_function, self.on_event_function, self.is_complete_function):
            acknowledge_checkov(function, FUNCTION_CHECKOV_REASONS, "AWS::Lambda::Function")
        acknowledge_checkov(self.provider, _PROVIDER_FUNCTION_CHECKOV_REASONS, "AWS::Lambda::Function")
        acknowledge_checkov(
            self.provider,
            {
                "CKV_AWS_111": "The provider's waiter state machine logs through CloudWatch Logs' vended delivery "
                "APIs (logs:CreateLogDelivery and friends), which take no resource."
            },
            "AWS::IAM::Policy",
        )
        acknowledge(self, _ACKNOWLEDGEMENTS)
        for function in (self.copy_function, self.on_event_function, self.is_complete_function):
            acknowledge(function, _COPY_FUNCTION_ACKNOWLEDGEMENTS)
        acknowledge(self.provider, _PROVIDER_ACKNOWLEDGEMENTS)
        acknowledge_wildcards(self, _WILDCARDS)


_WILDCARDS = (
    "Wildcards are object keys under this copy's own prefixes (models/*, manifests/*) of the one weights bucket; "
    "the state machine's ItemReader, which CDK grants GetObject on every key of that bucket because the items key "
    "is only known at run time; the executions and Map runs of this copy's own state machine; the versions of its "
    "own functions; and X-Ray's PutTraceSegments and CloudWatch Logs' log-delivery APIs, which take no resource."
)
_ACKNOWLEDGEMENTS = {
    "HIPAA.Security::HIPAA.Security-IAMNoInlinePolicy": "Each function and the state machine has its own role; "
    "the inline policy is CDK's grant of exactly what that role needs, and belongs to it alone.",
    "HIPAA.Security::HIPAA.Security-CloudWatchLogGroupEncrypted": "The copy logs hold repo file names, sizes, "
    "commits and timings, never the token or file contents; CloudWatch Logs encrypts them with AWS-owned keys.",
    "HIPAA.Security::HIPAA.Security-LambdaConcurrency": "Map concurrency (weights.copy_max_concurrency) bounds the "
    "copy; reserving concurrency would take it from the account pool, which is as low as 10 in new accounts.",
    "HIPAA.Security::HIPAA.Security-LambdaInsideVPC": "The copy must reach the Hugging Face Hub and its CDN over "
    "the internet; running it outside the VPC keeps the endpoint's VPC without any internet route.",
}
_COPY_FUNCTION_ACKNOWLEDGEMENTS = {
    "HIPAA.Security::HIPAA.Security-LambdaDLQ": "Invoked synchronously: copy_file by the state machine, on_event "
    "and is_complete by the provider framework's functions, which see every failure; a dead-letter queue only "
    "receives failed asynchronous invocations.",
}
_PROVIDER_FUNCTION_CHECKOV_REASONS = {
    "CKV_AWS_115": "The provider framework's functions run during deployments only, once per CloudFormation event "
    "and poll; reserving concurrency would take capacity from the account for nothing.",
    "CKV_AWS_116": "CloudFormation invokes the framework's onEvent asynchronously and waits for its answer; its waiter "
    "state machine invokes isComplete and onTimeout synchronously. A failure fails the stack operation with its "
    "reason (Lambda retries a failed asynchronous invocation twice first); CDK's Provider offers no dead-letter "
    "queue.",
    "CKV_AWS_117": "They call the Lambda and Step Functions APIs and CloudFormation's response URL only; no VPC "
    "resource to reach.",
    "CKV_AWS_173": "Their environment holds function and state machine ARNs, no secrets; Lambda encrypts it at rest.",
}
_PROVIDER_ACKNOWLEDGEMENTS = {
    "AwsSolutions::AwsSolutions-SF2": "X-Ray tracing of the CDK provider framework's waiter state machine is not "
    "configurable; the copy's own state machine is traced.",
    "HIPAA.Security::HIPAA.Security-LambdaDLQ": "CloudFormation invokes the framework's onEvent asynchronously and "
    "waits for its response: when the function fails outright, Lambda retries it twice and the stack operation "
    "then fails with the reason; a dead-letter queue would only keep CloudFormation's request after that.",
    **_ACKNOWLEDGEMENTS,
}
