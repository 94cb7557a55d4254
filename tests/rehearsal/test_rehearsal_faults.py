"""The deploy rehearsal under faults: a Hub that fails, throttles or crawls, gated models and their tokens, copies of
one commit at once, copies that never finish (see test_deploy_rehearsal.py for the harness)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from emulated_models import REPO
from hub_emulator import HubEmulator

from rehearsal.account import Account
from rehearsal.assembly import CloudAssembly
from rehearsal.conftest import DEFAULT, PINNED_COMMIT, TOKEN_KEY, TOKEN_SECRET, stack_name
from rehearsal.evidence import (
    denied,
    everything_written,
    function_of,
    objects,
    open_uploads,
    with_template,
)
from rehearsal.scenarios import (
    bucket_of,
    deploy,
    model,
    served,
    update_request,
)


# --- faults, secrets ----------------------------------------------------------------------------------------------
def test_the_copy_survives_the_hubs_transient_faults(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    _, files = model(hub)
    hub.fail("429", "/api/models/", times=1)
    hub.fail("500", "/blobs/", times=2)
    hub.fail("reset", "/blobs/", times=1)
    hub.fail("truncate", "/blobs/", times=1)
    hub.fail("expire", "/blobs/", times=1)
    stack = deploy(account, assembly, DEFAULT, "Faults")
    assert served(stack) == files
    assert open_uploads(account, bucket_of(stack)) == []
    assert hub.requests["fault-reset"] == 1 and hub.requests["cdn-403"] >= 1


def test_a_rate_limit_longer_than_the_function_has_left_fails_at_once_with_the_hubs_wait(
    account: Account, assembly: CloudAssembly, hub: HubEmulator
) -> None:
    """on_event has 5 minutes; the Hub asks for an hour: it says so at once instead of being killed mid-wait."""
    model(hub)
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
        _, files = model(hub, gated=True, approved={token})
        stack = deploy(account, assembly, "with-token", "Gated-model")
        assert served(stack) == files
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
        _, files = model(hub, gated=True, approved={token})
        unnamed = account.stack(assembly.stack(stack_name("with-token")), "Key-not-named")
        assert unnamed.create() == "ROLLBACK_COMPLETE"
        (reason,) = [e.reason for e in unnamed.events if e.status == "CREATE_FAILED"]
        assert "AccessDenied" in reason and "kms:Decrypt" in reason, reason
        stack = deploy(account, assembly, "with-token-key", "Key-named")
        assert served(stack) == files
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
    model(hub)
    stack = deploy(account, assembly, DEFAULT, "Twin-copies")
    _, files_b = model(hub, seed=8, commit=PINNED_COMMIT)
    update = update_request(account, stack, PINNED_COMMIT)
    with ThreadPoolExecutor(2) as pool:  # CloudFormation's request, delivered twice at once to the provider
        invocations = list(pool.map(lambda _: account.lambdas.invoke(update["ServiceToken"], update), range(2)))
    assert [i.error for i in invocations] == [None, None]
    # One execution if the second request attached to the first; more if they ran side by side (the AWS SDK in the
    # provider framework may also retry an invocation on a dropped connection).
    copies = [e for e in account.step_functions.executions.values() if e.name.startswith(f"{PINNED_COMMIT}-")]
    assert copies
    for execution in copies:
        assert execution.done.wait(120) and execution.status == "SUCCEEDED", (execution.error, execution.cause)
    bucket = bucket_of(stack)
    prefix = f"models/{REPO}/{PINNED_COMMIT}/"
    assert {key.removeprefix(prefix): body for key, body in objects(account, bucket, prefix).items()} == files_b
    assert open_uploads(account, bucket) == []


# --- copies that do not finish ------------------------------------------------------------------------------------
def _crawling_account(tmp_path: Path) -> tuple[Account, HubEmulator]:
    """An account on a clock 1000 times faster (the provider's 55 minutes take seconds), and a CDN that crawls."""
    account = Account(tmp_path / "account", wait_scale=0.001)
    hub = HubEmulator(ssl_context=account.network.server_context(), cdn_url="https://cdn-lfs.hf.co")
    account.connect_hub(hub.addresses)
    model(hub)
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
    model(hub)
    stack = deploy(account, assembly, DEFAULT, "Delete-while-copying")
    model(hub, seed=8, commit=PINNED_COMMIT)
    hub.cdn_bytes_per_second = 2_000  # the new commit's copy crawls
    try:
        update = update_request(account, stack, PINNED_COMMIT)
        on_event = stack.resources[function_of(stack.artifact, ".on_event")].id
        started = account.lambdas.invoke(on_event, update)
        assert started.error is None and "ExecutionArn" in started.result["Data"]
        execution = account.step_functions.executions[started.result["Data"]["ExecutionArn"]]
        bucket, prefix = bucket_of(stack), f"models/{REPO}/{PINNED_COMMIT}/"
        account.admin("s3").create_multipart_upload(Bucket=bucket, Key=f"{prefix}left-by-a-killed-copy")
        delete = {**update, "RequestType": "Delete", "PhysicalResourceId": started.result["PhysicalResourceId"]}
        del delete["OldResourceProperties"]
        assert execution.status == "RUNNING"
        assert account.lambdas.invoke(on_event, delete).error is None
        assert execution.status == "ABORTED"
        assert open_uploads(account, bucket) == []
    finally:
        hub.cdn_bytes_per_second = None
