"""How fast moto's S3 server takes parts on its own: the sink of the copy benchmarks, measured without them.

    .venv/bin/python bench/moto_sink.py

16 threads upload distinct 64 MiB parts (two multipart uploads, 2 GiB in all) to moto in its own process, as the
engine does with 8 parts in flight on 2 files; prints one line (quoted in bench/copy_throughput.md).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests" / "lambda"), str(ROOT / "lambda" / "weights_copy")]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from copy_throughput import start_moto  # noqa: E402

PART = 64 * 1024 * 1024
THREADS, PARTS_A_THREAD = 16, 2


def main() -> None:
    moto, endpoint, _ = start_moto()
    try:
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            config=Config(max_pool_connections=32),
        )
        s3.create_bucket(Bucket="sink")
        parts = [os.urandom(PART) for _ in range(THREADS)]
        uploads = [s3.create_multipart_upload(Bucket="sink", Key=f"file{f}")["UploadId"] for f in range(2)]

        def worker(thread: int) -> None:
            file = thread % 2
            for step in range(PARTS_A_THREAD):
                number = (thread // 2) * PARTS_A_THREAD + step + 1
                s3.upload_part(
                    Bucket="sink", Key=f"file{file}", UploadId=uploads[file], PartNumber=number, Body=parts[thread]
                )

        started = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        megabytes = THREADS * PARTS_A_THREAD * PART / 1e6
        print(f"moto alone: {THREADS} concurrent distinct 64 MiB UploadParts, {megabytes:.0f} MB in {seconds:.1f} s = "
              f"{megabytes / seconds:.0f} MB/s")  # fmt: skip
    finally:
        moto.terminate()


if __name__ == "__main__":
    main()
