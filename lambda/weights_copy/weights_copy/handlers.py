"""Lambda handlers: thin wrappers over the engine, clients made per call so tests can point them at loopback.

- ``copy_file``: one Map item of the state machine (one file).
- ``on_event`` / ``is_complete``: the custom resource provider. Create/Update resolves the revision, writes the
  manifest and its Map items to S3 and starts the state machine; is_complete reports its end. Delete aborts
  unfinished uploads under the prefix and keeps the objects unless DELETE_OBJECTS_ON_DELETE=true.

Environment: BUCKET, STATE_MACHINE_ARN, HF_ENDPOINT, HF_TOKEN_SECRET_ID (optional), PART_SIZE_MB,
MAX_IN_FLIGHT, DELETE_OBJECTS_ON_DELETE. The token is read at run time and appears in no event, output or log.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config

from weights_copy.copier import MIB, CopySettings, FileCopier, abort_unfinished_uploads
from weights_copy.errors import CopyError
from weights_copy.hub import DEFAULT_ENDPOINT, HubApi
from weights_copy.manifest import build_manifest, dumps, hub_file, items_key, manifest_key, model_prefix
from weights_copy.s3_config import copy_s3_config
from weights_copy.token import read_hub_token

log = logging.getLogger()
log.setLevel(logging.INFO)


class Clients:
    """AWS clients and settings from the environment; tests pass their own."""

    def __init__(self, environ: Mapping[str, str] | None = None, session: Any = None) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        self.session = session or boto3.session.Session()

    def client(self, name: str, config: Config | None = None) -> Any:
        return self.session.client(name, config=config)

    def settings(self) -> CopySettings:
        return CopySettings(
            part_size=int(self.environ.get("PART_SIZE_MB", "64")) * MIB,
            max_in_flight=int(self.environ.get("MAX_IN_FLIGHT", "8")),
        )

    def s3(self) -> Any:
        return self.client("s3", copy_s3_config(self.settings().max_in_flight))

    def hub(self) -> HubApi:
        token = read_hub_token(self.client("secretsmanager"), self.environ.get("HF_TOKEN_SECRET_ID"))
        return HubApi(self.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT), token)

    def copier(self) -> FileCopier:
        return FileCopier(self.hub(), self.s3(), self.settings())


def copy_file(event: dict[str, Any], context: Any = None, clients: Clients | None = None) -> dict[str, Any]:
    result = (
        (clients or Clients())
        .copier()
        .copy(
            repo_id=event["repo_id"],
            commit=event["commit"],
            file=hub_file(event),
            bucket=event["bucket"],
            key=event["key"],
        )
    )
    return {"path": result.path, "status": result.status, "bytes": result.bytes_copied}


def on_event(event: dict[str, Any], context: Any = None, clients: Clients | None = None) -> dict[str, Any]:
    clients = clients or Clients()
    request = event["RequestType"]
    if request == "Delete":
        return _delete(event, clients)
    properties = event["ResourceProperties"]
    repo_id, revision = properties["RepoId"], properties.get("Revision") or "main"
    bucket = clients.environ["BUCKET"]
    snapshot = clients.hub().snapshot(repo_id, revision)
    prefix = model_prefix(repo_id, snapshot.commit)
    manifest = build_manifest(snapshot, bucket, prefix)
    s3 = clients.s3()
    s3.put_object(Bucket=bucket, Key=manifest_key(repo_id, snapshot.commit), Body=dumps(manifest))
    items = items_key(repo_id, snapshot.commit)
    s3.put_object(Bucket=bucket, Key=items, Body=json.dumps(manifest["files"]).encode())
    execution = clients.client("stepfunctions").start_execution(
        stateMachineArn=clients.environ["STATE_MACHINE_ARN"],
        input=json.dumps({"bucket": bucket, "items_key": items, "prefix": prefix}),
    )
    log.info("%s %s@%s -> s3://%s/%s: %s", request, repo_id, snapshot.commit, bucket, prefix, execution["executionArn"])
    return {
        "PhysicalResourceId": f"{bucket}/{prefix}@{snapshot.commit}",
        "Data": {
            "S3Uri": f"s3://{bucket}/{prefix}",
            "Commit": snapshot.commit,
            "ExecutionArn": execution["executionArn"],
        },
    }


def is_complete(event: dict[str, Any], context: Any = None, clients: Clients | None = None) -> dict[str, Any]:
    if event["RequestType"] == "Delete":
        return {"IsComplete": True}
    clients = clients or Clients()
    data = event["Data"]
    sfn = clients.client("stepfunctions")
    execution = sfn.describe_execution(executionArn=data["ExecutionArn"])
    status = execution["status"]
    if status in ("RUNNING", "PENDING_REDRIVE"):
        return {"IsComplete": False}
    if status == "SUCCEEDED":
        return {"IsComplete": True, "Data": {"S3Uri": data["S3Uri"], "Commit": data["Commit"]}}
    raise CopyError(f"copying {data['S3Uri']} failed ({status}): {_why(sfn, execution)[:800]}")


def _why(sfn: Any, execution: dict[str, Any]) -> str:
    """The failure of an execution in words: for a failed Map run, which files failed and why (the execution's own
    error only says that the run's tolerated failure threshold was exceeded)."""
    error, cause = execution.get("error") or "", execution.get("cause") or ""
    if error != "States.ExceedToleratedFailureThreshold":
        return ": ".join(part for part in (error, cause) if part) or execution["status"]
    failures = []
    for run in sfn.list_map_runs(executionArn=execution["executionArn"])["mapRuns"]:
        children = sfn.list_executions(mapRunArn=run["mapRunArn"], statusFilter="FAILED", maxResults=3)
        for child in children["executions"]:
            failed = sfn.describe_execution(executionArn=child["executionArn"])
            path = json.loads(failed.get("input") or "{}").get("path", "a file")
            failures.append(f"{path}: {_lambda_error(failed.get('error'), failed.get('cause'))}")
    return "; ".join(failures) or f"{error}: {cause}"


def _lambda_error(error: str | None, cause: str | None) -> str:
    """A Lambda task's failure (Step Functions puts the function's error document in the cause)."""
    try:
        document = json.loads(cause or "")
        return f"{document.get('errorType') or error}: {document.get('errorMessage', '')}"
    except (ValueError, AttributeError):
        return f"{error}: {cause or ''}"


def _delete(event: dict[str, Any], clients: Clients) -> dict[str, Any]:
    physical_id = event["PhysicalResourceId"]
    if "@" not in physical_id or "/" not in physical_id:  # a Create that failed before it had a prefix
        return {"PhysicalResourceId": physical_id}
    bucket, prefix = physical_id.split("@", 1)[0].split("/", 1)
    s3 = clients.s3()
    aborted = abort_unfinished_uploads(s3, bucket, prefix)
    deleted = 0
    if clients.environ.get("DELETE_OBJECTS_ON_DELETE", "false").lower() == "true":
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                deleted += len(keys)
    log.info("delete s3://%s/%s: %d unfinished uploads aborted, %d objects deleted", bucket, prefix, aborted, deleted)
    return {"PhysicalResourceId": physical_id}
