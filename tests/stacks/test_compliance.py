"""Every synthesized variant passes cfn-lint and the cdk-nag packs; acknowledgements carry reasons."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match

from helpers import Synthesized, cfn_lint, checkov, default_config, synthesize
from tgi_sagemaker import add_compliance_checks
from tgi_sagemaker.catalog.models import MODELS
from tgi_sagemaker.compliance import unacknowledged_findings

NAG_PACKS = ("AwsSolutions::", "HIPAA.Security::")
EXISTING_VPC = {
    "vpc": "existing",
    "vpc_id": "vpc-0a1b2c3d4e5f60718",
    "subnet_ids": ["subnet-0a1b2c3d4e5f60718", "subnet-1a1b2c3d4e5f60718"],
}


def _variants() -> dict[str, dict[str, Any]]:
    base = default_config()["deployments"][0]
    variants = {}
    for model in MODELS.values():
        name = model.short_name.lower().replace(".", "-").replace("deepseek-", "")
        variants[name] = {"name": name, "model": {"id": model.repo_id}}  # recommended instance
    variants["existing-vpc-own-sg"] = {
        **base,
        "network": {**EXISTING_VPC, "security_group_ids": ["sg-0a1b2c3d4e5f60719"]},
    }
    variants["existing-vpc-new-sg"] = {**base, "network": EXISTING_VPC}
    variants["no-vpc"] = {**base, "network": {"vpc": "none"}}
    variants["s3-prefix-list"] = {**base, "network": {"s3_prefix_list_id": "pl-63a5400a"}}
    variants["hub-pinned"] = {
        **base,
        "model": {"id": base["model"]["id"], "revision": "ebf7e8d03db3d86a442d22d30d499abb7ec27bea"},
        "weights": {"source": "hub"},
        "scaling": {"mode": "instances", "min_instances": 2, "max_instances": 6, "invocations_per_instance": 12},
    }
    variants["gated"] = {**base, "weights": {"hf_token_secret": "hf/token"}}
    variants["two-copies-an-instance"] = {
        "model": {"id": "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"},
        "instance_type": "ml.g5.12xlarge",
        "num_gpus": 2,
        "scaling": {"max_instances": 1, "max_copies": 2, "concurrent_requests_per_copy": 8},
    }
    variants["ops-emails"] = {**base, "operations": {"alarm_emails": ["oncall@example.com"], "log_retention_days": 30}}
    variants["ops-instances-rolling"] = {
        **base,
        "scaling": {"mode": "instances"},
        "operations": {"update_strategy": "rolling", "alarm_topic_arn": "arn:aws:sns:us-east-1:111122223333:oncall"},
    }
    variants["ops-off"] = {**base, "operations": {"dashboard": False, "alarms": False, "auto_rollback": False}}
    return {name: {**copy.deepcopy(spec), "name": name} for name, spec in variants.items()}


@pytest.fixture(scope="module")
def variants_app(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    config = default_config()
    config["deployments"] = list(_variants().values())
    return synthesize(config, Path(tmp_path_factory.mktemp("variants")))


@pytest.fixture(scope="module")
def regional_app(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    config = default_config()
    config["environment"] = {"account": "111122223333", "region": "eu-central-1"}
    config["deployments"][0]["network"] = {"availability_zones": ["eu-central-1a", "eu-central-1b"]}
    return synthesize(config, Path(tmp_path_factory.mktemp("regional")))


def test_checkov_is_clean_on_every_synthesized_template(
    default_app: Synthesized, variants_app: Synthesized, regional_app: Synthesized, shared_app: Synthesized
) -> None:
    apps = (default_app, variants_app, regional_app, shared_app)
    scan = checkov([synth.outdir for synth in apps])
    assert scan.clean, str(scan)
    assert scan.assemblies == sorted(synth.outdir for synth in apps)


def _without_isolation(template: dict[str, Any]) -> dict[str, Any]:
    """A template with the defect CKV_AWS_370 guards against put back: a model without network isolation."""
    broken = copy.deepcopy(template)
    for resource in broken["Resources"].values():
        if resource["Type"] == "AWS::SageMaker::Model":
            resource["Properties"]["EnableNetworkIsolation"] = False
            resource.get("Metadata", {}).pop("checkov", None)
    return broken


def test_checkov_sees_a_defect_in_any_assembly_not_only_the_first(tmp_path: Path, default_app: Synthesized) -> None:
    # Before: one checkov run with a --directory per folder scanned the first folder twice and passed this.
    first, second, nested = tmp_path / "first", tmp_path / "second", tmp_path / "second" / "assembly-stage"
    for folder, template in ((first, default_app.raw()), (nested, _without_isolation(default_app.raw()))):
        folder.mkdir(parents=True)
        (folder / "Stack.template.json").write_text(json.dumps(template))
    (second / "Other.template.json").write_text(json.dumps(_without_isolation(default_app.raw())))
    scan = checkov([first, second])
    assert scan.assemblies == [first, second, nested]
    assert scan.problems == []
    assert sorted(failure.split(" in ")[-1] for failure in scan.failed) == [
        str(second / "Other.template.json"),
        str(nested / "Stack.template.json"),
    ], str(scan)
    assert all(failure.startswith("CKV_AWS_370 on AWS::SageMaker::Model.") for failure in scan.failed)


def test_cfn_lint_is_clean_on_every_synthesized_template(
    default_app: Synthesized, variants_app: Synthesized, regional_app: Synthesized, shared_app: Synthesized
) -> None:
    apps = (default_app, variants_app, regional_app, shared_app)
    templates = [path for synth in apps for path in synth.outdir.glob("*.template.json")]
    assert len(templates) == 1 + len(_variants()) + 1 + 1
    result = cfn_lint(templates)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_cfn_lint_catches_a_bad_property(tmp_path: Path, default_app: Synthesized) -> None:
    template = copy.deepcopy(default_app.raw())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::SageMaker::EndpointConfig":
            resource["Properties"]["ProductionVariants"][0]["RoutingConfig"]["RoutingStrategy"] = "FASTEST"
    broken = tmp_path / "broken.template.json"
    broken.write_text(json.dumps(template))
    result = cfn_lint([broken])
    assert result.returncode != 0 and "FASTEST" in result.stdout


def test_every_catalog_model_synthesizes_on_its_recommended_instance(variants_app: Synthesized) -> None:
    for model in MODELS.values():
        name = next(n for n, spec in _variants().items() if spec["model"] == {"id": model.repo_id})
        template = variants_app.template(f"TgiSageMaker-{name}")
        template.has_resource_properties(
            "AWS::SageMaker::EndpointConfig",
            {"ProductionVariants": [{"InstanceType": model.recommended_instance, "InitialInstanceCount": 1}]},
        )
        models = template.find_resources("AWS::SageMaker::Model")
        (environment,) = [m["Properties"]["PrimaryContainer"]["Environment"] for m in models.values()]
        assert environment["HF_MODEL_ID"] == "/opt/ml/model"
        assert int(environment["SM_NUM_GPUS"]) >= 1
        template.has_resource_properties(  # no revision: the repo's default branch, resolved at deploy time
            "Custom::HubWeightsCopy", {"RepoId": model.repo_id, "Revision": Match.absent()}
        )


def test_existing_vpc_uses_the_given_ids_without_creating_a_vpc(variants_app: Synthesized) -> None:
    own = variants_app.template("TgiSageMaker-existing-vpc-own-sg")
    own.resource_count_is("AWS::EC2::VPC", 0)
    own.resource_count_is("AWS::EC2::SecurityGroup", 0)
    own.has_resource_properties(
        "AWS::SageMaker::Model",
        {"VpcConfig": {"Subnets": EXISTING_VPC["subnet_ids"], "SecurityGroupIds": ["sg-0a1b2c3d4e5f60719"]}},
    )
    new_group = variants_app.template("TgiSageMaker-existing-vpc-new-sg")
    new_group.resource_count_is("AWS::EC2::VPC", 0)
    new_group.has_resource_properties("AWS::EC2::SecurityGroup", {"VpcId": EXISTING_VPC["vpc_id"]})


def test_with_the_s3_prefix_list_https_egress_reaches_s3_alone(variants_app: Synthesized) -> None:
    raw = variants_app.raw("TgiSageMaker-s3-prefix-list")
    ((group_id, group),) = [(k, r) for k, r in raw["Resources"].items() if r["Type"] == "AWS::EC2::SecurityGroup"]
    assert "SecurityGroupEgress" not in group["Properties"]  # a separate rule (CloudFormation drops the default)
    (egress,) = [r["Properties"] for r in raw["Resources"].values() if r["Type"] == "AWS::EC2::SecurityGroupEgress"]
    assert egress == {
        "Description": "S3 (prefix list)",
        "DestinationPrefixListId": "pl-63a5400a",
        "FromPort": 443,
        "GroupId": {"Fn::GetAtt": [group_id, "GroupId"]},
        "IpProtocol": "tcp",
        "ToPort": 443,
    }


def test_subnets_given_by_id_are_named_in_any_account_with_a_reason(variants_app: Synthesized) -> None:
    raw = variants_app.raw("TgiSageMaker-existing-vpc-own-sg")
    (policy,) = [
        p
        for p in raw["Resources"].values()
        if p["Type"] == "AWS::IAM::Policy" and "ec2:CreateNetworkInterface" in json.dumps(p)
    ]
    text = json.dumps(policy["Properties"]["PolicyDocument"])
    for subnet in EXISTING_VPC["subnet_ids"]:
        assert f':*:subnet/{subnet}"' in text  # a shared VPC's subnets belong to the account that shares it
    assert ':*:security-group/sg-0a1b2c3d4e5f60719"' in text


def test_no_vpc_variant_has_no_vpc_config_and_no_eni_permissions(variants_app: Synthesized) -> None:
    raw = variants_app.raw("TgiSageMaker-no-vpc")
    types = {r["Type"] for r in raw["Resources"].values()}
    assert "AWS::EC2::VPC" not in types
    (model,) = [r for r in raw["Resources"].values() if r["Type"] == "AWS::SageMaker::Model"]
    assert "VpcConfig" not in model["Properties"]
    assert "ec2:CreateNetworkInterface" not in json.dumps(raw)


def test_hub_weights_pin_the_revision_and_a_token_never_reaches_the_model(variants_app: Synthesized) -> None:
    raw = variants_app.raw("TgiSageMaker-hub-pinned")
    (model,) = [r for r in raw["Resources"].values() if r["Type"] == "AWS::SageMaker::Model"]
    environment = model["Properties"]["PrimaryContainer"]["Environment"]
    assert environment["HF_MODEL_REVISION"] == "ebf7e8d03db3d86a442d22d30d499abb7ec27bea"
    gated = variants_app.raw("TgiSageMaker-gated")
    (model,) = [r for r in gated["Resources"].values() if r["Type"] == "AWS::SageMaker::Model"]
    assert "HF_TOKEN" not in model["Properties"]["PrimaryContainer"]["Environment"]
    assert "{{resolve:" not in json.dumps(gated)  # the copy reads the secret at run time, by name


def test_only_a_model_that_needs_the_internet_skips_the_network_isolation_check(variants_app: Synthesized) -> None:
    for name, raw in variants_app.templates.items():
        (model,) = [r for r in raw["Resources"].values() if r["Type"] == "AWS::SageMaker::Model"]
        skips = {skip["id"]: skip["comment"] for skip in model.get("Metadata", {}).get("checkov", {}).get("skip", [])}
        if name == "TgiSageMaker-hub-pinned":
            assert model["Properties"]["EnableNetworkIsolation"] is False
            assert "downloads the weights from the Hub at every start" in skips["CKV_AWS_370"]
        else:
            assert model["Properties"]["EnableNetworkIsolation"] is True, name
            assert "CKV_AWS_370" not in skips, name


def test_two_copies_share_an_instance_with_half_its_gpus_and_memory(variants_app: Synthesized) -> None:
    template = variants_app.template("TgiSageMaker-two-copies-an-instance")
    template.has_resource_properties(
        "AWS::SageMaker::InferenceComponent",
        {
            "Specification": {
                "ComputeResourceRequirements": {"NumberOfAcceleratorDevicesRequired": 2, "MinMemoryRequiredInMb": 49152}
            }
        },
    )
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 0, "MaxCapacity": 2}
    )
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {"ProductionVariants": [{"ManagedInstanceScaling": {"MaxInstanceCount": 1}}]},
    )


def test_region_specific_stack_pins_azs_and_renders_literals(regional_app: Synthesized) -> None:
    raw = regional_app.raw()
    assert "Mappings" not in raw
    azs = {r["Properties"]["AvailabilityZone"] for r in raw["Resources"].values() if r["Type"] == "AWS::EC2::Subnet"}
    assert azs == {"eu-central-1a", "eu-central-1b"}
    (model,) = [r for r in raw["Resources"].values() if r["Type"] == "AWS::SageMaker::Model"]
    assert model["Properties"]["PrimaryContainer"]["Image"].startswith(
        "763104351884.dkr.ecr.eu-central-1.amazonaws.com/"
    )


def test_warnings_are_findings_too(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path), context={"@aws-cdk/core:annotationsInValidationReport": True})
    stack = cdk.Stack(app, "Warned")
    cdk.CfnWaitConditionHandle(stack, "Placeholder")
    cdk.Annotations.of(stack).add_warning_v2("test:loose-end", "a warning that synthesis prints but does not fail on")
    add_compliance_checks(app)
    app.synth()  # a warning does not raise...
    findings = unacknowledged_findings(tmp_path / "validation-report.json")
    assert any("loose-end (warning)" in f for f in findings), findings  # ...but counts as a finding


def test_nag_packs_fail_synthesis_on_an_unacknowledged_finding(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Careless")
    s3.Bucket(stack, "Bucket", enforce_ssl=False)
    add_compliance_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    assert "AwsSolutions-S10" in report and "HIPAA.Security" in report


def test_every_acknowledgement_gives_a_specific_reason(default_app: Synthesized) -> None:
    acknowledgements = _acknowledgements(default_app.app)  # the default app holds every kind of construct
    assert len(acknowledgements) >= 5
    for rule, reason in acknowledgements:
        assert len(reason) >= 60, (rule, reason)
    rules = {rule for rule, _ in acknowledgements}
    assert "HIPAA.Security::HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured" in rules


def test_no_reason_outside_the_copy_calls_the_weights_public(variants_app: Synthesized) -> None:
    # The gated variant holds a token secret: its bucket holds weights that are not public.
    gated = variants_app.app.node.find_child("TgiSageMaker-gated")
    for node in gated.node.find_all():
        if node.node.path.startswith("TgiSageMaker-gated/WeightsCopy"):
            continue  # the copy's own reasons are reviewed with the copy
        for entry in node.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                assert all("public" not in reason for reason in entry.data.values()), (node.node.path, entry.data)


def _acknowledgements(app: cdk.App) -> list[tuple[str, str]]:
    found = []
    for node in app.node.find_all():
        for entry in node.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                found += [(rule, reason) for rule, reason in entry.data.items() if rule.startswith(NAG_PACKS)]
    return found
