"""What a server serves is checked before it is read: a 200 to a range request (Range ignored) is read only when it
is the whole small file asked for, and a size other than the listed one stops the copy at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from emulated_models import MIB, REPO, model_files
from hub_emulator import HubEmulator
from weights_copy import http
from weights_copy.copier import CopySettings, FileCopier
from weights_copy.errors import RangeIgnoredError, SizeMismatchError
from weights_copy.hub import HubApi
from weights_copy.retry import RetryPolicy
from weights_copy.snapshot_copy import copy_snapshot

SETTINGS = CopySettings(part_size=5 * MIB, max_in_flight=3)
SHARD = "model-00001-of-00002.safetensors"


class Waits(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def bodies_read(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The size of every body the engine read."""
    sizes: list[int] = []
    read = http.OpenResponse.read

    def recording(self: http.OpenResponse, max_bytes: int | None = None) -> bytes:
        body = read(self, max_bytes)
        sizes.append(len(body))
        return body

    monkeypatch.setattr(http.OpenResponse, "read", recording)
    yield sizes


def _copier(hub: HubEmulator, s3: Any, waits: Waits) -> FileCopier:
    return FileCopier(HubApi(hub.endpoint, retry=RetryPolicy(attempts=5, base_delay=0.01, sleep=waits)), s3, SETTINGS)


def _sha256(hub: HubEmulator, path: str) -> str | None:
    """The CDN URL part of an LFS file (a fault matching it hits that file only)."""
    file = hub.repos[REPO].commits[hub.repos[REPO].refs["main"]][path]
    return file.sha256 if file.lfs else None


def _no_open_uploads(s3: Any) -> bool:
    return s3.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", []) == []


def test_a_cdn_that_ignores_range_for_a_multipart_file_fails_at_once_without_reading_the_file(
    hub: HubEmulator, s3: Any, bodies_read: list[int]
) -> None:
    hub.add_repo(REPO, model_files(shard_bytes=12 * MIB, shards=1))  # one shard of three 5 MiB parts, via the CDN
    hub.fail("ignore-range", "/blobs/", times=1000)
    waits = Waits()
    with pytest.raises(
        RangeIgnoredError,
        match=r"model-00001-of-00001.safetensors: 127\.0\.0\.2:\d+ ignored the Range header .*not retried",
    ):
        copy_snapshot(_copier(hub, s3, waits), REPO, "main", s3.bucket)
    assert waits == []
    assert hub.requests["range-ignored"] <= SETTINGS.max_in_flight  # the parts in flight at once, nothing more
    assert max(bodies_read) < MIB  # no shard (nor part) was read: only listings and small files
    assert _no_open_uploads(s3)


def test_the_hub_serving_a_multipart_file_itself_and_ignoring_range_fails_without_reading_it(
    hub: HubEmulator, s3: Any, bodies_read: list[int]
) -> None:
    """A large non-LFS file (or a mirror serving everything itself) comes from the Hub's /resolve, no redirect."""
    files = {"config.json": b"{}", "tokenizer.json": bytes(range(256)) * (24 * 1024)}  # 6 MiB: two parts
    hub.add_repo(REPO, files)
    assert _sha256(hub, "tokenizer.json") is None  # not LFS: the Hub serves it
    hub.fail("ignore-range", "tokenizer.json", times=1000)
    waits = Waits()
    with pytest.raises(RangeIgnoredError, match=r"tokenizer\.json: 127\.0\.0\.1:\d+ ignored the Range header"):
        copy_snapshot(_copier(hub, s3, waits), REPO, "main", s3.bucket)
    assert waits == [] and max(bodies_read) < MIB
    assert _no_open_uploads(s3)


@pytest.mark.parametrize("where", ["/blobs/", "config.json"])
def test_a_small_file_served_whole_to_its_range_request_is_copied(hub: HubEmulator, s3: Any, where: str) -> None:
    files = model_files(shard_bytes=256 * 1024)  # single-part shards (CDN) and small files (the Hub itself)
    hub.add_repo(REPO, files)
    hub.fail("ignore-range", where, times=1000)
    result = copy_snapshot(_copier(hub, s3, Waits()), REPO, "main", s3.bucket)
    assert hub.requests["range-ignored"] >= 1
    for path, data in files.items():
        assert s3.get_object(Bucket=s3.bucket, Key=result.prefix + path)["Body"].read() == data


@pytest.mark.parametrize(("kind", "delta"), [("shrink", -7), ("grow", 7)])
@pytest.mark.parametrize(
    ("where", "path", "shard_bytes"),
    [
        ("/blobs/", SHARD, 12 * MIB),  # a multipart shard from the CDN
        ("/blobs/", SHARD, 256 * 1024),  # a single-part shard from the CDN
        ("config.json", "config.json", 64 * 1024),  # a small file the Hub serves with the resolve
    ],
)
def test_a_served_size_other_than_the_listed_one_fails_at_once_naming_both(
    hub: HubEmulator, s3: Any, kind: str, delta: int, where: str, path: str, shard_bytes: int
) -> None:
    files = model_files(shard_bytes=shard_bytes)
    hub.add_repo(REPO, files)
    if where == "/blobs/":
        files = {p: d for p, d in files.items() if p != "model-00002-of-00002.safetensors"}
        hub.fail(kind, _sha256(hub, path), times=1000)
    else:
        hub.fail(kind, where, times=1000)
    listed, served = len(files[path]), len(files[path]) + delta
    waits = Waits()
    with pytest.raises(
        SizeMismatchError, match=rf"{path}: the Hub lists {listed} bytes but 127\.0\.0\.\d:\d+ serves {served} bytes"
    ):
        copy_snapshot(_copier(hub, s3, waits), REPO, "main", s3.bucket)
    assert waits == []
    assert _no_open_uploads(s3)
