"""What a copy trusts and what it touches: receipts checked against S3's own checksum (never object metadata),
uploads aborted only when they cannot belong to a running copy, the file selection, and the failure a broken
abort must not hide."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from emulated_models import MIB, REPO, model_files
from hub_emulator import HubEmulator
from weights_copy import copier as copier_module
from weights_copy.copier import CopySettings, FileCopier, abort_unfinished_uploads
from weights_copy.errors import CopyError, EntryNotFoundError
from weights_copy.hub import HubApi, HubFile, Snapshot
from weights_copy.manifest import build_manifest, receipt_key, select_files
from weights_copy.retry import RetryPolicy
from weights_copy.settings import ALLOW_PATTERNS, IGNORE_PATTERNS
from weights_copy.snapshot_copy import copy_manifest, plan_copy

SETTINGS = CopySettings(part_size=5 * MIB, max_in_flight=3)


def _copier(hub: HubEmulator, s3: Any) -> FileCopier:
    return FileCopier(HubApi(hub.endpoint, retry=RetryPolicy(attempts=3, base_delay=0.01)), s3, SETTINGS)


def _copy(copier: FileCopier, entry: dict[str, Any]) -> str:
    return copier.copy_entry(entry).status


@pytest.fixture
def planned(hub: HubEmulator, s3: Any) -> dict[str, Any]:
    hub.add_repo(REPO, model_files(shard_bytes=12 * MIB))
    return plan_copy(_copier(hub, s3), REPO, "main", s3.bucket)


def _entry(manifest: dict[str, Any], suffix: str) -> dict[str, Any]:
    return next(e for e in manifest["files"] if e["path"].endswith(suffix))


def test_every_copied_file_gets_a_receipt_with_the_checksum_s3_keeps(
    hub: HubEmulator, s3: Any, planned: dict[str, Any]
) -> None:
    copy_manifest(_copier(hub, s3), planned)
    shard = _entry(planned, ".safetensors")
    receipt = json.loads(s3.get_object(Bucket=s3.bucket, Key=shard["receipt_key"])["Body"].read())
    head = s3.head_object(Bucket=s3.bucket, Key=shard["key"], ChecksumMode="ENABLED")
    assert receipt["crc32"] == head["ChecksumCRC32"] and head["ChecksumType"] == "FULL_OBJECT"
    assert (receipt["size"], receipt["sha256"]) == (shard["size"], shard["sha256"])
    assert shard["receipt_key"] == receipt_key(REPO, planned["commit"], shard["path"])
    assert not shard["receipt_key"].startswith(planned["prefix"])  # SageMaker copies the prefix, not the receipts


def test_an_object_replaced_with_other_bytes_and_the_right_metadata_is_copied_again(
    hub: HubEmulator, s3: Any, planned: dict[str, Any]
) -> None:
    copier = _copier(hub, s3)
    copy_manifest(copier, planned)
    shard = _entry(planned, ".safetensors")
    original = s3.get_object(Bucket=s3.bucket, Key=shard["key"])
    forged = b"\0" * shard["size"]  # anyone who may PutObject: same size, metadata copied from the real object
    s3.put_object(Bucket=s3.bucket, Key=shard["key"], Body=forged, Metadata=original["Metadata"])
    assert _copy(copier, shard) == "copied"
    assert s3.get_object(Bucket=s3.bucket, Key=shard["key"])["Body"].read() == original["Body"].read()
    assert _copy(copier, shard) == "skipped"


def test_an_object_without_a_receipt_is_not_trusted(hub: HubEmulator, s3: Any, planned: dict[str, Any]) -> None:
    copier = _copier(hub, s3)
    copy_manifest(copier, planned)
    config = _entry(planned, "config.json")
    s3.delete_object(Bucket=s3.bucket, Key=config["receipt_key"])
    assert _copy(copier, config) == "copied"


class _Uploads:
    """An S3 client whose open uploads started at given times (moto answers one fixed date for all)."""

    def __init__(self, uploads: list[tuple[str, str, datetime.timedelta]]) -> None:
        now = datetime.datetime.now(datetime.UTC)
        self.uploads = [{"Key": k, "UploadId": u, "Initiated": now - age} for k, u, age in uploads]
        self.aborted: list[str] = []

    def get_paginator(self, name: str) -> Any:
        assert name == "list_multipart_uploads"
        client = self

        class Pages:
            def paginate(self, Bucket: str, Prefix: str) -> list[dict[str, Any]]:
                return [{"Uploads": [u for u in client.uploads if u["Key"].startswith(Prefix)]}]

        return Pages()

    def abort_multipart_upload(self, Bucket: str, Key: str, UploadId: str) -> None:
        if UploadId == "gone":
            raise ClientError({"Error": {"Code": "NoSuchUpload"}}, "AbortMultipartUpload")
        self.aborted.append(UploadId)


def test_a_copy_aborts_only_stale_uploads_of_exactly_its_own_key() -> None:
    s3 = _Uploads(
        [
            ("models/x/model.safetensors", "running", datetime.timedelta(minutes=3)),  # another copy, still going
            ("models/x/model.safetensors", "killed", datetime.timedelta(hours=1)),  # a copy killed long ago
            ("models/x/model.safetensors", "gone", datetime.timedelta(hours=1)),  # finished meanwhile
            ("models/x/model.safetensors.part2", "other-file", datetime.timedelta(hours=1)),
        ]
    )
    key = "models/x/model.safetensors"
    aborted = abort_unfinished_uploads(s3, "b", key, key=key, older_than=copier_module.STALE_UPLOAD)
    assert (aborted, s3.aborted) == (1, ["killed"])


class _AbortFails:
    def __init__(self, s3: Any) -> None:
        self._s3 = s3

    def __getattr__(self, name: str) -> Any:
        if name == "abort_multipart_upload":

            def abort(**kwargs: Any) -> None:
                raise ClientError({"Error": {"Code": "NoSuchUpload", "Message": "gone"}}, "AbortMultipartUpload")

            return abort
        return getattr(self._s3, name)


def test_a_failing_abort_does_not_hide_why_the_copy_failed(hub: HubEmulator, s3: Any) -> None:
    commit = hub.add_repo(REPO, model_files(shard_bytes=12 * MIB))
    shard = "model-00001-of-00002.safetensors"
    files = hub.repos[REPO].commits[commit]
    del files[shard]  # the listing had it; the Hub no longer serves it: a permanent error mid-upload
    entry = {
        "repo_id": REPO, "commit": commit, "path": shard, "size": 12 * MIB + 200, "sha256": "0" * 64,
        "git_oid": None, "bucket": s3.bucket, "key": f"models/{REPO}/{commit}/{shard}", "receipt_key": "r.json",
    }  # fmt: skip
    with pytest.raises(EntryNotFoundError):
        _copy(_copier(hub, _AbortFails(s3)), entry)


def test_files_are_selected_like_huggingface_hubs_patterns() -> None:
    files = [
        HubFile(path, 1, None, "0" * 40)
        for path in ("model.safetensors", "config.json", "original/params.json", "original/consolidated.00.pth",
                     "pytorch_model.bin", "tokenizer.model", "README.md", "figures/plot.png", "chat_template.jinja")
    ]  # fmt: skip
    chosen = select_files(files, ALLOW_PATTERNS, IGNORE_PATTERNS)
    assert [f.path for f in chosen] == ["model.safetensors", "config.json", "tokenizer.model", "chat_template.jinja"]
    assert [f.path for f in select_files(files, ["original/"], None)] == [
        "original/params.json",
        "original/consolidated.00.pth",
    ]
    assert len(select_files(files, None, None)) == len(files)


def test_a_selection_with_no_file_is_refused() -> None:
    snapshot = Snapshot(REPO, "c" * 40, (HubFile("pytorch_model.bin", 5, None, "0" * 40),))
    with pytest.raises(CopyError, match="none of its 1 files matches allow_patterns"):
        build_manifest(snapshot, "b", "models/x/", ALLOW_PATTERNS, IGNORE_PATTERNS)
