"""The copy plan of one commit: which file goes to which key, with the hashes that prove it arrived whole.

Manifests, receipts and deployment histories live beside the model prefix, not in it: SageMaker copies the whole
prefix to /opt/ml/model.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from weights_copy.errors import CopyError
from weights_copy.hub import HubFile, Snapshot


def model_prefix(repo_id: str, commit: str, root: str = "models") -> str:
    """``models/<owner>/<name>/<commit>/``: one immutable prefix per commit (the ModelDataSource S3Uri)."""
    return f"{root.strip('/')}/{repo_id}/{commit}/"


def manifest_key(repo_id: str, commit: str, root: str = "manifests") -> str:
    return f"{root.strip('/')}/{repo_id}/{commit}.json"


def items_key(repo_id: str, commit: str, root: str = "manifests") -> str:
    """The Map items (a JSON array of file entries) the state machine's item reader reads."""
    return f"{root.strip('/')}/{repo_id}/{commit}.items.json"


def receipt_key(repo_id: str, commit: str, path: str, root: str = "manifests") -> str:
    """Where a copy records what it stored for one file (size, hashes, S3's CRC32 of the object)."""
    return f"{root.strip('/')}/{repo_id}/{commit}/receipts/{path}.json"


def history_key(stack_id: str, logical_id: str, root: str = "manifests") -> str:
    """The commits one custom resource of one stack has resolved its revisions to, newest last."""
    digest = hashlib.sha256(f"{stack_id}|{logical_id}".encode()).hexdigest()[:32]
    return f"{root.strip('/')}/_resources/{digest}.json"


def select_files(
    files: Iterable[HubFile], allow_patterns: Sequence[str] | None, ignore_patterns: Sequence[str] | None
) -> tuple[HubFile, ...]:
    """The files to copy, by shell-style patterns on their paths, as huggingface_hub's ``allow_patterns`` and
    ``ignore_patterns`` read them (``*`` also matches ``/``; a pattern ending in ``/`` means the whole folder)."""

    def matches(path: str, patterns: Sequence[str]) -> bool:
        return any(fnmatch.fnmatch(path, p + "*" if p.endswith("/") else p) for p in patterns)

    return tuple(
        f
        for f in files
        if (allow_patterns is None or matches(f.path, allow_patterns))
        and not (ignore_patterns and matches(f.path, ignore_patterns))
    )


def build_manifest(
    snapshot: Snapshot,
    bucket: str,
    prefix: str,
    allow_patterns: Sequence[str] | None = None,
    ignore_patterns: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The copy plan: the selected files of a snapshot; a plan with no file is refused (it would serve nothing)."""
    files = select_files(snapshot.files, allow_patterns, ignore_patterns)
    if not files:
        raise CopyError(
            f"{snapshot.repo_id}@{snapshot.commit[:12]}: none of its {len(snapshot.files)} files matches "
            f"allow_patterns {list(allow_patterns or [])} without matching ignore_patterns "
            f"{list(ignore_patterns or [])}: widen the patterns"
        )
    return {
        "repo_id": snapshot.repo_id,
        "commit": snapshot.commit,
        "bucket": bucket,
        "prefix": prefix,
        "allow_patterns": list(allow_patterns) if allow_patterns is not None else None,
        "ignore_patterns": list(ignore_patterns or []),
        "total_bytes": sum(f.size for f in files),
        "files": [file_entry(snapshot, f, bucket, prefix) for f in files],
    }


def file_entry(snapshot: Snapshot, file: HubFile, bucket: str, prefix: str) -> dict[str, Any]:
    """One Map item: everything a copy-file invocation needs, nothing secret."""
    return {
        "repo_id": snapshot.repo_id,
        "commit": snapshot.commit,
        "path": file.path,
        "size": file.size,
        "sha256": file.sha256,
        "git_oid": file.git_oid,
        "bucket": bucket,
        "key": prefix + file.path,
        "receipt_key": receipt_key(snapshot.repo_id, snapshot.commit, file.path),
    }


def hub_file(entry: Mapping[str, Any]) -> HubFile:
    return HubFile(
        path=entry["path"], size=int(entry["size"]), sha256=entry.get("sha256"), git_oid=entry.get("git_oid")
    )


def dumps(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, indent=1, sort_keys=True).encode()
