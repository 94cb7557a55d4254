"""The floor of the copy benchmarks: how long moto's S3 server alone needs to take a model's shards.

    .venv/bin/python bench/moto_sink.py [--shard-mib 1100] [--part-mib 16]

A client that does nothing else (16 threads, random parts made before the clock starts, payloads unsigned as the
engine sends them) uploads every part of each shard and completes the upload, one shard after the other, into a
fresh moto server in its own process. No copy into this sink can finish sooner on the same machine, whatever it
fetches from: the time is moto's, and so is nearly all of the CPU (reported from /proc). Parts and the final
CompleteMultipartUpload are timed apart: moto assembles the object in memory when the upload completes.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests" / "lambda"), str(ROOT / "lambda" / "weights_copy")]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

MIB = 1024 * 1024
THREADS = 16


@dataclass(frozen=True)
class SinkFloor:
    megabytes: float
    parts_seconds: float
    complete_seconds: float
    moto_cpu_seconds: float

    @property
    def seconds(self) -> float:
        return self.parts_seconds + self.complete_seconds


def measure_floor(shard_sizes: list[int], part_size: int) -> SinkFloor:
    from copy_throughput import moto_server

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
    return SinkFloor(sum(shard_sizes) / 1e6, parts_seconds, complete_seconds, cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shard-mib", type=int, default=1100)
    parser.add_argument("--part-mib", type=int, default=16)
    args = parser.parse_args()
    floor = measure_floor([args.shard_mib * MIB] * 2, args.part_mib * MIB)
    print(
        f"moto alone: 2 shards of {args.shard_mib} MiB in {args.part_mib} MiB parts, {THREADS} threads: "
        f"{floor.seconds:.1f} s ({floor.parts_seconds:.1f} s parts + {floor.complete_seconds:.1f} s completing), "
        f"{floor.megabytes / floor.seconds:.0f} MB/s; moto CPU {floor.moto_cpu_seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
