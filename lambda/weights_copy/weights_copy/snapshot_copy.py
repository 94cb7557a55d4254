"""Copy a whole Hub revision into S3 (list -> copy every file -> finalize), as the state machine does it, in one
process: ``python -m weights_copy`` runs this for copies that outgrow Lambda."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from weights_copy.copier import CopyResult, FileCopier
from weights_copy.manifest import build_manifest, dumps, hub_file, manifest_key, model_prefix

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SnapshotResult:
    repo_id: str
    commit: str
    bucket: str
    prefix: str
    files: tuple[CopyResult, ...]

    @property
    def s3_uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def bytes_copied(self) -> int:
        return sum(r.bytes_copied for r in self.files)


def plan_copy(copier: FileCopier, repo_id: str, revision: str, bucket: str) -> dict[str, Any]:
    """Resolve the revision and write its manifest to S3 (what the custom resource's Create does first)."""
    snapshot = copier.hub.snapshot(repo_id, revision)
    prefix = model_prefix(repo_id, snapshot.commit)
    manifest = build_manifest(snapshot, bucket, prefix)
    copier.s3.put_object(
        Bucket=bucket, Key=manifest_key(repo_id, snapshot.commit), Body=dumps(manifest), ContentType="application/json"
    )
    return manifest


def copy_manifest(copier: FileCopier, manifest: dict[str, Any], parallel_files: int = 1) -> SnapshotResult:
    entries = manifest["files"]

    def one(entry: dict[str, Any]) -> CopyResult:
        return copier.copy(
            repo_id=entry["repo_id"],
            commit=entry["commit"],
            file=hub_file(entry),
            bucket=entry["bucket"],
            key=entry["key"],
            receipt_key=entry["receipt_key"],
        )

    with ThreadPoolExecutor(max_workers=max(1, parallel_files), thread_name_prefix="file") as pool:
        results = tuple(pool.map(one, entries))  # each file's copier aborts its own upload when it fails
    return SnapshotResult(manifest["repo_id"], manifest["commit"], manifest["bucket"], manifest["prefix"], results)


def copy_snapshot(
    copier: FileCopier, repo_id: str, revision: str, bucket: str, parallel_files: int = 1
) -> SnapshotResult:
    manifest = plan_copy(copier, repo_id, revision, bucket)
    log.info("%s@%s: %d files, %d bytes", repo_id, manifest["commit"], len(manifest["files"]), manifest["total_bytes"])
    return copy_manifest(copier, manifest, parallel_files)
