"""Copy a whole Hub revision into S3 (list -> copy every file -> finalize), as the state machine does it, in one
process: ``python -m weights_copy`` runs this for copies that outgrow Lambda."""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from weights_copy.copier import CopyResult, FileCopier
from weights_copy.errors import CopyError
from weights_copy.manifest import build_manifest, dumps, manifest_key, model_prefix

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


class RunUploads:
    """An S3 client that remembers the multipart uploads this run starts, so that a stopped or failed run aborts
    its own unfinished uploads and never another run's (which a prefix-wide abort would)."""

    def __init__(self, s3: Any) -> None:
        self._s3 = s3
        self._lock = threading.Lock()
        self._open: dict[str, str] = {}  # UploadId -> Key
        self.aborted = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)

    def create_multipart_upload(self, **kwargs: Any) -> Any:
        response = self._s3.create_multipart_upload(**kwargs)
        with self._lock:
            self._open[response["UploadId"]] = kwargs["Key"]
        return response

    def complete_multipart_upload(self, **kwargs: Any) -> Any:
        response = self._s3.complete_multipart_upload(**kwargs)
        self._closed(kwargs["UploadId"], aborted=False)
        return response

    def abort_multipart_upload(self, **kwargs: Any) -> Any:
        response = self._s3.abort_multipart_upload(**kwargs)
        self._closed(kwargs["UploadId"], aborted=True)
        return response

    def abort_unfinished(self, bucket: str) -> int:
        """Abort this run's uploads that were neither completed nor aborted; returns how many."""
        with self._lock:
            unfinished = dict(self._open)
        for upload_id, key in unfinished.items():
            self.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        return len(unfinished)

    def _closed(self, upload_id: str, *, aborted: bool) -> None:
        with self._lock:
            if self._open.pop(upload_id, None) is not None and aborted:
                self.aborted += 1


def plan_copy(
    copier: FileCopier,
    repo_id: str,
    revision: str | None,
    bucket: str,
    allow_patterns: Sequence[str] | None = None,
    ignore_patterns: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Resolve the revision (None: the repo's default branch), select its files and write the manifest to S3 (what
    the custom resource's Create does first). Default: every file of the revision."""
    snapshot = copier.hub.snapshot(repo_id, revision)
    prefix = model_prefix(repo_id, snapshot.commit)
    manifest = build_manifest(snapshot, bucket, prefix, allow_patterns, ignore_patterns)
    copier.s3.put_object(
        Bucket=bucket, Key=manifest_key(repo_id, snapshot.commit), Body=dumps(manifest), ContentType="application/json"
    )
    return manifest


def copy_manifest(copier: FileCopier, manifest: dict[str, Any], parallel_files: int = 1) -> SnapshotResult:
    """Copy every file of the manifest, ``parallel_files`` at once. The first failure (or a stop) cancels the files
    not yet started; the ones running end (at once when stopped); then this run's unfinished uploads are aborted,
    and only those."""
    if parallel_files < 1:
        raise CopyError(f"parallel_files is {parallel_files}: copy at least one file at a time")
    uploads = copier.s3 if isinstance(copier.s3, RunUploads) else RunUploads(copier.s3)
    if uploads is not copier.s3:
        copier = copy.copy(copier)
        copier.s3 = uploads

    try:
        with ThreadPoolExecutor(max_workers=parallel_files, thread_name_prefix="file") as pool:
            futures = [pool.submit(copier.copy_entry, entry) for entry in manifest["files"]]
            _first_failure(futures)
            results = tuple(f.result() for f in futures)
    except BaseException:
        uploads.abort_unfinished(manifest["bucket"])
        raise
    leftovers = uploads.abort_unfinished(manifest["bucket"])
    if leftovers:
        raise CopyError(f"{leftovers} unfinished multipart upload(s) were left under {manifest['prefix']}")
    return SnapshotResult(manifest["repo_id"], manifest["commit"], manifest["bucket"], manifest["prefix"], results)


def _first_failure(futures: list[Future[CopyResult]]) -> None:
    """Wait until all are done or one failed; on a failure, cancel those not started and raise it."""
    done, _ = wait(futures, return_when=FIRST_EXCEPTION)
    failed = next((f for f in futures if f in done and f.exception() is not None), None)
    if failed is not None:
        for future in futures:
            future.cancel()
        failed.result()  # raises its exception


def copy_snapshot(
    copier: FileCopier,
    repo_id: str,
    revision: str | None,
    bucket: str,
    parallel_files: int = 1,
    allow_patterns: Sequence[str] | None = None,
    ignore_patterns: Sequence[str] | None = None,
) -> SnapshotResult:
    manifest = plan_copy(copier, repo_id, revision, bucket, allow_patterns, ignore_patterns)
    log.info("%s@%s: %d files, %d bytes", repo_id, manifest["commit"], len(manifest["files"]), manifest["total_bytes"])
    return copy_manifest(copier, manifest, parallel_files)
