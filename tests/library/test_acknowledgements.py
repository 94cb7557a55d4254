"""cdk-nag acknowledgements: a wildcard is acknowledged only where a reason describes it."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from tgi_sagemaker import add_compliance_checks
from tgi_sagemaker.compliance import acknowledge, acknowledge_wildcards, unacknowledged_findings


def test_a_wildcard_no_reason_describes_stays_a_finding(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Wildcards")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::weights/models/*"]))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::other/*"]))
    acknowledge(role, {"HIPAA.Security::HIPAA.Security-IAMNoInlinePolicy": "one role's own grant, for this test"})
    acknowledge_wildcards(role, reasons={r"/models/\*$": "the model's own prefix"})
    add_compliance_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    findings = unacknowledged_findings(tmp_path / "validation-report.json")
    unexplained = "AwsSolutions-IAM5[Resource::arn:aws:s3:::other/*]"
    assert findings == [f"AwsSolutions: {unexplained} (error) at Wildcards/Role/DefaultPolicy/Resource"]
