"""cdk-nag rule packs that run at synth: a finding fails synthesis unless acknowledged with a reason."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks
from constructs import IConstruct

from tgi_sagemaker.model_weights import UNPINNED_HUB_REVISION_WARNING

if TYPE_CHECKING:
    from tgi_sagemaker.instance_type import InstanceType


def add_compliance_checks(scope: IConstruct) -> None:
    """AwsSolutions and HIPAA Security packs on everything under ``scope`` (usually the app)."""
    cdk.Validations.of(scope).add_plugins(AwsSolutionsChecks(scope), HIPAASecurityChecks(scope))


# cdk-nag rules that checkov reports under its own id, with the resource type it checks: one reason serves both.
_CHECKOV_EQUIVALENTS = {
    "HIPAA.Security::HIPAA.Security-CloudWatchLogGroupEncrypted": ("CKV_AWS_158", "AWS::Logs::LogGroup"),
    "AwsSolutions::AwsSolutions-S1": ("CKV_AWS_18", "AWS::S3::Bucket"),
    "HIPAA.Security::HIPAA.Security-S3BucketLoggingEnabled": ("CKV_AWS_18", "AWS::S3::Bucket"),
    "HIPAA.Security::HIPAA.Security-S3BucketVersioningEnabled": ("CKV_AWS_21", "AWS::S3::Bucket"),
}
# What checkov asks of every Lambda function, and why the functions here (copy steps and CDK's helpers) differ.
FUNCTION_CHECKOV_REASONS = {
    "CKV_AWS_115": "Concurrency is bounded by the caller (the copy's Map concurrency, or one CloudFormation "
    "event at a time); reserving it would take capacity from the account for a function that runs at deploys.",
    "CKV_AWS_116": "Invoked synchronously, by the copy's state machine or by the CloudFormation provider "
    "framework's functions, which see and retry every failure; a dead-letter queue only receives failed "
    "asynchronous invocations.",
    "CKV_AWS_117": "Talks to public AWS APIs and the Hugging Face Hub only; no VPC resource to reach, and the copy "
    "runs outside the endpoint's VPC on purpose (that VPC has no internet route).",
    "CKV_AWS_173": "Environment variables hold names and ARNs, no secrets (the Hub token is read from Secrets "
    "Manager at run time); Lambda encrypts them at rest.",
}


def acknowledge(scope: IConstruct, rule_reasons: dict[str, str]) -> None:
    """Acknowledge rules on ``scope`` and its children, each with the reason it does not apply (for cdk-nag, and
    for checkov where it has the same rule)."""
    for rule, reason in rule_reasons.items():
        cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))
        if rule in _CHECKOV_EQUIVALENTS:
            check, resource_type = _CHECKOV_EQUIVALENTS[rule]
            acknowledge_checkov(scope, {check: reason}, resource_type)


def acknowledge_checkov(scope: IConstruct, check_reasons: dict[str, str], resource_type: str) -> None:
    """Skip checkov checks, with their reasons, on every ``resource_type`` resource under ``scope`` (the resource's
    ``Metadata.checkov.skip``, which checkov reads from the template)."""
    cdk.Aspects.of(scope).add(_CheckovAcknowledger(check_reasons, resource_type))


@jsii.implements(cdk.IAspect)
class _CheckovAcknowledger:
    def __init__(self, reasons: dict[str, str], resource_type: str) -> None:
        self.reasons, self.resource_type = reasons, resource_type

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, cdk.CfnResource) or node.cfn_resource_type != self.resource_type:
            return
        skips = {skip["id"]: skip for skip in (node.get_metadata("checkov") or {}).get("skip", [])}
        skips.update({check: {"id": check, "comment": reason} for check, reason in self.reasons.items()})
        node.add_metadata("checkov", {"skip": [skips[check] for check in sorted(skips)]})


def acknowledge_local_nvme_encryption(endpoint_config: IConstruct, instance_type: InstanceType) -> None:
    """Endpoint configs for instance types with local NVMe carry no KMS key: the platform refuses one there. For a
    token or a type the catalog does not list, nothing is acknowledged: whether the reason holds is unknown."""
    if not instance_type.has_local_nvme:
        return
    acknowledge(
        endpoint_config,
        {
            "HIPAA.Security::HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured": "GPU instance types "
            "use local NVMe instance storage, encrypted by the hardware; CreateEndpointConfig rejects KmsKeyId "
            "for them.",
        },
    )


GPU_COUNT_UNKNOWN_WARNING = "tgi-sagemaker:gpuCountUnknown"
"""An instance endpoint on a type whose GPU count is unknown: its GPU figures are sums over the GPUs."""
ADVISORY_WARNINGS = frozenset(
    f"Annotation::{warning}" for warning in (UNPINNED_HUB_REVISION_WARNING, GPU_COUNT_UNKNOWN_WARNING)
)
"""The library's own warnings that advise rather than find a defect: shown by ``check-findings``, never failing it
(a dev endpoint may load an unpinned branch knowingly). Every other finding, cdk-nag's and any annotation, fails."""


def unacknowledged_findings(validation_report: Path) -> list[str]:
    """Findings of every severity (warnings do not fail synthesis) left in a synth's validation-report.json, but
    the advisory warnings (``advisory_notes``)."""
    return [finding for advisory, finding in _findings(validation_report) if not advisory]


def advisory_notes(validation_report: Path) -> list[str]:
    """The advisory warnings left in a synth's validation-report.json, each with what it says."""
    return [finding for advisory, finding in _findings(validation_report) if advisory]


def _findings(validation_report: Path) -> list[tuple[bool, str]]:
    if not validation_report.exists():
        return []
    report = json.loads(validation_report.read_text())
    found = []
    for plugin in report["pluginReports"]:
        for violation in plugin["violations"]:
            where = ", ".join(c["constructPath"] for c in violation["violatingConstructs"])
            text = f"{plugin['pluginName']}: {violation['ruleName']} ({violation['severity']}) at {where}"
            advisory = violation["ruleName"] in ADVISORY_WARNINGS
            found.append((advisory, f"{text}: {violation.get('description', '')}" if advisory else text))
    return found


def nag_text(stack: cdk.Stack, value: Any) -> str:
    """A resolved value as cdk-nag writes it in a granular finding id (``<Logical.Arn>``, ``<AWS::Region>``, ...)."""
    value = stack.resolve(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return f"<{argument}>"
        if function == "Fn::GetAtt":
            return f"<{argument[0]}.{argument[1]}>"
        if function == "Fn::Join":
            return str(argument[0]).join(nag_text(stack, part) for part in argument[1])
    return json.dumps(value, separators=(",", ":"))


@jsii.implements(cdk.IAspect)
class _WildcardAcknowledger:
    def __init__(self, reason: str | None, reasons: Mapping[str, str]) -> None:
        self.reason, self.reasons = reason, reasons

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, iam.CfnPolicy):
            return
        stack = cdk.Stack.of(node)
        document = stack.resolve(node.policy_document)
        findings: dict[str, str] = {}
        for statement in document.get("Statement", []):
            wildcards = [f"Action::{action}" for action in _as_list(statement.get("Action", [])) if "*" in action]
            texts = (nag_text(stack, resource) for resource in _as_list(statement.get("Resource", [])))
            wildcards += [f"Resource::{text}" for text in texts if "*" in text]
            for wildcard in wildcards:
                reason = self._reason_for(wildcard.split("::", 1)[1])
                if reason is not None:
                    findings[f"AwsSolutions::AwsSolutions-IAM5[{wildcard}]"] = reason
        acknowledge(node, dict(sorted(findings.items())))

    def _reason_for(self, wildcard: str) -> str | None:
        return next((r for pattern, r in self.reasons.items() if re.search(pattern, wildcard)), self.reason)


def acknowledge_wildcards(
    scope: IConstruct, reason: str | None = None, *, reasons: Mapping[str, str] | None = None
) -> None:
    """Acknowledge exactly the IAM5 wildcards that the policies under ``scope`` hold at synth, so a wildcard added
    later by someone else is still reported. Each wildcard (``s3:Get*``, ``arn:...:log-group:x:*``) gets the reason
    of the first ``reasons`` pattern (a regular expression) found in it, else ``reason``; with neither, it stays a
    finding."""
    cdk.Aspects.of(scope).add(_WildcardAcknowledger(reason, reasons or {}))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
