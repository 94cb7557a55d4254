"""The deploy rehearsal: the synthesized assembly, deployed, updated, rolled back and deleted as AWS would do it.

Each test takes a stack template written by the real CDK CLI and plays it against the rehearsal account
(tests/rehearsal/account.py): functions from their asset folders with the template's environment, every AWS call
decided by a policy evaluator over the template's policies, the state machines' definitions interpreted,
CloudFormation's custom-resource protocol, moto and the Hub emulator as peers.
"""

from __future__ import annotations

from typing import Any

from emulated_models import MIB, REPO, model_files
from hub_emulator import HubEmulator

from rehearsal.account import Account
from rehearsal.assembly import CloudAssembly
from rehearsal.cloudformation import Stack
from rehearsal.conftest import DEFAULT, stack_name
from rehearsal.evidence import denied, function_of, objects, open_uploads, with_template


def _model(hub: HubEmulator, **kwargs: Any) -> tuple[str, dict[str, bytes]]:
    files = model_files(shard_bytes=6 * MIB, **kwargs)
    return hub.add_repo(REPO, files), files


def _copy_resource(stack: Stack) -> str:
    (logical_id,) = [lid for lid, r in stack.template["Resources"].items() if r["Type"] == "Custom::HubWeightsCopy"]
    return logical_id


def _bucket(stack: Stack) -> str:
    (bucket,) = [p.id for p in stack.resources.values() if p.type == "AWS::S3::Bucket"]
    return bucket


def test_the_default_deployment_creates_and_sagemaker_can_load_the_copied_weights(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    commit, files = _model(hub)
    stack = account.stack(assembly.stack(stack_name(DEFAULT)))
    assert stack.create() == "CREATE_COMPLETE", stack.events
    (downloaded,) = stack.model_data.values()
    assert downloaded == files  # what SageMaker copies to /opt/ml/model, byte for byte, and nothing else
    bucket = _bucket(stack)
    prefix = f"models/{REPO}/{commit}/"
    assert stack.resources[_copy_resource(stack)].attributes["S3Uri"] == f"s3://{bucket}/{prefix}"
    assert {key.removeprefix(prefix): body for key, body in objects(account, bucket, prefix).items()} == files
    assert open_uploads(account, bucket) == []
    assert denied(account) == []
    assert account.gateway.unmapped == []


def test_the_rehearsal_fails_a_template_whose_on_event_function_lacks_the_state_machine_arn(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    _model(hub)
    artifact = assembly.stack(stack_name(DEFAULT))
    on_event = function_of(artifact, ".on_event")

    def drop_variable(template: dict[str, Any]) -> None:
        del template["Resources"][on_event]["Properties"]["Environment"]["Variables"]["STATE_MACHINE_ARN"]

    stack = account.stack(with_template(artifact, drop_variable), "Defect-no-state-machine-arn")
    assert stack.create() == "ROLLBACK_COMPLETE"
    (failure,) = [e for e in stack.events if e.status == "CREATE_FAILED"]
    assert "'STATE_MACHINE_ARN'" in failure.reason


def test_the_rehearsal_fails_a_template_whose_copy_role_may_not_list_the_bucket(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    _model(hub)
    artifact = assembly.stack(stack_name(DEFAULT))
    copy_role = artifact.template["Resources"][function_of(artifact, ".copy_file")]["Properties"]["Role"]

    def drop_list_bucket(template: dict[str, Any]) -> None:
        for resource in template["Resources"].values():
            if (
                resource["Type"] == "AWS::IAM::Policy"
                and {"Ref": copy_role["Fn::GetAtt"][0]} in resource["Properties"]["Roles"]
            ):
                for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                    statement["Action"] = [a for a in actions if a != "s3:ListBucket"]

    stack = account.stack(with_template(artifact, drop_list_bucket), "Defect-no-list-bucket")
    assert stack.create() == "ROLLBACK_COMPLETE"
    (failure,) = [e for e in stack.events if e.status == "CREATE_FAILED"]
    assert "AccessDenied" in failure.reason or "403" in failure.reason, failure.reason + _function_logs(account)


def _function_logs(account: Account) -> str:
    return "\n".join(account.lambdas.logs()[-200:])
