"""The sink of the copy benchmarks on its own: how long moto's S3 server needs to take a model's shards.

    .venv/bin/python bench/moto_sink.py [--shard-mib 1100] [--part-mib 16]

A client that does nothing else (16 threads, random parts made before the clock starts, payloads unsigned as the
engine sends them) uploads every part of each shard and completes the upload, one shard after the other, into a
fresh moto server in its own process. The time is moto's, and so is nearly all of the CPU (reported from /proc); it
varies from run to run, and a copy with more connections can come in under it. Parts and the final
CompleteMultipartUpload are timed apart: moto assembles the object in memory when the upload completes.

Also the sink's helpers for the other copy benchmarks: ``moto_server``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests" / "lambda"), str(ROOT / "lambda" / "weights_copy")]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import boto3  # noqa: E402
from weights_copy.s3_config import copy_s3_config  # noqa: E402

MIB = 1024 * 1024
THREADS = 16


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, seconds: float = 30) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"moto did not start at {url}")


@contextmanager
def moto_server(connections: int = 10) -> Iterator[tuple[Any, Callable[[], float]]]:
    """A fresh moto S3 server in its own process (sharing the benchmark's GIL with the emulator would throttle both):
    an S3 client configured like the engine's, and a function giving moto's CPU seconds so far."""
    port = free_port()
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"

    def cpu_seconds() -> float:
        fields = Path(f"/proc/{moto.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    try:
        wait_for(endpoint)
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
                              aws_secret_access_key="bench", config=copy_s3_config(connections))  # fmt: skip
        client.endpoint = endpoint
        yield client, cpu_seconds
    finally:
        moto.terminate()
        moto.wait()


@dataclass(frozen=True)
class MotoAlone:
    megabytes: float
    parts_seconds: float
    complete_seconds: float
    moto_cpu_seconds: float

    @property
    def seconds(self) -> float:
        return self.parts_seconds + self.complete_seconds


def measure_moto_alone(shard_sizes: list[int], part_size: int) -> MotoAlone:
    distinct = [os.urandom(part_size) for _ in range(THREADS)]
    parts_seconds = complete_seconds = 0.0
    with moto_server(connections=THREADS) as (s3, moto_cpu):
        s3.create_bucket(Bucket="sink")
        cpu_before = moto_cpu()
        for index, size in enumerate(shard_sizes):
            key = f"shard{index}"
            count = -(-size // part_size)
            upload = s3.create_multipart_upload(Bucket="sink", Key=key)["UploadId"]
            etags: dict[int, str] = {}

            def worker(first: int, key: str = key, count: int = count, size: int = size, upload: str = upload,
                       etags: dict[int, str] = etags) -> None:  # fmt: skip
                for number in range(first, count, THREADS):
                    body = distinct[number % THREADS][: min(part_size, size - number * part_size)]
                    etags[number + 1] = s3.upload_part(
                        Bucket="sink", Key=key, UploadId=upload, PartNumber=number + 1, Body=body
                    )["ETag"]

            started = time.perf_counter()
            threads = [threading.Thread(target=worker, args=(first,)) for first in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            uploaded = time.perf_counter()
            parts = [{"PartNumber": number, "ETag": etag} for number, etag in sorted(etags.items())]
            s3.complete_multipart_upload(Bucket="sink", Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
            parts_seconds += uploaded - started
            complete_seconds += time.perf_counter() - uploaded
        cpu = moto_cpu() - cpu_before
    return MotoAlone(sum(shard_sizes) / 1e6, parts_seconds, complete_seconds, cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shard-mib", type=int, default=1100)
    parser.add_argument("--part-mib", type=int, default=16)
    args = parser.parse_args()
    alone = measure_moto_alone([args.shard_mib * MIB] * 2, args.part_mib * MIB)
    print(
        f"moto alone: 2 shards of {args.shard_mib} MiB in {args.part_mib} MiB parts, {THREADS} threads: "
        f"{alone.seconds:.1f} s ({alone.parts_seconds:.1f} s parts + {alone.complete_seconds:.1f} s completing), "
        f"{alone.megabytes / alone.seconds:.0f} MB/s; moto CPU {alone.moto_cpu_seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
