"""The deploy rehearsal: the synthesized assembly, deployed, updated, rolled back and deleted as AWS would do it.

Each test takes a stack template written by the real CDK CLI and plays it against the rehearsal account
(tests/rehearsal/account.py): functions from their asset folders with the template's environment, every AWS call
decided by a policy evaluator over the template's policies, the state machines' definitions interpreted,
CloudFormation's custom-resource protocol, moto and the Hub emulator as peers. Faults, secrets and copies that do not
finish: test_rehearsal_faults.py.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from emulated_models import REPO
from hub_emulator import HubEmulator

from rehearsal.account import Account
from rehearsal.assembly import CloudAssembly
from rehearsal.conftest import DEFAULT, PINNED_COMMIT, SHARED_ENDPOINT, SHARED_MODELS, stack_name
from rehearsal.evidence import (
    bucket_exists,
    denied,
    failures,
    function_of,
    objects,
    open_uploads,
    with_template,
)
from rehearsal.scenarios import (
    bucket_of,
    copy_resource,
    deploy,
    model,
    requests_of,
    served,
)


def test_the_default_deployment_creates_and_sagemaker_can_load_the_copied_weights(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    commit, files = model(hub)
    stack = account.stack(assembly.stack(stack_name(DEFAULT)))
    assert stack.create() == "CREATE_COMPLETE", "\n".join(failures(stack))
    (downloaded,) = stack.model_data.values()
    assert downloaded == files  # what SageMaker copies to /opt/ml/model, byte for byte, and nothing else
    bucket = bucket_of(stack)
    prefix = f"models/{REPO}/{commit}/"
    assert stack.resources[copy_resource(stack)].attributes["S3Uri"] == f"s3://{bucket}/{prefix}"
    assert {key.removeprefix(prefix): body for key, body in objects(account, bucket, prefix).items()} == files
    assert open_uploads(account, bucket) == []
    assert denied(account) == []
    assert account.gateway.unmapped == []


def test_a_shared_endpoint_creates_and_sagemaker_can_load_each_models_weights(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    """config/shared.yaml (#17): three distills on one endpoint, each copied by its own copy resource, each model's
    data readable by the endpoint's one execution role, every call allowed by the template's policies."""
    served = {repo: model(hub, seed=seed, repo=repo)[1] for seed, repo in enumerate(SHARED_MODELS, start=11)}
    stack = account.stack(assembly.stack(stack_name(SHARED_ENDPOINT)))
    assert stack.create() == "CREATE_COMPLETE", "\n".join(failures(stack))
    assert sorted(map(_digest, stack.model_data.values())) == sorted(map(_digest, served.values()))
    assert denied(account) == []
    assert account.gateway.unmapped == []


def test_the_rehearsal_fails_a_template_whose_on_event_function_lacks_the_state_machine_arn(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    model(hub)
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
    model(hub)
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


# --- Update, rollback -----------------------------------------------------------------------------------------------
def test_a_revision_change_copies_the_new_commit_and_cleans_up_the_old_physical_resource(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    commit_a, files_a = model(hub)
    stack = deploy(account, assembly, DEFAULT, "Update-revision")
    _, files_b = model(hub, seed=8, commit=PINNED_COMMIT)
    assert stack.update(assembly.stack(stack_name("pinned"))) == "UPDATE_COMPLETE", failures(stack)
    assert served(stack) == files_b
    (update,) = requests_of(account, stack, "Update")
    assert (update["OldResourceProperties"].get("Revision"), update["ResourceProperties"]["Revision"]) == (
        None,  # the default deployment names no revision: the repo's default branch
        PINNED_COMMIT,
    )
    (cleanup,) = requests_of(account, stack, "Delete")  # the old physical id goes once the update is complete
    assert cleanup["PhysicalResourceId"].endswith(f"@{commit_a}")
    bucket = bucket_of(stack)
    assert len(objects(account, bucket, f"models/{REPO}/{commit_a}/")) == len(files_a)  # kept: not asked to delete
    assert open_uploads(account, bucket) == [] and denied(account) == []


def test_a_rollback_needs_no_hub_and_keeps_the_commit_a_branch_had(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    """CloudFormation's rollback Update after a failed update asks for the old properties (no revision: the
    default branch, 'main'). The Hub is down by then and 'main' has moved: the rollback must still succeed, on the
    commit 'main' had before."""
    commit_a, files_a = model(hub)
    stack = deploy(account, assembly, DEFAULT, "Rollback-without-hub")
    model(hub, seed=8, commit=PINNED_COMMIT)  # 'main' moves to the new commit too

    def hub_down_then_fail() -> str:
        for kind in ("api-500", "500"):
            hub.fail(kind, "/", times=1_000_000)
        hub.requests.clear()
        return "Resource handler returned message: the container did not pass its health check"

    stack.failures["AWS::SageMaker::InferenceComponent"] = hub_down_then_fail
    assert stack.update(assembly.stack(stack_name("pinned"))) == "UPDATE_ROLLBACK_COMPLETE", failures(stack)
    assert served(stack) == files_a  # the model SageMaker holds after the rollback is the old commit's
    copy = stack.resources[copy_resource(stack)]
    assert copy.id.endswith(f"@{commit_a}") and copy.attributes["Commit"] == commit_a
    assert sum(hub.requests.values()) == 0, hub.requests  # not one call to the Hub or its CDN while rolling back
    rollback, cleanup = requests_of(account, stack, "Update")[1], requests_of(account, stack, "Delete")[0]
    assert "Revision" not in rollback["ResourceProperties"] and rollback["PhysicalResourceId"].endswith(
        f"@{PINNED_COMMIT}"
    )
    assert cleanup["PhysicalResourceId"].endswith(f"@{PINNED_COMMIT}")


def test_a_failed_copy_update_rolls_back_without_asking_the_hub_again(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    """The update itself fails (the pinned commit is not on the Hub): the rollback Update that follows is served
    from the bucket; the Hub sees the one failed request of the update and nothing after it."""
    commit_a, files_a = model(hub)
    stack = deploy(account, assembly, DEFAULT, "Failed-update")
    hub.requests.clear()
    assert stack.update(assembly.stack(stack_name("pinned"))) == "UPDATE_ROLLBACK_COMPLETE", failures(stack)
    (failed,) = [e for e in stack.events if e.status == "UPDATE_FAILED"]
    assert "revision not found" in failed.reason
    assert stack.resources[copy_resource(stack)].id.endswith(f"@{commit_a}") and served(stack) == files_a
    assert dict(hub.requests) == {"api": 1}


# --- Delete ---------------------------------------------------------------------------------------------------------
def test_delete_keeps_the_retained_bucket_and_its_weights_by_default(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    commit, files = model(hub)
    stack = deploy(account, assembly, DEFAULT, "Delete-default")
    bucket = bucket_of(stack)
    assert stack.delete() == "DELETE_COMPLETE", failures(stack)
    assert {(left.type, left.id) for left in stack.leftovers if left.type == "AWS::S3::Bucket"} == {
        ("AWS::S3::Bucket", bucket)
    }
    assert len(objects(account, bucket, f"models/{REPO}/{commit}/")) == len(files)


def test_delete_objects_on_delete_removes_the_commit_and_its_records(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    commit, _ = model(hub)
    stack = deploy(account, assembly, "delete-objects", "Delete-objects")
    bucket = bucket_of(stack)
    assert stack.delete() == "DELETE_COMPLETE", failures(stack)
    assert objects(account, bucket, f"models/{REPO}/{commit}/") == {}
    assert objects(account, bucket, f"manifests/{REPO}/{commit}") == {}
    assert bucket_exists(account, bucket)  # the bucket itself is retained


def test_bucket_removal_policy_destroy_empties_and_deletes_the_bucket(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    model(hub)
    stack = deploy(account, assembly, "bucket-destroy", "Delete-bucket")
    bucket = bucket_of(stack)
    assert stack.delete() == "DELETE_COMPLETE", failures(stack)
    assert not bucket_exists(account, bucket)
    assert all(left.type != "AWS::S3::Bucket" for left in stack.leftovers)
    assert denied(account) == []


# --- a failed first deployment ------------------------------------------------------------------------------------
def test_a_failed_first_create_leaves_only_the_bucket_and_the_next_attempt_succeeds(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    """The repo is not on the Hub yet: the copy fails, CloudFormation rolls back; what stays is the retained
    bucket, not one log group; once the repo is there, the same stack deploys."""
    failed = account.stack(assembly.stack(stack_name(DEFAULT)), "First-attempt")
    assert failed.create() == "ROLLBACK_COMPLETE"
    (reason,) = [e.reason for e in failed.events if e.status == "CREATE_FAILED"]
    assert "repository not found" in reason
    assert [left.type for left in failed.leftovers] == ["AWS::S3::Bucket"]
    model(hub)
    deploy(account, assembly, DEFAULT, "First-attempt")


def test_a_copy_that_fails_midway_leaves_no_open_upload(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    model(hub)
    hub.fail("corrupt", "/blobs/", times=1_000)  # every attempt at a shard arrives corrupted
    stack = account.stack(assembly.stack(stack_name(DEFAULT)), "Corrupt-shards")
    assert stack.create() == "ROLLBACK_COMPLETE"
    (reason,) = [e.reason for e in stack.events if e.status == "CREATE_FAILED"]
    assert ".safetensors: IntegrityError" in reason
    (bucket,) = [left.id for left in stack.leftovers if left.type == "AWS::S3::Bucket"]
    assert open_uploads(account, bucket) == []


def _digest(files: dict[str, bytes]) -> str:
    return json.dumps({path: hashlib.sha256(data).hexdigest() for path, data in sorted(files.items())})
