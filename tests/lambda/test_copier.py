"""The copy engine against the Hub emulator and moto's S3 server: verified copies, every fault it must survive,
and the errors it must not retry."""

from __future__ import annotations

import logging
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from emulated_models import MIB, REPO, model_files
from hub_emulator import HubEmulator
from weights_copy.copier import CopySettings, FileCopier
from weights_copy.errors import GatedRepoError, IntegrityError, RepoNotFoundError, RevisionNotFoundError
from weights_copy.hub import HubApi
from weights_copy.manifest import manifest_key
from weights_copy.retry import RetryPolicy
from weights_copy.s3_config import copy_s3_config
from weights_copy.snapshot_copy import copy_manifest, copy_snapshot, plan_copy

SHARD = 12 * MIB  # three 5 MiB parts a shard: S3's minimum part size is what moto enforces too
SETTINGS = CopySettings(part_size=5 * MIB, max_in_flight=3)


class Waits(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _copier(hub: HubEmulator, s3: Any, token: str | None = None, waits: Waits | None = None) -> FileCopier:
    retry = RetryPolicy(attempts=5, base_delay=0.01, sleep=waits if waits is not None else Waits())
    return FileCopier(HubApi(hub.endpoint, token, retry=retry), s3, SETTINGS)


def _assert_identical(s3: Any, files: dict[str, bytes], prefix: str) -> None:
    listed = s3.list_objects_v2(Bucket=s3.bucket, Prefix=prefix)["Contents"]
    assert sorted(o["Key"][len(prefix) :] for o in listed) == sorted(files)
    for path, data in files.items():
        assert s3.get_object(Bucket=s3.bucket, Key=prefix + path)["Body"].read() == data, path
    assert s3.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", []) == []


def test_copies_every_file_byte_for_byte_with_its_hash_and_commit(hub: HubEmulator, s3: Any) -> None:
    files = model_files(shard_bytes=SHARD)
    commit = hub.add_repo(REPO, files)
    result = copy_snapshot(_copier(hub, s3), REPO, "main", s3.bucket)
    assert result.commit == commit
    assert result.s3_uri == f"s3://{s3.bucket}/models/{REPO}/{commit}/"
    _assert_identical(s3, files, result.prefix)
    shard = next(p for p in files if p.endswith(".safetensors"))
    head = s3.head_object(Bucket=s3.bucket, Key=result.prefix + shard)
    assert head["Metadata"]["commit"] == commit
    assert len(head["Metadata"]["sha256"]) == 64
    assert head["ETag"].endswith('-3"')  # a multipart object of three parts
    manifest = s3.get_object(Bucket=s3.bucket, Key=manifest_key(REPO, commit))["Body"].read()
    assert b'"total_bytes"' in manifest and not result.prefix.startswith("manifests/")
    assert hub.requests["resolve"] == len(files), hub.requests  # one /resolve a file, however many parts
    assert 1 < hub.cdn_max_in_flight <= SETTINGS.max_in_flight


def test_uploads_carry_a_crc32_checksum_and_an_unsigned_payload(hub: HubEmulator, s3: Any, s3_endpoint: str) -> None:
    """The copy's own S3 client: payloads unsigned (no second SHA-256 of every byte, even over the plain HTTP of
    loopback), yet every body arrives with a CRC32 (real S3 checks it; moto only stores it); enough connections
    for the parts in flight."""
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    client = session.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", config=copy_s3_config(32))
    sent: list[tuple[str, dict[str, str]]] = []
    client.meta.events.register(
        "before-send.s3",
        lambda request, **_: sent.append(
            (request.method, {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()})
        ),
    )
    client.bucket = s3.bucket
    files = model_files(shard_bytes=SHARD)
    hub.add_repo(REPO, files)
    result = copy_snapshot(_copier(hub, client), REPO, "main", s3.bucket)
    _assert_identical(s3, files, result.prefix)
    bodies = [headers for method, headers in sent if method == "PUT" and int(headers.get("Content-Length", 0)) > 0]
    assert len(bodies) >= 2 * 3, "every shard part and small file is a PUT with a body"
    for headers in bodies:
        assert headers["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
        assert headers["x-amz-checksum-crc32"], headers
    assert client.meta.config.max_pool_connections == 32


def test_a_second_run_skips_what_is_already_there(hub: HubEmulator, s3: Any) -> None:
    hub.add_repo(REPO, model_files(shard_bytes=SHARD))
    copy_snapshot(_copier(hub, s3), REPO, "main", s3.bucket)
    gets_before = hub.requests["cdn-get"] + hub.requests["hub-get"]
    again = copy_snapshot(_copier(hub, s3), REPO, "main", s3.bucket)
    assert {r.status for r in again.files} == {"skipped"} and again.bytes_copied == 0
    assert hub.requests["cdn-get"] + hub.requests["hub-get"] == gets_before


def test_rate_limits_wait_as_long_as_the_hub_says(hub: HubEmulator, s3: Any) -> None:
    files = model_files(shard_bytes=SHARD)
    hub.add_repo(REPO, files)
    hub.fail("429", "/resolve/", times=2)
    hub.fail("429", "/api/models/", times=1)
    waits = Waits()
    result = copy_snapshot(_copier(hub, s3, waits=waits), REPO, "main", s3.bucket)
    _assert_identical(s3, files, result.prefix)
    assert hub.requests["429"] == 3
    assert waits.count(1.0) == 3  # Retry-After / RateLimit t=1, not a guessed backoff


@pytest.mark.parametrize("fault", ["500", "reset", "truncate"])
def test_cdn_errors_and_broken_bodies_mid_part_are_retried(hub: HubEmulator, s3: Any, fault: str) -> None:
    files = model_files(shard_bytes=SHARD)
    hub.add_repo(REPO, files)
    hub.fail(fault, "/blobs/", times=3)
    result = copy_snapshot(_copier(hub, s3), REPO, "main", s3.bucket)
    _assert_identical(s3, files, result.prefix)
    assert hub.requests[f"fault-{fault}" if fault != "500" else "cdn-500"] == 3, hub.requests


def test_an_expired_signed_url_is_resolved_again(hub: HubEmulator, s3: Any) -> None:
    files = model_files(shard_bytes=SHARD)
    hub.add_repo(REPO, files)
    hub.fail("expire", "/blobs/", times=1)
    result = copy_snapshot(_copier(hub, s3), REPO, "main", s3.bucket)
    _assert_identical(s3, files, result.prefix)
    assert hub.requests["cdn-403"] == 1
    assert hub.requests["resolve"] == len(files) + 1


class FlakyS3:
    """moto's client, with SlowDown/500 answers to the first UploadParts and PutObjects."""

    def __init__(self, s3: Any, failures: int) -> None:
        self._s3, self.failures, self.bucket = s3, failures, s3.bucket

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._s3, name)
        if name not in ("upload_part", "put_object"):
            return method

        def flaky(**kwargs: Any) -> Any:
            if self.failures > 0 and not kwargs["Key"].startswith("manifests/"):
                self.failures -= 1
                code = "SlowDown" if self.failures % 2 else "InternalError"
                raise ClientError({"Error": {"Code": code, "Message": "please reduce"}}, name)
            return method(**kwargs)

        return flaky


def test_s3_slowdown_and_5xx_on_upload_are_retried(hub: HubEmulator, s3: Any) -> None:
    files = model_files(shard_bytes=SHARD)
    hub.add_repo(REPO, files)
    flaky = FlakyS3(s3, failures=4)
    result = copy_snapshot(_copier(hub, flaky), REPO, "main", s3.bucket)
    assert flaky.failures == 0
    _assert_identical(s3, files, result.prefix)


class Killed(BaseException):
    """The process dying: nothing after it runs, not even the abort in a finally."""


class DiesHalfWay(FlakyS3):
    def __init__(self, s3: Any, parts_before_death: int) -> None:
        super().__init__(s3, failures=0)
        self.parts_left = parts_before_death

    def __getattr__(self, name: str) -> Any:
        if name == "abort_multipart_upload":
            return lambda **kwargs: None  # a dead process aborts nothing
        method = getattr(self._s3, name)
        if name != "upload_part":
            return method

        def upload_part(**kwargs: Any) -> Any:
            if self.parts_left == 0:
                raise Killed()
            self.parts_left -= 1
            return method(**kwargs)

        return upload_part


def test_a_run_killed_half_way_is_finished_by_a_rerun_without_orphaned_uploads(hub: HubEmulator, s3: Any) -> None:
    files = model_files(shard_bytes=SHARD)
    hub.add_repo(REPO, files)
    copier = _copier(hub, s3)
    manifest = plan_copy(copier, REPO, "main", s3.bucket)
    with pytest.raises(Killed):
        copy_manifest(_copier(hub, DiesHalfWay(s3, parts_before_death=4)), manifest)
    assert s3.list_multipart_uploads(Bucket=s3.bucket).get("Uploads")  # the dead run left one behind
    result = copy_manifest(copier, manifest)
    _assert_identical(s3, files, result.prefix)
    statuses = {r.path: r.status for r in result.files}
    assert "skipped" in statuses.values() and "copied" in statuses.values()


def test_bytes_that_do_not_match_the_listed_hash_never_become_an_object(hub: HubEmulator, s3: Any) -> None:
    files = model_files(shard_bytes=SHARD)
    commit = hub.add_repo(REPO, files)
    hub.fail("corrupt", "/blobs/", times=100)
    with pytest.raises(IntegrityError, match="the Hub lists"):
        copy_snapshot(_copier(hub, s3), REPO, "main", s3.bucket)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=s3.bucket).get("Contents", [])]
    assert not any(k.endswith(".safetensors") for k in keys), keys
    assert s3.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", []) == []
    assert commit


@pytest.mark.parametrize(
    ("token", "revision", "error", "message"),
    [
        (None, "main", GatedRepoError, "request access on the Hub and set weights.hf_token_secret"),
        ("hf_not_approved", "main", GatedRepoError, "token's account is not approved"),
        ("hf_approved", "v9.9", RevisionNotFoundError, "revision not found"),
    ],
)
def test_access_errors_fail_at_once_with_what_to_do(
    hub: HubEmulator, s3: Any, token: str | None, revision: str, error: type[Exception], message: str
) -> None:
    hub.add_repo(REPO, model_files(shard_bytes=64 * 1024), gated=True, approved={"hf_approved"})
    waits = Waits()
    with pytest.raises(error, match=message):
        copy_snapshot(_copier(hub, s3, token=token, waits=waits), REPO, revision, s3.bucket)
    assert waits == [] and hub.requests["api"] == 1


def test_a_missing_repo_fails_at_once(hub: HubEmulator, s3: Any) -> None:
    with pytest.raises(RepoNotFoundError, match="give a token if it is private"):
        copy_snapshot(_copier(hub, s3), "nobody/nothing", "main", s3.bucket)


def test_the_token_goes_to_the_hub_only_and_never_into_logs(
    hub: HubEmulator, s3: Any, caplog: pytest.LogCaptureFixture
) -> None:
    token = "hf_SecretTokenValue123"
    hub.add_repo(REPO, model_files(shard_bytes=SHARD), gated=True, approved={token})
    hub.fail("500", "/blobs/", times=1)
    caplog.set_level(logging.DEBUG)
    copier = _copier(hub, s3, token=token)
    copy_snapshot(copier, REPO, "main", s3.bucket)
    assert hub.authorization_seen_by_cdn == []
    assert token not in caplog.text and token not in repr(copier.hub)
    assert "retry" in caplog.text  # the 500 was logged, without the token
