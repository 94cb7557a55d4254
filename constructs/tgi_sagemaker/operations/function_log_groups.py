"""Log groups with retention for the Lambda functions CDK adds on its own (e.g. the VPC default-SG restrictor),
and checkov's function checks acknowledged on them with the reasons that hold for every such handler.

Their handlers otherwise log to ``/aws/lambda/<name>``, a group Lambda creates at first run that never expires
and that no stack deletes. ``manage_function_log_groups`` gives each function in ``scope`` without a log group
of its own a group with ``retention``, set through ``LoggingConfig`` before the function first runs: retained when
the stack goes, removed with a stack whose first creation failed (a retried deployment leaves no pile of groups).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from tgi_sagemaker.compliance import acknowledge, acknowledge_checkov

FUNCTION_TYPE = "AWS::Lambda::Function"
# What checkov asks of every function, and why it does not apply to CDK's own custom-resource handlers (the VPC's
# default-security-group restrictor, the bucket emptier): true of each of them, whatever the deployment.
CDK_HANDLER_CHECKOV_REASONS = {
    "CKV_AWS_115": "A CDK custom-resource handler: CloudFormation invokes it once per event of the resource it "
    "manages, during deployments only; reserved concurrency would take capacity from the account for nothing.",
    "CKV_AWS_116": "A CDK custom-resource handler: CloudFormation invokes it asynchronously and waits for its "
    "answer; an event that fails (or is never answered) fails the stack operation, where it shows and is retried. "
    "CDK offers no dead-letter queue for these handlers.",
    "CKV_AWS_117": "A CDK custom-resource handler that calls only the AWS APIs of the resource it manages and holds "
    "no data: it needs nothing inside a VPC.",
}


def manage_function_log_groups(scope: IConstruct, retention: logs.RetentionDays) -> list[logs.LogGroup]:
    """Call once everything in ``scope`` exists (e.g. at the end of a stack's constructor)."""
    created = []
    for node in scope.node.find_all():
        if not (isinstance(node, cdk.CfnResource) and node.cfn_resource_type == FUNCTION_TYPE):
            continue
        if _has_log_group(node):
            continue
        parent = node.node.scope
        assert isinstance(parent, Construct)  # a resource always has a parent
        log_group_id = f"{node.node.id}LogGroup"
        if parent.node.try_find_child(log_group_id) is not None:  # called before: already managed
            continue
        log_group = logs.LogGroup(
            parent,
            log_group_id,
            retention=retention,
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        node.add_property_override("LoggingConfig.LogGroup", log_group.log_group_name)
        acknowledge(
            log_group,
            {
                "HIPAA.Security::HIPAA.Security-CloudWatchLogGroupEncrypted": "A CDK helper function's log: request "
                "ids and errors, no payloads; CloudWatch Logs encrypts it at rest with AWS-owned keys.",
            },
        )
        acknowledge_checkov(node, CDK_HANDLER_CHECKOV_REASONS, FUNCTION_TYPE)
        created.append(log_group)
    return created


def _has_log_group(function: cdk.CfnResource) -> bool:
    """Typed functions say so; CDK's raw provider handlers (``CfnResource`` of the function type) never set one."""
    if isinstance(function, lambda_.CfnFunction):
        logging = function.logging_config
        return isinstance(logging, lambda_.CfnFunction.LoggingConfigProperty) and logging.log_group is not None
    return False
