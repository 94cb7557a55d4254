"""What a rehearsal left behind, seen as the account owner: objects, open uploads, every text a secret could leak
into (function logs, custom-resource requests and responses, state machine histories, stack events)."""

from __future__ import annotations

import copy
import json
from typing import Any

from rehearsal.account import Account
from rehearsal.assembly import StackArtifact
from rehearsal.cloudformation import Stack


def objects(account: Account, bucket: str, prefix: str = "") -> dict[str, bytes]:
    s3 = account.admin("s3")
    found: dict[str, bytes] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            found[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


def open_uploads(account: Account, bucket: str) -> list[str]:
    uploads = account.admin("s3").list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return [upload["Key"] for upload in uploads]


def bucket_exists(account: Account, bucket: str) -> bool:
    names = [b["Name"] for b in account.admin("s3").list_buckets()["Buckets"]]
    return bucket in names


def failures(stack: Stack) -> list[str]:
    """The stack events that say why an operation failed."""
    return [f"{e.logical_id} {e.status}: {e.reason}" for e in stack.events if "FAILED" in e.status]


def denied(account: Account) -> list[str]:
    return [
        f"{call.principal} {call.service}:{call.operation} {[c.action + ' ' + c.resource for c in call.checks]}"
        for call in account.gateway.calls
        if not call.allowed
    ]


def everything_written(account: Account, stack: Stack) -> str:
    """Every text the deployment produced that a person or a log could read."""
    texts = [json.dumps(stack.artifact.template)]
    texts += account.lambdas.logs()
    texts += [json.dumps(event) for event in account.requests]
    texts += [json.dumps(response) for response in account.responses.seen]
    texts += [f"{event.logical_id} {event.status} {event.reason}" for event in stack.events]
    for invocation in account.lambdas.invocations:
        texts.append(json.dumps([invocation.event, invocation.result, invocation.error], default=str))
    for execution in account.step_functions.executions.values():
        texts.append(json.dumps([execution.describe(), execution.history], default=str))
    return "\n".join(texts)


def function_of(artifact: StackArtifact, handler_suffix: str) -> str:
    """The logical id of the function whose handler ends with ``handler_suffix``."""
    (logical_id,) = [
        lid
        for lid, resource in artifact.template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Handler", "").endswith(handler_suffix)
    ]
    return logical_id


def with_template(artifact: StackArtifact, change: Any) -> StackArtifact:
    """The same assembly with a changed template: a defect put back, to show the rehearsal catches it."""
    template = copy.deepcopy(artifact.template)
    change(template)
    return StackArtifact(artifact.name, template, artifact.assets)
