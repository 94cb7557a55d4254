"""HubWeightsCopy on its own: the construct's side of the environment contract, read off the synthesized template;
the runtime it ships as its functions' asset; the revision it asks for; the engine defaults it applies."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Match, Template
from weights_copy import environment, settings
from weights_copy.environment import FUNCTIONS, ON_EVENT

from helpers import ROOT
from tgi_sagemaker import HubWeightsCopy
from tgi_sagemaker.hub_weights_copy.infrastructure import RUNTIME_FOLDER

REPO = "deepseek-ai/DeepSeek-R1-Distill-Llama-8B"
CONTRACTS = {contract.handler: contract for contract in FUNCTIONS}


def _synthesize(outdir: Path, **props: Any) -> tuple[dict[str, Any], Path]:
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Copy", env=cdk.Environment(account="123456789012", region="us-east-1"))
    bucket = s3.Bucket(stack, "Weights")
    HubWeightsCopy(stack, "WeightsCopy", bucket=bucket, repo_id=REPO, **props)
    app.synth()
    return Template.from_stack(stack).to_json(), outdir


@pytest.fixture(scope="module")
def with_token(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("with-token")))
    stack = cdk.Stack(app, "Copy", env=cdk.Environment(account="123456789012", region="us-east-1"))
    secret = secretsmanager.Secret.from_secret_name_v2(stack, "Token", "hf/token")
    HubWeightsCopy(stack, "WeightsCopy", bucket=s3.Bucket(stack, "Weights"), repo_id=REPO, token_secret=secret)
    return Template.from_stack(stack).to_json()


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    return _synthesize(tmp_path_factory.mktemp("copy"))


def _copy_functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The runtime's functions, by handler (the provider framework's own functions run CDK's code)."""
    return {
        resource["Properties"]["Handler"]: resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
        and str(resource["Properties"].get("Handler", "")).startswith("weights_copy.")
    }


def environment_problems(template: dict[str, Any]) -> list[str]:
    """What breaks the contract in a synthesized template: a handler without its function, a variable its handler
    reads and its function lacks, a variable its handler does not read."""
    functions = _copy_functions(template)
    problems = [f"no function runs {handler}" for handler in CONTRACTS.keys() - functions.keys()]
    for handler, properties in sorted(functions.items()):
        contract = CONTRACTS.get(handler)
        if contract is None:
            problems.append(f"{handler} is no handler of weights_copy.environment")
            continue
        names = set(properties.get("Environment", {}).get("Variables", {}))
        problems += [f"{handler} reads {name}, which its function lacks" for name in sorted(contract.required - names)]
        problems += [f"{handler} does not read {name}, which is set" for name in sorted(names - contract.names)]
    return problems


def test_each_function_sets_the_variables_its_handler_reads_and_no_other(
    synthesized: tuple[dict[str, Any], Path], with_token: dict[str, Any]
) -> None:
    template, _ = synthesized
    assert environment_problems(template) == []
    assert environment_problems(with_token) == []
    for handler, properties in _copy_functions(with_token).items():
        has_token = environment.HF_TOKEN_SECRET_ID in properties.get("Environment", {}).get("Variables", {})
        assert has_token == (environment.HF_TOKEN_SECRET_ID in CONTRACTS[handler].optional), handler
    assert all(
        environment.HF_TOKEN_SECRET_ID not in p.get("Environment", {}).get("Variables", {})
        for p in _copy_functions(template).values()
    )


def test_the_contract_check_finds_a_variable_dropped_or_added(synthesized: tuple[dict[str, Any], Path]) -> None:
    template, _ = synthesized
    broken = copy.deepcopy(template)
    for resource in broken["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function" and resource["Properties"].get("Handler") == ON_EVENT.handler:
            del resource["Properties"]["Environment"]["Variables"][environment.STATE_MACHINE_ARN]
            resource["Properties"]["Environment"]["Variables"]["SURPLUS"] = "x"
    assert environment_problems(broken) == [
        f"{ON_EVENT.handler} reads STATE_MACHINE_ARN, which its function lacks",
        f"{ON_EVENT.handler} does not read SURPLUS, which is set",
    ]


def test_the_variables_carry_the_bucket_the_state_machine_and_the_engine_defaults(
    synthesized: tuple[dict[str, Any], Path],
) -> None:
    template, _ = synthesized
    (bucket,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::S3::Bucket"]
    (machine,) = [
        k
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::StepFunctions::StateMachine" and "DISTRIBUTED" in str(r["Properties"])
    ]
    variables = _copy_functions(template)[ON_EVENT.handler]["Environment"]["Variables"]
    assert variables == {
        environment.BUCKET: {"Ref": bucket},
        environment.HF_ENDPOINT: settings.HUB_ENDPOINT,
        environment.PART_SIZE_MB: str(settings.PART_SIZE_MB),
        environment.MAX_IN_FLIGHT: str(settings.MAX_IN_FLIGHT),
        environment.DELETE_OBJECTS_ON_DELETE: "false",
        environment.STATE_MACHINE_ARN: {"Ref": machine},
    }
    Template.from_json(template).has_resource_properties(
        "Custom::HubWeightsCopy",
        {"AllowPatterns": list(settings.ALLOW_PATTERNS), "IgnorePatterns": list(settings.IGNORE_PATTERNS)},
    )


def test_without_a_revision_the_copy_is_asked_for_the_default_branch(
    synthesized: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    """No Revision property: the handler resolves the repo's default branch at deploy time (not ``main``)."""
    template, _ = synthesized
    Template.from_json(template).has_resource_properties(
        "Custom::HubWeightsCopy", {"RepoId": REPO, "Revision": Match.absent()}
    )
    pinned, _ = _synthesize(tmp_path, revision="a" * 40)
    Template.from_json(pinned).has_resource_properties("Custom::HubWeightsCopy", {"RepoId": REPO, "Revision": "a" * 40})


def test_the_functions_run_the_runtime_this_library_ships_and_nothing_else(
    synthesized: tuple[dict[str, Any], Path],
) -> None:
    template, outdir = synthesized
    assert RUNTIME_FOLDER == ROOT / "lambda" / "weights_copy"  # in a checkout: the runtime's source itself
    (key,) = {properties["Code"]["S3Key"] for properties in _copy_functions(template).values()}
    asset = outdir / f"asset.{key.removesuffix('.zip')}"
    staged = {p.relative_to(asset).as_posix() for p in asset.rglob("*") if p.is_file()}
    source = {p.relative_to(RUNTIME_FOLDER).as_posix() for p in RUNTIME_FOLDER.rglob("*.py")}
    assert staged == {path for path in source if "__pycache__" not in path}


def test_parts_in_flight_that_do_not_fit_the_memory_are_refused_by_name() -> None:
    stack = cdk.Stack(cdk.App(), "Copy")
    with pytest.raises(ValueError, match=r"part_size_mb 128 x max_in_flight 16 needs about 4096 MB; memory_size_mb"):
        HubWeightsCopy(
            stack, "WeightsCopy", bucket=s3.Bucket(stack, "Weights"), repo_id=REPO, part_size_mb=128, max_in_flight=16
        )
