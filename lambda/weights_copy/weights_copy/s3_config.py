"""How the copy talks to S3."""

from __future__ import annotations

import functools

from botocore.config import Config


@functools.cache  # one Config a size: clients made with it can be kept and shared (see handlers.Clients)
def copy_s3_config(connections: int) -> Config:
    """A connection for every part in flight (botocore keeps 10 and drops the rest after each use), and payloads not
    SHA-256 signed: every UploadPart/PutObject carries botocore's CRC32 checksum, which S3 checks, and over HTTPS
    (real S3) botocore already leaves such payloads unsigned. Signing would hash every byte once more, and it only
    happens over plain HTTP, the loopback endpoints of tests and benchmarks."""
    return Config(max_pool_connections=max(10, connections), s3={"payload_signing_enabled": False})
