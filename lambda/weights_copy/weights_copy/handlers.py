"""Lambda handlers: thin wrappers over the engine, clients made per call so tests can point them at loopback.

- ``copy_file``: one Map item of the state machine (one file).
- ``on_event`` / ``is_complete``: the custom resource provider.

Create/Update resolves the revision (none given: the repo's default branch) to a commit, writes the manifest and its
Map items to S3 and starts the state machine, or attaches to an execution already copying that commit. A commit
whose copy is in place and verified (every file's receipt matches S3's checksum of its object) needs no Hub call and
no execution: a pinned commit deployed again, and the Update CloudFormation sends to roll back to the previous
revision, which resolves to the commit that revision had then (the resource's history in the bucket), so a rollback
works while the Hub is down and an unpinned branch (the default one included) cannot move under it. The physical id
carries the commit.

Delete stops this commit's running copy, aborts unfinished uploads under its prefix, and keeps the objects unless
DELETE_OBJECTS_ON_DELETE=true.

Each handler reads the variables ``weights_copy.environment`` lists for it, and no other. The token is read at run
time and appears in no event, output or log.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from weights_copy.copier import MIB, CopySettings, FileCopier, abort_unfinished_uploads, already_copied
from weights_copy.environment import (
    BUCKET,
    DELETE_OBJECTS_ON_DELETE,
    HF_ENDPOINT,
    HF_TOKEN_SECRET_ID,
    MAX_IN_FLIGHT,
    PART_SIZE_MB,
    STATE_MACHINE_ARN,
)
from weights_copy.errors import CopyError
from weights_copy.hub import HubApi
from weights_copy.manifest import (
    build_manifest,
    dumps,
    history_key,
    hub_file,
    items_key,
    manifest_key,
    model_prefix,
)
from weights_copy.s3_config import copy_s3_config
from weights_copy.token import read_hub_token

log = logging.getLogger()
log.setLevel(logging.INFO)
COMMIT = re.compile(r"^[0-9a-f]{40}$")


DEADLINE_MARGIN_SECONDS = 20
"""Time a handler keeps for itself after its last Hub wait: to report the failure instead of being killed."""


class Clients:
    """AWS clients and settings from the environment; tests pass their own. With a Lambda ``context``, every wait
    for the Hub (a rate limit's Retry-After, backoff) ends before the function's own timeout, so a handler fails
    with the server's reason instead of being killed mid-wait."""

    def __init__(self, environ: Mapping[str, str] | None = None, session: Any = None, context: Any = None) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        self.session = session or _process_session()
        self.context = context

    def client(self, name: str, config: Config | None = None) -> Any:
        if self.session is _process_session():
            return _process_client(name, config)
        return self.session.client(name, config=config)

    def settings(self) -> CopySettings:
        return CopySettings(
            part_size=int(self.environ[PART_SIZE_MB]) * MIB,
            max_in_flight=int(self.environ[MAX_IN_FLIGHT]),
        )

    def s3(self) -> Any:
        return self.client("s3", copy_s3_config(self.settings().max_in_flight))

    def hub(self) -> HubApi:
        token = read_hub_token(self.client("secretsmanager"), self.environ.get(HF_TOKEN_SECRET_ID))
        return HubApi(self.environ[HF_ENDPOINT], token, deadline=self._seconds_left())

    def _seconds_left(self) -> Callable[[], float] | None:
        context = self.context
        if context is None or not hasattr(context, "get_remaining_time_in_millis"):
            return None
        return lambda: context.get_remaining_time_in_millis() / 1000 - DEADLINE_MARGIN_SECONDS

    def copier(self) -> FileCopier:
        return FileCopier(self.hub(), self.s3(), self.settings())


@functools.cache
def _process_session() -> Any:
    """One boto3 session for the life of the execution environment (made at the first invocation, not at import):
    each invocation then makes its clients from loaded service models instead of loading them again."""
    return boto3.session.Session()


@functools.cache
def _process_client(name: str, config: Config | None) -> Any:
    """Clients kept for the life of the execution environment too (AWS's advice for Lambda): an invocation that
    polls (is_complete, every 30 seconds for up to 55 minutes) reuses the client and its open connection."""
    return _process_session().client(name, config=config)


def copy_file(event: dict[str, Any], context: Any = None, clients: Clients | None = None) -> dict[str, Any]:
    result = (clients or Clients(context=context)).copier().copy_entry(event)
    return {"path": result.path, "status": result.status, "bytes": result.bytes_copied}


@dataclass(frozen=True)
class CopyRequest:
    """What the custom resource asks for (its properties, as CloudFormation hands them: strings and lists)."""

    repo_id: str
    revision: str | None
    """None: the repo's default branch (the Revision property left out)."""
    allow_patterns: tuple[str, ...] | None
    ignore_patterns: tuple[str, ...]

    @classmethod
    def of(cls, properties: Mapping[str, Any]) -> CopyRequest:
        allow = properties.get("AllowPatterns")
        return cls(
            repo_id=properties["RepoId"],
            revision=properties.get("Revision") or None,
            allow_patterns=tuple(allow) if allow is not None else None,
            ignore_patterns=tuple(properties.get("IgnorePatterns") or ()),
        )

    def same_selection(self, manifest: Mapping[str, Any]) -> bool:
        allow = manifest.get("allow_patterns")
        return (tuple(allow) if allow is not None else None) == self.allow_patterns and tuple(
            manifest.get("ignore_patterns") or ()
        ) == self.ignore_patterns


def on_event(event: dict[str, Any], context: Any = None, clients: Clients | None = None) -> dict[str, Any]:
    clients = clients or Clients(context=context)
    if event["RequestType"] == "Delete":
        return _delete(event, clients)
    request = CopyRequest.of(event["ResourceProperties"])
    bucket = clients.environ[BUCKET]
    s3 = clients.s3()
    history = History(s3, bucket, history_key(event["StackId"], event["LogicalResourceId"]))
    known = history.commit_for(request, event.get("PhysicalResourceId"))
    if known is None and request.revision and COMMIT.match(request.revision):
        known = request.revision  # a pinned commit needs no Hub to be resolved
    manifest = _verified_copy(s3, bucket, request, known) if known else None
    execution_arn = None
    if manifest is not None:
        log.info("%s %s@%s: copied and verified already; no Hub call, no copy", event["RequestType"],
                 request.repo_id, known)  # fmt: skip
    else:
        manifest = _plan(clients, s3, bucket, request)
        if _verified(s3, manifest):
            log.info("%s %s@%s: every file is in place already", event["RequestType"], request.repo_id,
                     manifest["commit"])  # fmt: skip
        else:
            execution_arn = _start_or_attach(clients, manifest)
    physical_id = f"{bucket}/{manifest['prefix']}@{manifest['commit']}"
    history.record(request, manifest["commit"], physical_id)
    data = {"S3Uri": f"s3://{bucket}/{manifest['prefix']}", "Commit": manifest["commit"]}
    if execution_arn:
        data["ExecutionArn"] = execution_arn
    return {"PhysicalResourceId": physical_id, "Data": data}


def is_complete(event: dict[str, Any], context: Any = None, clients: Clients | None = None) -> dict[str, Any]:
    if event["RequestType"] == "Delete":
        return {"IsComplete": True}
    data = event["Data"]
    done = {"IsComplete": True, "Data": {"S3Uri": data["S3Uri"], "Commit": data["Commit"]}}
    if "ExecutionArn" not in data:  # nothing to copy: the commit was in place
        return done
    clients = clients or Clients()
    sfn = clients.client("stepfunctions")
    execution = sfn.describe_execution(executionArn=data["ExecutionArn"])
    status = execution["status"]
    if status in ("RUNNING", "PENDING_REDRIVE"):
        return {"IsComplete": False}
    if status == "SUCCEEDED":
        return done
    why = _why(sfn, execution)[:800]
    if status == "TIMED_OUT":  # CloudFormation waits an hour at most
        why += (
            "; the copy takes longer than a deployment can wait: copy the commit once with `python -m weights_copy` "
            "(see the README), then deploy again: the copied files are kept and verified, not copied again"
        )
    raise CopyError(f"copying {data['S3Uri']} failed ({status}): {why}")


# --- Create / Update -----------------------------------------------------------------------------------------------
def _plan(clients: Clients, s3: Any, bucket: str, request: CopyRequest) -> dict[str, Any]:
    """Resolve the revision on the Hub, select the files, and write the manifest and the Map items."""
    snapshot = clients.hub().snapshot(request.repo_id, request.revision)
    prefix = model_prefix(request.repo_id, snapshot.commit)
    manifest = build_manifest(snapshot, bucket, prefix, request.allow_patterns, request.ignore_patterns)
    s3.put_object(Bucket=bucket, Key=manifest_key(request.repo_id, snapshot.commit), Body=dumps(manifest))
    s3.put_object(
        Bucket=bucket, Key=items_key(request.repo_id, snapshot.commit), Body=json.dumps(manifest["files"]).encode()
    )
    return manifest


def _verified_copy(s3: Any, bucket: str, request: CopyRequest, commit: str) -> dict[str, Any] | None:
    """The manifest of ``commit`` if its copy, with the same file selection, is complete and verified."""
    try:
        body = s3.get_object(Bucket=bucket, Key=manifest_key(request.repo_id, commit))["Body"].read()
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey"):
            return None
        raise
    manifest: dict[str, Any] = json.loads(body)
    if not request.same_selection(manifest) or not _verified(s3, manifest):
        return None
    return manifest


def _verified(s3: Any, manifest: Mapping[str, Any]) -> bool:
    return all(
        already_copied(s3, entry["bucket"], entry["key"], hub_file(entry), entry["receipt_key"])
        for entry in manifest["files"]
    )


def _start_or_attach(clients: Clients, manifest: Mapping[str, Any]) -> str:
    """An execution copying this commit: one already running (a retried request, a second stack update), or a new
    one named after the commit."""
    sfn = clients.client("stepfunctions")
    machine = clients.environ[STATE_MACHINE_ARN]
    commit = manifest["commit"]
    for execution in _running(sfn, machine, commit):
        log.info("attaching to %s, which copies %s already", execution["executionArn"], commit)
        return str(execution["executionArn"])
    started = sfn.start_execution(
        stateMachineArn=machine,
        name=f"{commit}-{time.time_ns() // 1_000_000}",
        input=json.dumps(
            {
                "bucket": manifest["bucket"],
                "items_key": items_key(manifest["repo_id"], commit),
                "prefix": manifest["prefix"],
            }
        ),
    )
    log.info("copying %s@%s to s3://%s/%s: %s", manifest["repo_id"], commit, manifest["bucket"], manifest["prefix"],
             started["executionArn"])  # fmt: skip
    return str(started["executionArn"])


def _running(sfn: Any, machine: str, commit: str) -> list[dict[str, Any]]:
    executions = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine, statusFilter="RUNNING"):
        executions += [e for e in page["executions"] if e["name"].startswith(f"{commit}-")]
    return executions


@dataclass(frozen=True)
class _State:
    repo_id: str
    revision: str | None
    allow_patterns: list[str] | None
    ignore_patterns: list[str]
    commit: str
    physical_id: str

    def requested_as(self, request: CopyRequest) -> bool:
        return (self.repo_id, self.revision, self.allow_patterns, self.ignore_patterns) == (
            request.repo_id,
            request.revision,
            list(request.allow_patterns) if request.allow_patterns is not None else None,
            list(request.ignore_patterns),
        )


class History:
    """The commits one custom resource resolved its requests to, newest last (in the bucket, beside the manifests).

    A rollback Update asks for the properties of the state before the current one; a repeated request asks for the
    current one: both get the commit they had, without the Hub."""

    def __init__(self, s3: Any, bucket: str, key: str) -> None:
        self.s3, self.bucket, self.key = s3, bucket, key
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            self.states = [_State(**state) for state in json.loads(body)["states"]]
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("404", "NoSuchKey"):
                raise
            self.states = []

    def commit_for(self, request: CopyRequest, physical_id: str | None) -> str | None:
        current = max((i for i, s in enumerate(self.states) if s.physical_id == physical_id), default=None)
        if current is None:
            return None
        for state in (self.states[current], self.states[current - 1] if current > 0 else None):
            if state is not None and state.requested_as(request):
                return state.commit
        return None

    def record(self, request: CopyRequest, commit: str, physical_id: str) -> None:
        state = _State(
            request.repo_id,
            request.revision,
            list(request.allow_patterns) if request.allow_patterns is not None else None,
            list(request.ignore_patterns),
            commit,
            physical_id,
        )
        if self.states and self.states[-1] == state:
            return
        self.states = [*self.states[-19:], state]  # a bounded history: the last 20 states
        body = json.dumps({"states": [asdict(s) for s in self.states]}, indent=1).encode()
        self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=body)


# --- is_complete ---------------------------------------------------------------------------------------------------
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


# --- Delete --------------------------------------------------------------------------------------------------------
def _delete(event: dict[str, Any], clients: Clients) -> dict[str, Any]:
    physical_id = event["PhysicalResourceId"]
    if "@" not in physical_id or "/" not in physical_id:  # a Create that failed before it had a prefix
        return {"PhysicalResourceId": physical_id}
    location, commit = physical_id.rsplit("@", 1)
    bucket, prefix = location.split("/", 1)
    stopped = _stop_copies(clients, commit)
    s3 = clients.s3()
    aborted = abort_unfinished_uploads(s3, bucket, prefix)
    deleted = 0
    if clients.environ.get(DELETE_OBJECTS_ON_DELETE, "false").lower() == "true":
        repo_id = prefix.removeprefix("models/").removesuffix(f"/{commit}/")
        for key_prefix in (prefix, f"manifests/{repo_id}/{commit}"):  # the objects, then the copy's records
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key_prefix):
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                    deleted += len(keys)
    log.info("delete s3://%s/%s: %d copies stopped, %d unfinished uploads aborted, %d objects deleted",
             bucket, prefix, stopped, aborted, deleted)  # fmt: skip
    return {"PhysicalResourceId": physical_id}


def _stop_copies(clients: Clients, commit: str) -> int:
    machine = clients.environ.get(STATE_MACHINE_ARN)
    if not machine:
        return 0
    sfn = clients.client("stepfunctions")
    running = _running(sfn, machine, commit)
    for execution in running:
        sfn.stop_execution(executionArn=execution["executionArn"], cause="its weights copy resource was deleted")
    return len(running)
