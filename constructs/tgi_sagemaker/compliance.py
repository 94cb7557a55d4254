"""cdk-nag rule packs that run at synth: a finding fails synthesis unless acknowledged with a reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks
from constructs import IConstruct


def add_compliance_checks(scope: IConstruct) -> None:
    """AwsSolutions and HIPAA Security packs on everything under ``scope`` (usually the app)."""
    cdk.Validations.of(scope).add_plugins(AwsSolutionsChecks(scope), HIPAASecurityChecks(scope))


def acknowledge(scope: IConstruct, rule_reasons: dict[str, str]) -> None:
    """Acknowledge rules on ``scope`` and its children, each with the reason it does not apply."""
    for rule, reason in rule_reasons.items():
        cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def acknowledge_local_nvme_encryption(endpoint_config: IConstruct) -> None:
    """Endpoint configs for GPU instance types carry no KMS key: the platform refuses one for local NVMe."""
    acknowledge(
        endpoint_config,
        {
            "HIPAA.Security::HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured": "GPU instance types "
            "use local NVMe instance storage, encrypted by the hardware; CreateEndpointConfig rejects KmsKeyId "
            "for them.",
        },
    )


def unacknowledged_findings(validation_report: Path) -> list[str]:
    """Findings of every severity (warnings do not fail synthesis) left in a synth's validation-report.json."""
    if not validation_report.exists():
        return []
    report = json.loads(validation_report.read_text())
    return [
        f"{plugin['pluginName']}: {violation['ruleName']} ({violation['severity']}) at "
        + ", ".join(c["constructPath"] for c in violation["violatingConstructs"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
    ]


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
    def __init__(self, reason: str) -> None:
        self.reason = reason

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, iam.CfnPolicy):
            return
        stack = cdk.Stack.of(node)
        document = stack.resolve(node.policy_document)
        findings = set()
        for statement in document.get("Statement", []):
            for action in _as_list(statement.get("Action", [])):
                if "*" in action:
                    findings.add(f"AwsSolutions::AwsSolutions-IAM5[Action::{action}]")
            for resource in _as_list(statement.get("Resource", [])):
                text = nag_text(stack, resource)
                if "*" in text:
                    findings.add(f"AwsSolutions::AwsSolutions-IAM5[Resource::{text}]")
        acknowledge(node, dict.fromkeys(sorted(findings), self.reason))


def acknowledge_wildcards(scope: IConstruct, reason: str) -> None:
    """Acknowledge, with ``reason``, exactly the IAM5 wildcards that the policies under ``scope`` hold at synth,
    so a wildcard added later by someone else is still reported."""
    cdk.Aspects.of(scope).add(_WildcardAcknowledger(reason))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
