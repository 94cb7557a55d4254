"""The deploy rehearsal: the synthesized assembly, deployed, updated, rolled back and deleted as AWS would do it.

Each test takes a stack template written by the real CDK CLI and plays it against the rehearsal account
(tests/rehearsal/account.py): functions from their asset folders with the template's environment, every AWS call
decided by a policy evaluator over the template's policies, the state machines' definitions interpreted,
CloudFormation's custom-resource protocol, moto and the Hub emulator as peers.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from emulated_models import MIB, REPO, model_files
from hub_emulator import HubEmulator

from rehearsal.account import Account
from rehearsal.assembly import CloudAssembly
from rehearsal.cloudformation import Stack
from rehearsal.conftest import DEFAULT, PINNED_COMMIT, TOKEN_KEY, TOKEN_SECRET, stack_name
from rehearsal.evidence import (
    bucket_exists,
    denied,
    everything_written,
    failures,
    function_of,
    objects,
    open_uploads,
    with_template,
)

# What a repo holds beside what the container loads: a model card, and the original checkpoint (a pickle).
NOT_SERVED = {"README.md", "original/consolidated.00.pth", "original/params.json"}


def _model(hub: HubEmulator, seed: int = 7, commit: str | None = None, **kwargs: Any) -> tuple[str, dict[str, bytes]]:
    """A commit of the repo at the Hub (``main`` moves to it); returns the commit and the files a deployment serves
    (all but ``NOT_SERVED``)."""
    files = model_files(shard_bytes=6 * MIB, seed=seed)
    files["original/consolidated.00.pth"] = b"\x80\x04pickled" * 1000
    files["original/params.json"] = b'{"dim": 4096}'
    commit = hub.add_repo(REPO, files, commit=commit, **kwargs)
    return commit, {path: data for path, data in files.items() if path not in NOT_SERVED}


def _deploy(account: Account, assembly: CloudAssembly, variant: str, name: str) -> Stack:
    stack = account.stack(assembly.stack(stack_name(variant)), name)
    assert stack.create() == "CREATE_COMPLETE", "\n".join(failures(stack))
    return stack


def _served(stack: Stack) -> dict[str, bytes]:
    """What SageMaker downloaded for the (one) model of the stack."""
    (downloaded,) = stack.model_data.values()
    return downloaded


def _requests(account: Account, stack: Stack, kind: str) -> list[dict[str, Any]]:
    """The custom-resource requests of ``kind`` CloudFormation sent to the stack's weights copy."""
    return [
        r
        for r in account.requests
        if r["StackId"] == stack.id and r["ResourceType"] == "Custom::HubWeightsCopy" and r["RequestType"] == kind
    ]


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
    assert stack.create() == "CREATE_COMPLETE", "\n".join(failures(stack))
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


# --- Update, rollback -----------------------------------------------------------------------------------------------
def test_a_revision_change_copies_the_new_commit_and_cleans_up_the_old_physical_resource(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    commit_a, files_a = _model(hub)
    stack = _deploy(account, assembly, DEFAULT, "Update-revision")
    _, files_b = _model(hub, seed=8, commit=PINNED_COMMIT)
    assert stack.update(assembly.stack(stack_name("pinned"))) == "UPDATE_COMPLETE", failures(stack)
    assert _served(stack) == files_b
    (update,) = _requests(account, stack, "Update")
    assert (update["OldResourceProperties"]["Revision"], update["ResourceProperties"]["Revision"]) == (
        "main",
        PINNED_COMMIT,
    )
    (cleanup,) = _requests(account, stack, "Delete")  # the old physical id goes once the update is complete
    assert cleanup["PhysicalResourceId"].endswith(f"@{commit_a}")
    bucket = _bucket(stack)
    assert len(objects(account, bucket, f"models/{REPO}/{commit_a}/")) == len(files_a)  # kept: not asked to delete
    assert open_uploads(account, bucket) == [] and denied(account) == []


def test_a_rollback_needs_no_hub_and_keeps_the_commit_a_branch_had(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    """CloudFormation's rollback Update after a failed update asks for the old properties (revision 'main'). The
    Hub is down by then and 'main' has moved: the rollback must still succeed, on the commit 'main' had before."""
    commit_a, files_a = _model(hub)
    stack = _deploy(account, assembly, DEFAULT, "Rollback-without-hub")
    _model(hub, seed=8, commit=PINNED_COMMIT)  # 'main' moves to the new commit too

    def hub_down_then_fail() -> str:
        for kind in ("api-500", "500"):
            hub.fail(kind, "/", times=1_000_000)
        hub.requests.clear()
        return "Resource handler returned message: the container did not pass its health check"

    stack.failures["AWS::SageMaker::InferenceComponent"] = hub_down_then_fail
    assert stack.update(assembly.stack(stack_name("pinned"))) == "UPDATE_ROLLBACK_COMPLETE", failures(stack)
    assert _served(stack) == files_a  # the model SageMaker holds after the rollback is the old commit's
    copy = stack.resources[_copy_resource(stack)]
    assert copy.id.endswith(f"@{commit_a}") and copy.attributes["Commit"] == commit_a
    assert sum(hub.requests.values()) == 0, hub.requests  # not one call to the Hub or its CDN while rolling back
    rollback, cleanup = _requests(account, stack, "Update")[1], _requests(account, stack, "Delete")[0]
    assert rollback["ResourceProperties"]["Revision"] == "main" and rollback["PhysicalResourceId"].endswith(
        f"@{PINNED_COMMIT}"
    )
    assert cleanup["PhysicalResourceId"].endswith(f"@{PINNED_COMMIT}")


def test_a_failed_copy_update_rolls_back_without_asking_the_hub_again(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    """The update itself fails (the pinned commit is not on the Hub): the rollback Update that follows is served
    from the bucket; the Hub sees the one failed request of the update and nothing after it."""
    commit_a, files_a = _model(hub)
    stack = _deploy(account, assembly, DEFAULT, "Failed-update")
    hub.requests.clear()
    assert stack.update(assembly.stack(stack_name("pinned"))) == "UPDATE_ROLLBACK_COMPLETE", failures(stack)
    (failed,) = [e for e in stack.events if e.status == "UPDATE_FAILED"]
    assert "revision not found" in failed.reason
    assert stack.resources[_copy_resource(stack)].id.endswith(f"@{commit_a}") and _served(stack) == files_a
    assert dict(hub.requests) == {"api": 1}


# --- Delete ---------------------------------------------------------------------------------------------------------
def test_delete_keeps_the_retained_bucket_and_its_weights_by_default(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    commit, files = _model(hub)
    stack = _deploy(account, assembly, DEFAULT, "Delete-default")
    bucket = _bucket(stack)
    assert stack.delete() == "DELETE_COMPLETE", failures(stack)
    assert {(left.type, left.id) for left in stack.leftovers if left.type == "AWS::S3::Bucket"} == {
        ("AWS::S3::Bucket", bucket)
    }
    assert len(objects(account, bucket, f"models/{REPO}/{commit}/")) == len(files)


def test_delete_objects_on_delete_removes_the_commit_and_its_records(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    commit, _ = _model(hub)
    stack = _deploy(account, assembly, "delete-objects", "Delete-objects")
    bucket = _bucket(stack)
    assert stack.delete() == "DELETE_COMPLETE", failures(stack)
    assert objects(account, bucket, f"models/{REPO}/{commit}/") == {}
    assert objects(account, bucket, f"manifests/{REPO}/{commit}") == {}
    assert bucket_exists(account, bucket)  # the bucket itself is retained


def test_bucket_removal_policy_destroy_empties_and_deletes_the_bucket(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    _model(hub)
    stack = _deploy(account, assembly, "bucket-destroy", "Delete-bucket")
    bucket = _bucket(stack)
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
    _model(hub)
    _deploy(account, assembly, DEFAULT, "First-attempt")


def test_a_copy_that_fails_midway_leaves_no_open_upload(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    _model(hub)
    hub.fail("corrupt", "/blobs/", times=1_000)  # every attempt at a shard arrives corrupted
    stack = account.stack(assembly.stack(stack_name(DEFAULT)), "Corrupt-shards")
    assert stack.create() == "ROLLBACK_COMPLETE"
    (reason,) = [e.reason for e in stack.events if e.status == "CREATE_FAILED"]
    assert ".safetensors: IntegrityError" in reason
    (bucket,) = [left.id for left in stack.leftovers if left.type == "AWS::S3::Bucket"]
    assert open_uploads(account, bucket) == []


# --- faults, secrets ----------------------------------------------------------------------------------------------
def test_the_copy_survives_the_hubs_transient_faults(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    _, files = _model(hub)
    hub.fail("429", "/api/models/", times=1)
    hub.fail("500", "/blobs/", times=2)
    hub.fail("reset", "/blobs/", times=1)
    hub.fail("truncate", "/blobs/", times=1)
    hub.fail("expire", "/blobs/", times=1)
    stack = _deploy(account, assembly, DEFAULT, "Faults")
    assert _served(stack) == files
    assert open_uploads(account, _bucket(stack)) == []
    assert hub.requests["fault-reset"] == 1 and hub.requests["cdn-403"] >= 1


def test_a_rate_limit_longer_than_the_function_has_left_fails_at_once_with_the_hubs_wait(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    """on_event has 5 minutes; the Hub asks for an hour: it says so at once instead of being killed mid-wait."""
    _model(hub)
    hub.rate_limit_reset = 3600
    hub.fail("429", "/api/models/", times=1_000)
    try:
        stack = account.stack(assembly.stack(stack_name(DEFAULT)), "Rate-limited")
        assert stack.create() == "ROLLBACK_COMPLETE"
        (reason,) = [e.reason for e in stack.events if e.status == "CREATE_FAILED"]
        assert "asked to wait 3600s" in reason, reason
        assert hub.requests["429"] == 1  # no wait, no second try: the wait would outlast the function
    finally:
        hub.rate_limit_reset = 1


def test_a_gated_model_copies_with_the_token_from_secrets_manager_and_the_token_is_written_nowhere(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    token = "hf_rehearsalGatedToken0123456789"
    secrets = account.admin("secretsmanager")
    # The JSON form, its value ending in a line break (a file pasted into the console): used without it.
    secrets.create_secret(Name=TOKEN_SECRET, SecretString=json.dumps({"HF_TOKEN": f"{token}\r\n"}))
    try:
        _, files = _model(hub, gated=True, approved={token})
        stack = _deploy(account, assembly, "with-token", "Gated-model")
        assert _served(stack) == files
        assert token not in everything_written(account, stack)
        assert denied(account) == []
    finally:
        secrets.delete_secret(SecretId=TOKEN_SECRET, ForceDeleteWithoutRecovery=True)


def test_a_token_under_a_customer_managed_key_is_read_only_by_a_deployment_that_names_the_key(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    token = "hf_rehearsalKeyedToken0123456789"
    secrets = account.admin("secretsmanager")
    secrets.create_secret(Name=TOKEN_SECRET, SecretString=token, KmsKeyId=TOKEN_KEY)
    try:
        _, files = _model(hub, gated=True, approved={token})
        unnamed = account.stack(assembly.stack(stack_name("with-token")), "Key-not-named")
        assert unnamed.create() == "ROLLBACK_COMPLETE"
        (reason,) = [e.reason for e in unnamed.events if e.status == "CREATE_FAILED"]
        assert "AccessDenied" in reason and "kms:Decrypt" in reason, reason
        stack = _deploy(account, assembly, "with-token-key", "Key-named")
        assert _served(stack) == files
    finally:
        secrets.delete_secret(SecretId=TOKEN_SECRET, ForceDeleteWithoutRecovery=True)


def test_every_function_may_write_its_own_log_group(account: Account) -> None:
    """Lambda writes a function's logs as its role: a role that may not would lose them silently."""
    assert account.log_writes and all(decision.allowed for decision in account.log_writes), [
        (d.principal, d.action, d.resource) for d in account.log_writes if not d.allowed
    ]


def test_a_retried_on_event_and_its_twin_copy_the_same_commit_without_breaking_each_other(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    """Lambda retries an asynchronous invocation; two updates can overlap: two copies of one commit must both end
    well (the second attaches to the first, or both copy side by side and neither aborts the other's uploads)."""
    _model(hub)
    stack = _deploy(account, assembly, DEFAULT, "Twin-copies")
    _, files_b = _model(hub, seed=8, commit=PINNED_COMMIT)
    (create,) = _requests(account, stack, "Create")
    copy = stack.resources[_copy_resource(stack)]
    update = {
        **create,
        "RequestType": "Update",
        "RequestId": str(uuid.uuid4()),
        "PhysicalResourceId": copy.id,
        "OldResourceProperties": create["ResourceProperties"],
        "ResourceProperties": {**create["ResourceProperties"], "Revision": PINNED_COMMIT},
    }
    with ThreadPoolExecutor(2) as pool:  # CloudFormation's request, delivered twice at once to the provider
        invocations = list(pool.map(lambda _: account.lambdas.invoke(update["ServiceToken"], update), range(2)))
    assert [i.error for i in invocations] == [None, None]
    # One execution if the second request attached to the first; more if they ran side by side (the AWS SDK in the
    # provider framework may also retry an invocation on a dropped connection).
    copies = [e for e in account.step_functions.executions.values() if e.name.startswith(f"{PINNED_COMMIT}-")]
    assert copies
    for execution in copies:
        assert execution.done.wait(120) and execution.status == "SUCCEEDED", (execution.error, execution.cause)
    bucket = _bucket(stack)
    prefix = f"models/{REPO}/{PINNED_COMMIT}/"
    assert {key.removeprefix(prefix): body for key, body in objects(account, bucket, prefix).items()} == files_b
    assert open_uploads(account, bucket) == []


# --- copies that do not finish ------------------------------------------------------------------------------------
def _crawling_account(tmp_path: Path) -> tuple[Account, HubEmulator]:
    """An account on a clock 1000 times faster (the provider's 55 minutes take seconds), and a CDN that crawls."""
    account = Account(tmp_path / "account", wait_scale=0.001)
    hub = HubEmulator(ssl_context=account.network.server_context(), cdn_url="https://cdn-lfs.hf.co")
    account.connect_hub(hub.addresses)
    _model(hub)
    hub.cdn_bytes_per_second = 2_000
    return account, hub


def test_a_copy_that_never_finishes_fails_the_deployment_before_the_providers_total_timeout(
    tmp_path: Path, assembly: CloudAssembly
) -> None:
    """The copy's state machine gives up first, and is_complete says what to do; the rollback leaves nothing
    running and no upload open."""
    account, hub = _crawling_account(tmp_path)
    try:
        stack = account.stack(assembly.stack(stack_name(DEFAULT)), "Never-finishes")
        assert stack.create() == "ROLLBACK_COMPLETE"
        (reason,) = [e.reason for e in stack.events if e.status == "CREATE_FAILED"]
        assert "failed (TIMED_OUT)" in reason and "python -m weights_copy" in reason, reason
        assert all(e.status != "RUNNING" for e in account.step_functions.executions.values())
        (bucket,) = [left.id for left in stack.leftovers if left.type == "AWS::S3::Bucket"]
        assert open_uploads(account, bucket) == []
    finally:
        hub.close()
        account.close()


def test_when_the_providers_waiter_gives_up_the_rollback_stops_the_copy(
    tmp_path: Path, assembly: CloudAssembly
) -> None:
    """Were the copy still running when the provider's waiter has polled is_complete for its total timeout (here:
    a copy state machine allowed to run longer than the provider waits), the framework answers 'Operation timed
    out', and the Delete of the rollback stops the copy."""
    account, hub = _crawling_account(tmp_path)
    artifact = assembly.stack(stack_name(DEFAULT))

    def copy_may_run_for_a_day(template: dict[str, Any]) -> None:
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::StepFunctions::StateMachine":
                parts = resource["Properties"]["DefinitionString"]["Fn::Join"][1]
                parts[-1] = parts[-1].replace('"TimeoutSeconds":3180', '"TimeoutSeconds":86400')

    try:
        stack = account.stack(with_template(artifact, copy_may_run_for_a_day), "Waiter-gives-up")
        assert stack.create() == "ROLLBACK_COMPLETE"
        (reason,) = [e.reason for e in stack.events if e.status == "CREATE_FAILED"]
        assert reason == "Operation timed out"
        waiter = [e for e in account.step_functions.executions.values() if "waiter" in e.machine.name]
        assert sum(1 for h in waiter[0].history if h["type"] == "Retry") == 110  # polled to the provider's end
        copies = [e for e in account.step_functions.executions.values() if e.machine.logical_id.startswith(
            "WeightsCopyStateMachine")]  # fmt: skip
        assert copies and all(e.status in ("ABORTED", "SUCCEEDED") for e in copies if "/" not in e.machine.name)
    finally:
        hub.close()
        account.close()


def test_delete_stops_the_running_copy_and_aborts_uploads_under_its_prefix(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    _model(hub)
    stack = _deploy(account, assembly, DEFAULT, "Delete-while-copying")
    _model(hub, seed=8, commit=PINNED_COMMIT)
    hub.cdn_bytes_per_second = 2_000  # the new commit's copy crawls
    try:
        (create,) = _requests(account, stack, "Create")
        copy = stack.resources[_copy_resource(stack)]
        update = {
            **create,
            "RequestType": "Update",
            "RequestId": str(uuid.uuid4()),
            "PhysicalResourceId": copy.id,
            "OldResourceProperties": create["ResourceProperties"],
            "ResourceProperties": {**create["ResourceProperties"], "Revision": PINNED_COMMIT},
        }
        on_event = stack.resources[function_of(stack.artifact, ".on_event")].id
        started = account.lambdas.invoke(on_event, update)
        assert started.error is None and "ExecutionArn" in started.result["Data"]
        execution = account.step_functions.executions[started.result["Data"]["ExecutionArn"]]
        bucket, prefix = _bucket(stack), f"models/{REPO}/{PINNED_COMMIT}/"
        account.admin("s3").create_multipart_upload(Bucket=bucket, Key=f"{prefix}left-by-a-killed-copy")
        delete = {**update, "RequestType": "Delete", "PhysicalResourceId": started.result["PhysicalResourceId"]}
        del delete["OldResourceProperties"]
        assert execution.status == "RUNNING"
        assert account.lambdas.invoke(on_event, delete).error is None
        assert execution.status == "ABORTED"
        assert open_uploads(account, bucket) == []
    finally:
        hub.cdn_bytes_per_second = None
