"""The pipeline from config/pipeline.yaml: stages in order, approval before prod, the README's synth command,
a smoke test allowed to invoke exactly its endpoint; cfn-lint and cdk-nag clean on every template. And a pipeline
whose stages deploy config/shared.yaml's shared endpoint beside an own-endpoint deployment: a smoke test per model,
termination protection for every production stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from app import new_app
from helpers import ROOT, cdk_json_context, cfn_lint, checkov
from stacks.pipeline_stack import PipelineStack
from tgi_sagemaker import add_compliance_checks
from tgi_sagemaker.compliance import unacknowledged_findings
from tgi_sagemaker.config.pipeline import load_pipeline
from tgi_sagemaker.config.source import CONTEXT_KEY, read_config_file

PIPELINE_FILE = "config/pipeline.yaml"
PROD_DEPLOY_ROLE = "cdk-hnb659fds-deploy-role-444455556666-us-east-1"  # the CDK bootstrap's, default qualifier
SHARED_CONFIG = "config/shared.yaml"
SHARED_STACKS = {"dev": "TgiSageMaker-dev-r1-distills", "prod": "TgiSageMaker-prod-r1-distills"}


def _synthesize_pipeline(raw: Any, source: str, root: Path, folder: Path) -> Path:
    context = {key: value for key, value in cdk_json_context().items() if key != CONTEXT_KEY}
    app = new_app(outdir=str(folder), context={**context, "aws:cdk:enable-path-metadata": True})
    pipeline = load_pipeline(raw, source, root)
    PipelineStack(app, "tgi-sagemaker-pipeline", pipeline=pipeline, pipeline_file=source)
    add_compliance_checks(app)
    app.synth()
    return folder


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(tmp_path_factory.mktemp("pipeline"))
    return _synthesize_pipeline(read_config_file(ROOT / PIPELINE_FILE), PIPELINE_FILE, ROOT, folder)


@pytest.fixture(scope="module")
def shared_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """config/shared.yaml's endpoint plus config/dev.yaml's own-endpoint deployment, as a dev stage in the
    pipeline's account and a production stage in another (behind an approval, no smoke test)."""
    root = Path(tmp_path_factory.mktemp("shared-configs"))
    shared = read_config_file(ROOT / SHARED_CONFIG)
    (own,) = read_config_file(ROOT / "config/dev.yaml")["deployments"]
    for deployment in shared["deployments"]:  # a production stage deploys pinned commits only (example commits)
        deployment["model"].setdefault("revision", "0123456789abcdef0123456789abcdef01234567")
    shared["deployments"].append(own)
    shared["endpoints"][0]["network"] = {"availability_zones": ["us-east-1a", "us-east-1b"]}  # synth looks nothing up
    environments = {
        "dev": {"name": "dev", "account": "111122223333", "region": "us-east-1"},
        "prod": {"name": "prod", "account": "444455556666", "region": "us-east-1", "production": True},
    }
    for name, environment in environments.items():
        (root / f"{name}.yaml").write_text(yaml.safe_dump({**shared, "environment": environment}))
    raw = read_config_file(ROOT / PIPELINE_FILE)
    raw["pipeline"]["stages"] = [
        {"config": "dev.yaml"},
        {"config": "prod.yaml", "approval": True, "smoke_test": False},
    ]
    return _synthesize_pipeline(raw, "pipeline.yaml", root, Path(tmp_path_factory.mktemp("shared-pipeline")))


@pytest.fixture(scope="module")
def shared_template(shared_outdir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((shared_outdir / "tgi-sagemaker-pipeline.template.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def template(outdir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((outdir / "tgi-sagemaker-pipeline.template.json").read_text())
    return loaded


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {key: value for key, value in template["Resources"].items() if value["Type"] == resource_type}


def _project(template: dict[str, Any], action_name: str) -> dict[str, Any]:
    """The CodeBuild project behind a pipeline action."""
    (pipeline,) = _of_type(template, "AWS::CodePipeline::Pipeline").values()
    actions = [a for stage in pipeline["Properties"]["Stages"] for a in stage["Actions"] if a["Name"] == action_name]
    (action,) = actions
    project: dict[str, Any] = template["Resources"][action["Configuration"]["ProjectName"]["Ref"]]["Properties"]
    return project


def _stage_actions(template: dict[str, Any], stage: str) -> dict[str, dict[str, Any]]:
    (pipeline,) = _of_type(template, "AWS::CodePipeline::Pipeline").values()
    (actions,) = [s["Actions"] for s in pipeline["Properties"]["Stages"] if s["Name"] == stage]
    return {action["Name"]: action for action in actions}


def _role_statements(template: dict[str, Any], project: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement of the policies attached to a CodeBuild project's role."""
    role = project["ServiceRole"]["Fn::GetAtt"][0]
    policies = [p for p in _of_type(template, "AWS::IAM::Policy").values() if {"Ref": role} in p["Properties"]["Roles"]]
    return [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _stage_stack(outdir: Path, stage: str, stack_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A stage stack's template and its cloud-assembly manifest entry."""
    assembly = outdir / f"assembly-tgi-sagemaker-pipeline-{stage}"
    manifest = json.loads((assembly / "manifest.json").read_text())
    (artifact,) = [
        a
        for a in manifest["artifacts"].values()
        if a["type"] == "aws:cloudformation:stack" and a["properties"].get("stackName") == stack_name
    ]
    template = json.loads((assembly / artifact["properties"]["templateFile"]).read_text())
    return template, artifact


def test_stages_run_in_order_with_an_approval_before_prod(template: dict[str, Any]) -> None:
    (pipeline,) = _of_type(template, "AWS::CodePipeline::Pipeline").values()
    stages = {stage["Name"]: stage["Actions"] for stage in pipeline["Properties"]["Stages"]}
    assert list(stages) == ["Source", "Build", "UpdatePipeline", "Assets", "dev", "prod"]
    (source,) = stages["Source"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["FullRepositoryId"] == "my-org/tgi-sagemaker"
    assert source["Configuration"]["BranchName"] == "main"
    assert source["Configuration"]["ConnectionArn"].startswith("arn:aws:codeconnections:us-east-1:111122223333:")
    order = {action["Name"]: action["RunOrder"] for action in stages["prod"]}
    assert (
        order["Approve-prod"]
        < order["TgiSageMaker-prod-r1-llama-8b.Prepare"]
        < order["TgiSageMaker-prod-r1-llama-8b.Deploy"]
    )
    approve = next(a for a in stages["prod"] if a["Name"] == "Approve-prod")
    assert approve["ActionTypeId"]["Category"] == "Approval"
    assert not any(a["ActionTypeId"]["Category"] == "Approval" for a in stages["dev"])
    dev = {action["Name"]: action["RunOrder"] for action in stages["dev"]}
    assert dev["SmokeTest-TgiSageMaker-dev-r1-llama-8b"] > dev["TgiSageMaker-dev-r1-llama-8b.Deploy"]
    assert not any(name.startswith("SmokeTest") for name in order)  # prod is in another account: no smoke test


def test_synth_runs_the_readme_commands_on_python_311_and_node_20(template: dict[str, Any]) -> None:
    project = _project(template, "Synth")
    assert project["Environment"]["Image"] == "aws/codebuild/standard:7.0"
    buildspec = json.loads(project["Source"]["BuildSpec"])
    assert buildspec["phases"]["install"]["runtime-versions"] == {"python": "3.11", "nodejs": "20"}
    assert buildspec["phases"]["build"]["commands"] == [f"make synth PIPELINE={PIPELINE_FILE}"]
    assert buildspec["artifacts"]["base-directory"] == "cdk.out"


def test_the_smoke_test_invokes_its_endpoint_and_may_invoke_nothing_else(
    template: dict[str, Any], outdir: Path
) -> None:
    project = _project(template, "SmokeTest-TgiSageMaker-dev-r1-llama-8b")
    commands = json.loads(project["Source"]["BuildSpec"])["phases"]["build"]["commands"]
    assert commands[-1].startswith('.venv/bin/tgi-sagemaker invoke --region us-east-1 --endpoint "$INVOKE_TARGET"')
    assert "--wake-up-timeout 1800" in commands[-1]
    (dev_template,) = (outdir / "assembly-tgi-sagemaker-pipeline-dev").glob("*.template.json")
    dev = json.loads(dev_template.read_text())
    (endpoint,) = [r for r in dev["Resources"].values() if r["Type"] == "AWS::SageMaker::Endpoint"]
    name = endpoint["Properties"]["EndpointName"].lower()
    (component,) = [r for r in dev["Resources"].values() if r["Type"] == "AWS::SageMaker::InferenceComponent"]
    component_name = component["Properties"]["InferenceComponentName"].lower()  # dev scales to zero
    invoke = [s for s in _role_statements(template, project) if "sagemaker" in json.dumps(s["Action"])]
    arn = "arn:aws:sagemaker:us-east-1:111122223333"  # the stage's partition
    assert invoke == [
        {
            "Action": "sagemaker:InvokeEndpointWithResponseStream",
            "Effect": "Allow",
            "Resource": [f"{arn}:endpoint/{name}", f"{arn}:inference-component/{component_name}"],
        }
    ]
    assert "InvokeTarget" in dev["Outputs"]


def test_cross_account_artifacts_use_a_rotating_key_and_builds_log_with_retention(template: dict[str, Any]) -> None:
    (key,) = _of_type(template, "AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True
    (group,) = _of_type(template, "AWS::Logs::LogGroup").values()
    assert group["Properties"]["RetentionInDays"] == 365
    projects = _of_type(template, "AWS::CodeBuild::Project").values()
    assert all(p["Properties"]["LogsConfig"]["CloudWatchLogs"]["Status"] == "ENABLED" for p in projects)


def test_every_template_passes_cfn_lint_and_nag_looked_at_the_stage_stacks(outdir: Path) -> None:
    templates = sorted(outdir.rglob("*.template.json"))
    assert len(templates) == 3
    result = cfn_lint(templates)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr
    scanned = checkov([outdir])
    assert scanned.clean and len(scanned.assemblies) == 3, str(scanned)  # the pipeline and each stage on its own
    report = outdir / "validation-report.json"
    assert unacknowledged_findings(report) == []
    suppressed = json.dumps(json.loads(report.read_text())["pluginReports"])
    assert "/dev/TgiSageMaker-dev-r1-llama-8b/" in suppressed and "/prod/TgiSageMaker-prod-r1-llama-8b/" in suppressed


def test_jobs_that_assume_deploy_roles_install_the_cli_versions_package_lock_pins(template: dict[str, Any]) -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    pinned = {f"{name}@{lock[f'node_modules/{name}']['version']}" for name in ("aws-cdk", "cdk-assets")}
    installs = {
        command.removeprefix("npm install -g ")
        for project in _of_type(template, "AWS::CodeBuild::Project").values()
        for command in json.loads(project["Properties"]["Source"]["BuildSpec"])["phases"]
        .get("install", {})
        .get("commands", [])
        if command.startswith("npm install -g ")
    }
    assert installs == pinned  # self-mutation (aws-cdk) and every asset job (cdk-assets), nothing unpinned


def test_production_stacks_get_termination_protection_which_the_pipeline_turns_on(
    template: dict[str, Any], outdir: Path
) -> None:
    protection = {}
    for stage in ("dev", "prod"):
        manifest = json.loads((outdir / f"assembly-tgi-sagemaker-pipeline-{stage}" / "manifest.json").read_text())
        (stack,) = [a for a in manifest["artifacts"].values() if a["type"] == "aws:cloudformation:stack"]
        protection[stage] = stack["properties"].get("terminationProtection", False)
    assert protection == {"dev": False, "prod": True}
    # CloudFormation change sets (how CDK Pipelines deploys) ignore it: a step after the deploy turns it on.
    (pipeline,) = _of_type(template, "AWS::CodePipeline::Pipeline").values()
    stages = {stage["Name"]: stage["Actions"] for stage in pipeline["Properties"]["Stages"]}
    order = {action["Name"]: action["RunOrder"] for action in stages["prod"]}
    step = "TerminationProtection-TgiSageMaker-prod-r1-llama-8b"
    assert order[step] > order["TgiSageMaker-prod-r1-llama-8b.Deploy"]
    assert not any(name.startswith("TerminationProtection") for name in (a["Name"] for a in stages["dev"]))
    project = _project(template, step)
    commands = json.loads(project["Source"]["BuildSpec"])["phases"]["build"]["commands"]
    assert commands[-1] == (
        "aws cloudformation update-termination-protection --profile deploy --region us-east-1 "
        "--stack-name TgiSageMaker-prod-r1-llama-8b --enable-termination-protection"
    )
    role = project["ServiceRole"]["Fn::GetAtt"][0]
    policies = [p for p in _of_type(template, "AWS::IAM::Policy").values() if {"Ref": role} in p["Properties"]["Roles"]]
    assume = [
        s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "sts:AssumeRole"
    ]
    assert assume == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Resource": {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::444455556666:role/{PROD_DEPLOY_ROLE}"},
        }
    ]


def test_checkov_skips_a_check_only_where_it_fails_and_says_why(template: dict[str, Any]) -> None:
    skipped = {
        key: [skip["id"] for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])]
        for key, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Policy"
    }
    assert {key for key, checks in skipped.items() if checks} == {
        key
        for key in skipped
        if key.startswith("PipelineAssetsFileRole")  # the account-wide CodeBuild grants
    }


def test_each_model_on_a_shared_endpoint_gets_a_smoke_test_that_invokes_its_component(
    shared_template: dict[str, Any], shared_outdir: Path
) -> None:
    models = [d["name"] for d in read_config_file(ROOT / SHARED_CONFIG)["deployments"]]
    stack_name = SHARED_STACKS["dev"]
    actions = _stage_actions(shared_template, "dev")
    smoke_tests = {name for name in actions if name.startswith("SmokeTest-")}
    own = "SmokeTest-TgiSageMaker-dev-r1-llama-8b"  # the own-endpoint deployment beside it keeps its own
    assert smoke_tests == {own, *(f"SmokeTest-{stack_name}.{model}" for model in models)}
    deploy = actions[f"{stack_name}.Deploy"]
    stack, _ = _stage_stack(shared_outdir, "dev", stack_name)
    components = _of_type(stack, "AWS::SageMaker::InferenceComponent").values()
    for model in models:
        action = actions[f"SmokeTest-{stack_name}.{model}"]
        assert action["RunOrder"] > deploy["RunOrder"]
        # INVOKE_TARGET is the model's own InvokeTarget output of the shared stack, read from its deploy action.
        (variable,) = json.loads(action["Configuration"]["EnvironmentVariables"])
        namespace, output = variable["value"].removeprefix("#{").removesuffix("}").split(".")
        assert variable["name"] == "INVOKE_TARGET" and namespace == deploy["Namespace"]
        (component,) = [c for c in components if f"/{model}/InferenceComponent/" in c["Metadata"]["aws:cdk:path"]]
        endpoint_name = component["Properties"]["EndpointName"]
        component_name = component["Properties"]["InferenceComponentName"]
        assert stack["Outputs"][output]["Value"] == f"{endpoint_name}:{component_name}"
        project = _project(shared_template, action["Name"])
        commands = json.loads(project["Source"]["BuildSpec"])["phases"]["build"]["commands"]
        assert commands[-1].startswith('.venv/bin/tgi-sagemaker invoke --region us-east-1 --endpoint "$INVOKE_TARGET"')
        invoke = [s for s in _role_statements(shared_template, project) if "sagemaker" in json.dumps(s["Action"])]
        arn = "arn:aws:sagemaker:us-east-1:111122223333"  # SageMaker writes the names lower case in ARNs
        assert invoke == [
            {
                "Action": "sagemaker:InvokeEndpointWithResponseStream",
                "Effect": "Allow",
                "Resource": [
                    f"{arn}:endpoint/{endpoint_name.lower()}",
                    f"{arn}:inference-component/{component_name.lower()}",
                ],
            }
        ]


def test_a_production_stage_protects_its_shared_endpoint_stack_too(
    shared_template: dict[str, Any], shared_outdir: Path
) -> None:
    actions = _stage_actions(shared_template, "prod")
    assert not any(name.startswith("SmokeTest-") for name in actions)
    protected = {name for name in actions if name.startswith("TerminationProtection-")}
    own = "TgiSageMaker-prod-r1-llama-8b"
    assert protected == {f"TerminationProtection-{own}", f"TerminationProtection-{SHARED_STACKS['prod']}"}
    for stack_name in (own, SHARED_STACKS["prod"]):
        _, artifact = _stage_stack(shared_outdir, "prod", stack_name)
        assert artifact["properties"]["terminationProtection"] is True
        step = f"TerminationProtection-{stack_name}"
        assert actions[step]["RunOrder"] > actions[f"{stack_name}.Deploy"]["RunOrder"]
        commands = json.loads(_project(shared_template, step)["Source"]["BuildSpec"])["phases"]["build"]["commands"]
        assert commands[-1] == (
            "aws cloudformation update-termination-protection --profile deploy --region us-east-1 "
            f"--stack-name {stack_name} --enable-termination-protection"
        )
    assert not any(name.startswith("TerminationProtection-") for name in _stage_actions(shared_template, "dev"))


def test_the_shared_endpoint_pipeline_passes_cdk_nag(shared_outdir: Path) -> None:
    assert unacknowledged_findings(shared_outdir / "validation-report.json") == []
