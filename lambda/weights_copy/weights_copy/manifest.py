"""The copy plan of one commit: which file goes to which key, with the hashes that prove it arrived whole.

Manifests live beside the model prefix, not in it: SageMaker copies the whole prefix to /opt/ml/model.
"""

from __future__ import annotations

import json
from typing import Any

from weights_copy.hub import HubFile, Snapshot


def model_prefix(repo_id: str, commit: str, root: str = "models") -> str:
    """``models/<owner>/<name>/<commit>/``: one immutable prefix per commit (the ModelDataSource S3Uri)."""
    return f"{root.strip('/')}/{repo_id}/{commit}/"


def manifest_key(repo_id: str, commit: str, root: str = "manifests") -> str:
    return f"{root.strip('/')}/{repo_id}/{commit}.json"


def items_key(repo_id: str, commit: str, root: str = "manifests") -> str:
    """The Map items (a JSON array of file entries) the state machine's item reader reads."""
    return f"{root.strip('/')}/{repo_id}/{commit}.items.json"


def build_manifest(snapshot: Snapshot, bucket: str, prefix: str) -> dict[str, Any]:
    return {
        "repo_id": snapshot.repo_id,
        "commit": snapshot.commit,
        "bucket": bucket,
        "prefix": prefix,
        "total_bytes": snapshot.total_bytes,
        "files": [file_entry(snapshot, f, bucket, prefix) for f in snapshot.files],
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
    }


def hub_file(entry: dict[str, Any]) -> HubFile:
    return HubFile(
        path=entry["path"], size=int(entry["size"]), sha256=entry.get("sha256"), git_oid=entry.get("git_oid")
    )


def dumps(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, indent=1, sort_keys=True).encode()
