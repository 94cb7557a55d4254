"""The Lambda handlers end to end, the way CloudFormation and the state machine drive them: on_event (Create)
-> copy_file for every Map item -> is_complete; Delete; failures surfacing with their cause."""

from __future__ import annotations

import json
from typing import Any

import pytest
from emulated_models import MIB, REPO, model_files
from hub_emulator import HubEmulator
from loopback import TOKEN, FinishedExecution, LoopbackClients, WithExecution, create, run_copy, update
from weights_copy import handlers
from weights_copy.errors import CopyError, GatedRepoError


def test_create_copies_every_file_through_the_map_items(hub: HubEmulator, s3: Any, clients: LoopbackClients) -> None:
    files = model_files(shard_bytes=11 * MIB)
    commit = hub.add_repo(REPO, files, gated=True, approved={TOKEN})
    created = create(clients)
    prefix = f"models/{REPO}/{commit}/"
    assert created["PhysicalResourceId"] == f"{s3.bucket}/{prefix}@{commit}"
    assert created["Data"]["S3Uri"] == f"s3://{s3.bucket}/{prefix}"
    execution = clients.client("stepfunctions").describe_execution(executionArn=created["Data"]["ExecutionArn"])
    started_with = json.loads(execution["input"])
    items = json.loads(s3.get_object(Bucket=s3.bucket, Key=started_with["items_key"])["Body"].read())
    assert TOKEN not in json.dumps(items) + execution["input"] + json.dumps(created)
    results = [handlers.copy_file(item, clients=clients) for item in items]  # what the Map state does
    assert {r["status"] for r in results} == {"copied"}
    for path, data in files.items():
        assert s3.get_object(Bucket=s3.bucket, Key=prefix + path)["Body"].read() == data
    done = handlers.is_complete(
        {**created, "RequestType": "Create"}, clients=WithExecution(clients, FinishedExecution("SUCCEEDED"))
    )
    assert done == {"IsComplete": True, "Data": {"S3Uri": f"s3://{s3.bucket}/{prefix}", "Commit": commit}}


def test_the_functions_use_the_copy_s3_client(clients: LoopbackClients) -> None:
    """Handlers and copier share ``Clients.s3``: the client tested in test_copier (unsigned payloads, CRC32)."""
    assert clients.s3().meta.config.s3 == {"payload_signing_enabled": False}
    assert clients.copier().s3.meta.config.s3 == {"payload_signing_enabled": False}


def test_is_complete_waits_while_running_and_fails_with_the_cause(clients: LoopbackClients) -> None:
    event = {"RequestType": "Create", "Data": {"ExecutionArn": "arn:x", "S3Uri": "s3://b/p/", "Commit": "c"}}
    assert handlers.is_complete(event, clients=WithExecution(clients, FinishedExecution("RUNNING"))) == {
        "IsComplete": False
    }
    failed = WithExecution(clients, FinishedExecution("FAILED", "GatedRepoError: gated: request access on the Hub"))
    with pytest.raises(CopyError, match="failed \\(FAILED\\): GatedRepoError: gated"):
        handlers.is_complete(event, clients=failed)


def test_create_of_a_gated_repo_without_an_approved_token_fails_at_once(
    hub: HubEmulator, clients: LoopbackClients
) -> None:
    hub.add_repo(REPO, model_files(shard_bytes=64 * 1024), gated=True, approved={"someone-else"})
    with pytest.raises(GatedRepoError, match="not approved"):
        create(clients)


def test_delete_aborts_unfinished_uploads_and_keeps_objects_unless_asked(
    hub: HubEmulator, s3: Any, clients: LoopbackClients
) -> None:
    commit = hub.add_repo(REPO, model_files(shard_bytes=64 * 1024))
    created = create(clients)
    prefix = f"models/{REPO}/{commit}/"
    s3.put_object(Bucket=s3.bucket, Key=prefix + "config.json", Body=b"{}")
    s3.create_multipart_upload(Bucket=s3.bucket, Key=prefix + "model-00001-of-00002.safetensors")
    delete = {"RequestType": "Delete", "PhysicalResourceId": created["PhysicalResourceId"]}
    handlers.on_event(delete, clients=clients)
    assert s3.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", []) == []
    assert s3.list_objects_v2(Bucket=s3.bucket, Prefix=prefix)["KeyCount"] == 1
    clients.environ["DELETE_OBJECTS_ON_DELETE"] = "true"
    handlers.on_event(delete, clients=clients)
    assert s3.list_objects_v2(Bucket=s3.bucket, Prefix=prefix)["KeyCount"] == 0
    assert handlers.is_complete(delete, clients=clients) == {"IsComplete": True}


def test_delete_of_a_create_that_never_got_a_prefix_is_a_no_op(clients: LoopbackClients) -> None:
    event = {"RequestType": "Delete", "PhysicalResourceId": "cfn-generated-id"}
    assert handlers.on_event(event, clients=clients) == {"PhysicalResourceId": "cfn-generated-id"}


@pytest.mark.parametrize("stored", [f'{{"HF_TOKEN": "{TOKEN}\\n"}}', f"{TOKEN}\r\n"])
def test_a_token_secret_ending_in_a_line_break_still_works(
    hub: HubEmulator, clients: LoopbackClients, stored: str
) -> None:
    hub.add_repo(REPO, model_files(shard_bytes=64 * 1024), gated=True, approved={TOKEN})
    clients.client("secretsmanager").put_secret_value(
        SecretId=clients.environ["HF_TOKEN_SECRET_ID"], SecretString=stored
    )
    assert create(clients)["Data"]["Commit"]


def test_a_token_secret_with_a_line_break_inside_fails_without_echoing_it(
    hub: HubEmulator, clients: LoopbackClients
) -> None:
    hub.add_repo(REPO, model_files(shard_bytes=64 * 1024), gated=True, approved={TOKEN})
    broken = f'{{"HF_TOKEN": "{TOKEN[:5]}\\r\\n{TOKEN[5:]}"}}'
    clients.client("secretsmanager").put_secret_value(
        SecretId=clients.environ["HF_TOKEN_SECRET_ID"], SecretString=broken
    )
    with pytest.raises(CopyError, match="control, space or non-ASCII character at position 6") as raised:
        create(clients)
    assert TOKEN[5:] not in str(raised.value)


# --- no revision: the repo's default branch ------------------------------------------------------------------------
def test_create_without_a_revision_copies_the_commit_of_the_repos_default_branch(
    hub: HubEmulator, clients: LoopbackClients
) -> None:
    """HubWeightsCopy leaves the Revision property out when none is given: the copy takes the default branch, which
    need not be main (the Hub's model API without a revision answers for it)."""
    on_main = hub.add_repo(REPO, model_files(shard_bytes=64 * 1024, seed=1))
    on_release = hub.add_repo(REPO, model_files(shard_bytes=64 * 1024, seed=2), default_branch="release")
    assert on_main != on_release and hub.repos[REPO].refs == {"main": on_main, "release": on_release}
    created = create(clients, revision=None)
    assert created["Data"]["Commit"] == on_release and created["PhysicalResourceId"].endswith(f"@{on_release}")


def test_a_rollback_to_no_revision_gets_the_commit_the_default_branch_had_without_the_hub(
    hub: HubEmulator, s3: Any, clients: LoopbackClients
) -> None:
    """Deployed without a revision, updated to a pinned commit that the default branch then moves to; the update
    fails elsewhere and CloudFormation rolls back with the old properties while the Hub is down: the copy answers
    with the commit the default branch had at the first deployment, from the resource's history alone."""
    first = hub.add_repo(REPO, model_files(shard_bytes=64 * 1024, seed=1), default_branch="release")
    created = create(clients, revision=None)
    run_copy(s3, clients, created)
    pinned = hub.add_repo(REPO, model_files(shard_bytes=64 * 1024, seed=2), commit="b" * 40)  # release moves too
    unpinned, pinning = {"RepoId": REPO}, {"RepoId": REPO, "Revision": pinned}
    updated = update(clients, created["PhysicalResourceId"], unpinned, pinning)
    run_copy(s3, clients, updated)
    for kind in ("api-500", "500"):
        hub.fail(kind, "/", times=1_000_000)
    hub.requests.clear()
    rolled_back = update(clients, updated["PhysicalResourceId"], pinning, unpinned)
    assert rolled_back["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert rolled_back["Data"]["Commit"] == first and "ExecutionArn" not in rolled_back["Data"]
    assert sum(hub.requests.values()) == 0, hub.requests


def test_a_resource_deployed_with_main_updates_to_no_revision_in_place_when_main_is_the_default_branch(
    hub: HubEmulator, s3: Any, clients: LoopbackClients
) -> None:
    """Stacks deployed before the Revision property could be left out have ``main`` in it: the update that drops
    it resolves the default branch to the same commit, keeps the physical id (no replacement) and copies nothing."""
    hub.add_repo(REPO, model_files(shard_bytes=64 * 1024))
    created = create(clients, revision="main")
    run_copy(s3, clients, created)
    updated = update(clients, created["PhysicalResourceId"], {"RepoId": REPO, "Revision": "main"}, {"RepoId": REPO})
    assert updated["PhysicalResourceId"] == created["PhysicalResourceId"] and "ExecutionArn" not in updated["Data"]
