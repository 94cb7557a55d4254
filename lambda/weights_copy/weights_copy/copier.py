"""Copy one Hub file into S3: parallel range GETs, multipart upload, in-order SHA-256, complete only on a match.

Memory stays below ``max_in_flight x part_size`` whatever the file size: a part is fetched only when it is
within ``max_in_flight`` parts of the next one to hash, and its bytes are dropped once hashed and uploaded.
An object only becomes visible (CompleteMultipartUpload / PutObject) after its size and hash matched the Hub's.

Every object is stored with a full-object CRC32 that S3 checks against the bytes it received, and the copy writes a
receipt (the file's size, hashes and that CRC32) beside the model prefix. A later copy skips a file only when S3's
own checksum of the object still equals the receipt's: object metadata, which anyone who may PutObject can write,
is never trusted.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import logging
import threading
import zlib
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from weights_copy import settings
from weights_copy.errors import (
    CopyError,
    ExpiredUrlError,
    IntegrityError,
    RangeIgnoredError,
    SizeMismatchError,
    TransientError,
)
from weights_copy.http import Answer, ContentRange, OpenResponse, Response
from weights_copy.hub import FileLocation, HubApi, HubFile, retry_after_of
from weights_copy.manifest import hub_file
from weights_copy.retry import RetryPolicy, with_retries

log = logging.getLogger(__name__)
MIB = 1024 * 1024
S3_MIN_PART = 5 * MIB
S3_MAX_PARTS = 10_000
_S3_TRANSIENT = {"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "503", "500"}
_MISSING = ("404", "NoSuchKey", "NotFound")
STALE_UPLOAD = datetime.timedelta(minutes=20)
"""An upload of a key started longer ago than this belongs to no running copy (a copy function runs 15 minutes at
most): it is a leftover of a killed one, which a new copy of that key may abort."""


@dataclass(frozen=True)
class CopySettings:
    part_size: int = settings.PART_SIZE_MB * MIB
    """Bytes a range GET and an UploadPart carry; grown automatically for files over 10,000 parts."""
    max_in_flight: int = settings.MAX_IN_FLIGHT
    """Parts fetched at once (parallel connections); also the most parts held in memory."""

    def part_size_for(self, size: int) -> int:
        needed = -(-size // S3_MAX_PARTS)
        return max(self.part_size, S3_MIN_PART, -(-needed // MIB) * MIB)


@dataclass(frozen=True)
class CopyResult:
    path: str
    key: str
    status: str  # "copied" | "skipped"
    bytes_copied: int


def object_metadata(commit: str, file: HubFile) -> dict[str, str]:
    """Where an object came from, for people reading it; never trusted by a copy (see ``already_copied``)."""
    return {"sha256": file.sha256 or "", "git-oid": file.git_oid or "", "commit": commit}


def crc32_text(crc: int) -> str:
    """S3's form of a CRC32: base64 of its four big-endian bytes."""
    return base64.b64encode(crc.to_bytes(4, "big")).decode()


def read_receipt(s3: Any, bucket: str, receipt_key: str) -> dict[str, Any] | None:
    try:
        body = s3.get_object(Bucket=bucket, Key=receipt_key)["Body"].read()
    except ClientError as error:
        if error.response["Error"]["Code"] in _MISSING:
            return None
        raise
    receipt: dict[str, Any] = json.loads(body)
    return receipt


def holds_receipt(s3: Any, bucket: str, key: str, receipt: dict[str, Any]) -> bool:
    """The object is the one the receipt describes: S3's own full-object CRC32 of it and its size still match."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    except ClientError as error:
        if error.response["Error"]["Code"] in _MISSING:
            return False
        raise
    return (
        head.get("ChecksumType") in (None, "FULL_OBJECT")
        and head.get("ChecksumCRC32") == receipt["crc32"]
        and head["ContentLength"] == receipt["size"]
    )


def already_copied(s3: Any, bucket: str, key: str, file: HubFile, receipt_key: str) -> bool:
    """A copy of exactly these bytes is in place: a receipt for this file, and an object S3 vouches for."""
    receipt = read_receipt(s3, bucket, receipt_key)
    if receipt is None or receipt.get("size") != file.size:
        return False
    if receipt.get("sha256") != file.sha256 or receipt.get("git_oid") != file.git_oid:
        return False
    return holds_receipt(s3, bucket, key, receipt)


def abort_unfinished_uploads(
    s3: Any, bucket: str, prefix: str, *, key: str | None = None, older_than: datetime.timedelta | None = None
) -> int:
    """Abort multipart uploads under ``prefix`` (only of exactly ``key`` if given, only those started more than
    ``older_than`` ago if given); returns how many. An upload that is gone already (finished or aborted by its own
    copy meanwhile) is not an error."""
    aborted = 0
    now = datetime.datetime.now(datetime.UTC)
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=key or prefix):
        for upload in page.get("Uploads", []):
            if key is not None and upload["Key"] != key:
                continue  # copying "x" must not abort the upload of "x.part2"
            if older_than is not None and now - upload["Initiated"] < older_than:
                continue
            try:
                s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                aborted += 1
            except ClientError as error:
                if error.response["Error"]["Code"] != "NoSuchUpload":
                    raise
    return aborted


class _Verifier:
    """SHA-256 (LFS) or git blob SHA-1 (non-LFS) over bytes fed in order."""

    def __init__(self, file: HubFile) -> None:
        self.file = file
        if file.sha256:
            self._hash = hashlib.sha256()
        else:
            self._hash = hashlib.sha1(usedforsecurity=False)
            self._hash.update(f"blob {file.size}\0".encode())
        self.size = 0
        self.crc32 = 0  # of the content, as S3 stores it

    def update(self, data: bytes) -> None:
        self._hash.update(data)
        self.crc32 = zlib.crc32(data, self.crc32)
        self.size += len(data)

    def check(self) -> None:
        expected = self.file.sha256 or self.file.git_oid
        actual = self._hash.hexdigest()
        if self.size != self.file.size or actual != expected:
            raise IntegrityError(
                f"{self.file.path}: got {self.size} bytes hashing {actual[:16]}..., "
                f"the Hub lists {self.file.size} bytes hashing {(expected or '')[:16]}..."
            )


class FileCopier:
    """Copies files of one commit; one instance per Lambda invocation or shell run."""

    def __init__(
        self,
        hub: HubApi,
        s3: Any,
        settings: CopySettings | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.hub = hub
        self.s3 = s3
        self.settings = settings or CopySettings()
        self.retry = retry or hub.retry

    def copy_entry(self, entry: Mapping[str, Any]) -> CopyResult:
        """Copy one file of a manifest (a Map item: ``manifest.file_entry``)."""
        return self.copy(
            repo_id=entry["repo_id"],
            commit=entry["commit"],
            file=hub_file(entry),
            bucket=entry["bucket"],
            key=entry["key"],
            receipt_key=entry["receipt_key"],
        )

    def copy(self, *, repo_id: str, commit: str, file: HubFile, bucket: str, key: str, receipt_key: str) -> CopyResult:
        if already_copied(self.s3, bucket, key, file, receipt_key):
            log.info("skip %s: s3://%s/%s already holds it (S3's checksum matches its receipt)", file.path, bucket, key)
            return CopyResult(file.path, key, "skipped", 0)
        # Leftovers of a killed copy of exactly this key; a copy running beside this one keeps its upload.
        abort_unfinished_uploads(self.s3, bucket, key, key=key, older_than=STALE_UPLOAD)
        part_size = self.settings.part_size_for(file.size)
        small = file.size <= part_size
        location = _SharedLocation(lambda: self.hub.locate(repo_id, commit, file.path, file.size if small else 1))
        metadata = object_metadata(commit, file)
        if small:
            crc32 = self._put_small(location, file, bucket, key, metadata)
        else:
            crc32 = self._multipart(location, file, bucket, key, metadata, part_size)
        receipt = {"path": file.path, "size": file.size, "sha256": file.sha256, "git_oid": file.git_oid,
                   "crc32": crc32, "commit": commit, "key": key}  # fmt: skip
        if not holds_receipt(self.s3, bucket, key, receipt):
            raise IntegrityError(f"{file.path}: S3's checksum of s3://{bucket}/{key} is not the one this copy sent")
        self._s3_call(lambda: self.s3.put_object(Bucket=bucket, Key=receipt_key, Body=json.dumps(receipt)), receipt_key)
        log.info("copied %s (%d bytes) to s3://%s/%s", file.path, file.size, bucket, key)
        return CopyResult(file.path, key, "copied", file.size)

    def _fetch(self, location: _SharedLocation, file: HubFile, start: int, end: int) -> bytes:
        """Bytes start..end of the file. Status and Content-Range are checked before the body is read: a size
        other than the listed one, or a server that ignores Range for part of a file, stops the copy at once."""

        def attempt() -> bytes:
            current, served = location.get()
            if served is not None and start == 0:  # came with the resolve
                _check_served_size(file, served, current)
                if len(served.body) > end:
                    return served.body[: end + 1]
            with self.hub.open_range(current, start, end) as response:
                if response.status == 403:
                    location.refresh(current)
                    raise ExpiredUrlError(f"{file.path}: the CDN refused the signed URL (expired); resolving again")
                if response.status == 429 or response.status >= 500:
                    raise TransientError(f"{file.path}: CDN answered {response.status}", retry_after_of(response))
                _check_served_size(file, response, current)
                if response.status == 200:
                    if start != 0 or end != file.size - 1:
                        raise _range_ignored(file, current, start, end)
                    return response.read(max_bytes=file.size)  # the whole file was asked for
                if response.status != 206:
                    raise TransientError(f"{file.path}: range {start}-{end} answered {response.status}")
                _check_range(file, response, start, end)
                return response.read(max_bytes=end - start + 1)

        return with_retries(attempt, self.retry, f"get {file.path} [{start}-{end}]")

    def _put_small(
        self, location: _SharedLocation, file: HubFile, bucket: str, key: str, metadata: dict[str, str]
    ) -> str:
        data = self._fetch(location, file, 0, file.size - 1) if file.size else b""
        verifier = _Verifier(file)
        verifier.update(data)
        verifier.check()
        crc32 = crc32_text(verifier.crc32)
        self._s3_call(
            lambda: self.s3.put_object(
                Bucket=bucket, Key=key, Body=data, Metadata=metadata, ChecksumAlgorithm="CRC32", ChecksumCRC32=crc32
            ),
            key,
        )
        return crc32

    def _multipart(
        self,
        location: _SharedLocation,
        file: HubFile,
        bucket: str,
        key: str,
        metadata: dict[str, str],
        part_size: int,
    ) -> str:
        upload_id = self.s3.create_multipart_upload(
            Bucket=bucket, Key=key, Metadata=metadata, ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT"
        )["UploadId"]
        try:
            parts, crc32 = self._upload_parts(location, file, bucket, key, upload_id, part_size)
            self._s3_call(
                lambda: self.s3.complete_multipart_upload(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                    ChecksumCRC32=crc32,
                    ChecksumType="FULL_OBJECT",
                    MpuObjectSize=file.size,
                ),
                key,
            )
            return crc32
        except BaseException as failure:
            self._abort(bucket, key, upload_id, failure)
            raise

    def _abort(self, bucket: str, key: str, upload_id: str, failure: BaseException) -> None:
        """Abort this copy's own upload; a failure to abort is logged, never raised over the first error."""
        try:
            self.s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except Exception as error:  # the original failure is what the caller must see
            log.warning("could not abort the upload of %s after %s: %s", key, type(failure).__name__, error)

    def _upload_parts(
        self, location: _SharedLocation, file: HubFile, bucket: str, key: str, upload_id: str, part_size: int
    ) -> tuple[list[dict[str, Any]], str]:
        """Every part uploaded with its CRC32; the parts list for CompleteMultipartUpload and the file's CRC32."""
        count = -(-file.size // part_size)
        window = self.settings.max_in_flight
        verifier = _Verifier(file)
        parts: dict[int, dict[str, Any]] = {}
        arrived: dict[int, bytes] = {}
        next_to_hash = next_to_submit = 0

        def transfer(index: int) -> tuple[int, bytes, dict[str, Any]]:
            start = index * part_size
            end = min(file.size, start + part_size) - 1
            data = self._fetch(location, file, start, end)
            crc32 = crc32_text(zlib.crc32(data))
            response = self._s3_call(
                lambda: self.s3.upload_part(
                    Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=index + 1, Body=data, ChecksumCRC32=crc32
                ),
                key,
            )
            return index, data, {"PartNumber": index + 1, "ETag": response["ETag"], "ChecksumCRC32": crc32}

        with ThreadPoolExecutor(max_workers=window, thread_name_prefix="part") as pool:
            running: set[Future[tuple[int, bytes, dict[str, Any]]]] = set()
            try:
                while next_to_hash < count:
                    while next_to_submit < count and next_to_submit < next_to_hash + window:
                        running.add(pool.submit(transfer, next_to_submit))
                        next_to_submit += 1
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        index, data, part = future.result()
                        parts[index] = part
                        arrived[index] = data
                    while next_to_hash in arrived:
                        verifier.update(arrived.pop(next_to_hash))
                        next_to_hash += 1
            except BaseException:
                for future in running:
                    future.cancel()
                raise
        verifier.check()
        return [parts[index] for index in sorted(parts)], crc32_text(verifier.crc32)

    def _s3_call(self, call: Callable[[], Any], key: str) -> Any:
        def attempt() -> Any:
            try:
                return call()
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code in _S3_TRANSIENT:
                    raise TransientError(f"S3 {code} on {key}") from error
                raise

        return with_retries(attempt, self.retry, f"s3 {key}")


class _SharedLocation:
    """The file's signed URL, shared by all part workers; the first worker to see it expire resolves it again.
    A small file served by the Hub itself arrives with the resolve response, which is handed out once."""

    def __init__(self, resolve: Callable[[], tuple[FileLocation, Response | None]]) -> None:
        self._resolve = resolve
        self._lock = threading.Lock()
        self._location: FileLocation | None = None
        self._served: Response | None = None

    def get(self) -> tuple[FileLocation, Response | None]:
        with self._lock:
            if self._location is None:
                self._location, self._served = self._resolve()
            served, self._served = self._served, None
            return self._location, served

    def refresh(self, seen: FileLocation) -> None:
        with self._lock:
            if self._location is seen:
                self._location = None


def _check_served_size(file: HubFile, response: Answer, location: FileLocation) -> None:
    """The size the server says the file has (Content-Range total; a 200's length) is the listed size."""
    if response.status in (206, 416):
        served = ContentRange.parse(response.header("content-range"))
        size = served.total if served else None
    elif response.status == 200:
        size = _content_length(response)
    else:
        return
    if size is not None and size != file.size:
        raise SizeMismatchError(
            f"{file.path}: the Hub lists {file.size} bytes but {urlsplit(location.url).netloc} serves {size} bytes: "
            "the listing and the file disagree; not retried (list the revision again, or report it to the repo)"
        )


def _check_range(file: HubFile, response: OpenResponse, start: int, end: int) -> None:
    served = ContentRange.parse(response.header("content-range"))
    length = response.content_length
    if served is None or (served.first, served.last) != (start, end) or length not in (None, end - start + 1):
        said = response.header("content-range") or "no Content-Range"
        raise CopyError(
            f"{file.path}: asked for bytes {start}-{end}, the server answered 206 with {said} and "
            f"{length if length is not None else 'no'} Content-Length: not read"
        )


def _range_ignored(file: HubFile, location: FileLocation, start: int, end: int) -> RangeIgnoredError:
    return RangeIgnoredError(
        f"{file.path}: {urlsplit(location.url).netloc} ignored the Range header (answered 200 with the whole "
        f"{file.size}-byte file to a request for bytes {start}-{end}): a file over one part needs a server that "
        "serves byte ranges; not read, not retried (check HF_ENDPOINT or the proxy in between)"
    )


def _content_length(response: Answer) -> int | None:
    value = response.header("content-length")
    return int(value) if value is not None and value.strip().isdigit() else None
