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


def test_the_librarys_advice_is_shown_by_check_findings_and_any_other_warning_fails_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tgi_sagemaker.cli.command_line import main
    from tgi_sagemaker.compliance import GPU_COUNT_UNKNOWN_WARNING, advisory_notes

    in_report = {"@aws-cdk/core:annotationsInValidationReport": True}  # as cdk.json sets it
    app = cdk.App(outdir=str(tmp_path), context=in_report)
    stack = cdk.Stack(app, "Advice")
    cdk.CfnResource(stack, "Handle", type="AWS::CloudFormation::WaitConditionHandle")  # a template needs a resource
    cdk.Annotations.of(stack).add_warning_v2(GPU_COUNT_UNKNOWN_WARNING, "GPU figures are sums here")
    add_compliance_checks(app)
    app.synth()
    report = tmp_path / "validation-report.json"
    assert unacknowledged_findings(report) == []
    assert advisory_notes(report) == [
        f"Construct Annotations: Annotation::{GPU_COUNT_UNKNOWN_WARNING} (warning) at Advice: GPU figures are sums here"
    ]
    assert main(["check-findings", str(tmp_path)]) == 0
    assert "note (advice, not a failure): Construct Annotations" in capsys.readouterr().err
    other = cdk.App(outdir=str(tmp_path / "other"), context=in_report)
    other_stack = cdk.Stack(other, "Other")
    cdk.CfnResource(other_stack, "Handle", type="AWS::CloudFormation::WaitConditionHandle")
    cdk.Annotations.of(other_stack).add_warning_v2("someone:else", "a warning of another library")
    add_compliance_checks(other)
    other.synth()
    assert main(["check-findings", str(tmp_path / "other")]) == 1
    assert "Annotation::someone:else (warning) at Other" in capsys.readouterr().err
