"""cdk-nag rule packs that run at synth: a finding fails synthesis unless acknowledged with a reason."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks
from constructs import IConstruct


def add_compliance_checks(scope: IConstruct) -> None:
    """AwsSolutions and HIPAA Security packs on everything under ``scope`` (usually the app)."""
    cdk.Validations.of(scope).add_plugins(AwsSolutionsChecks(scope), HIPAASecurityChecks(scope))


def acknowledge(scope: IConstruct, rule_reasons: dict[str, str]) -> None:
    """Acknowledge rules on ``scope`` and its children, each with the reason it does not apply."""
    for rule, reason in rule_reasons.items():
        cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))
