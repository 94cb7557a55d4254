"""What the rehearsal's tests share: a model at the Hub, a deployed stack, and what to read off it."""

from __future__ import annotations

import uuid
from typing import Any

from emulated_models import MIB, REPO, model_files
from hub_emulator import HubEmulator

from rehearsal.account import Account
from rehearsal.assembly import CloudAssembly
from rehearsal.cloudformation import Stack
from rehearsal.conftest import stack_name
from rehearsal.evidence import failures

# What a repo holds beside what the container loads: a model card, and the original checkpoint (a pickle).
NOT_SERVED = {"README.md", "original/consolidated.00.pth", "original/params.json"}


def model(
    hub: HubEmulator, seed: int = 7, commit: str | None = None, repo: str = REPO, **kwargs: Any
) -> tuple[str, dict[str, bytes]]:
    """A commit of the repo at the Hub (``main`` moves to it); returns the commit and the files a deployment serves
    (all but ``NOT_SERVED``)."""
    files = model_files(shard_bytes=6 * MIB, seed=seed)
    files["original/consolidated.00.pth"] = b"\x80\x04pickled" * 1000
    files["original/params.json"] = b'{"dim": 4096}'
    commit = hub.add_repo(repo, files, commit=commit, **kwargs)
    return commit, {path: data for path, data in files.items() if path not in NOT_SERVED}


def deploy(account: Account, assembly: CloudAssembly, variant: str, name: str) -> Stack:
    stack = account.stack(assembly.stack(stack_name(variant)), name)
    assert stack.create() == "CREATE_COMPLETE", "\n".join(failures(stack))
    return stack


def served(stack: Stack) -> dict[str, bytes]:
    """What SageMaker downloaded for the (one) model of the stack."""
    (downloaded,) = stack.model_data.values()
    return downloaded


def requests_of(account: Account, stack: Stack, kind: str) -> list[dict[str, Any]]:
    """The custom-resource requests of ``kind`` CloudFormation sent to the stack's weights copy."""
    return [
        r
        for r in account.requests
        if r["StackId"] == stack.id and r["ResourceType"] == "Custom::HubWeightsCopy" and r["RequestType"] == kind
    ]


def copy_resource(stack: Stack) -> str:
    (logical_id,) = [lid for lid, r in stack.template["Resources"].items() if r["Type"] == "Custom::HubWeightsCopy"]
    return logical_id


def bucket_of(stack: Stack) -> str:
    (bucket,) = [p.id for p in stack.resources.values() if p.type == "AWS::S3::Bucket"]
    return bucket


def update_request(account: Account, stack: Stack, revision: str) -> dict[str, Any]:
    """The Update CloudFormation would send the stack's weights copy for another revision: its own Create request
    (as the rehearsal recorded it), turned into an Update the way CloudFormation builds one."""
    (create,) = requests_of(account, stack, "Create")
    return {
        **create,
        "RequestType": "Update",
        "RequestId": str(uuid.uuid4()),
        "PhysicalResourceId": stack.resources[copy_resource(stack)].id,
        "OldResourceProperties": create["ResourceProperties"],
        "ResourceProperties": {**create["ResourceProperties"], "Revision": revision},
    }
