"""Where the engine's time goes on loopback: thread-seconds fetching parts vs uploading them to moto.

    .venv/bin/python bench/copy_profile.py [--shard-mib 400] [--max-in-flight 8]

Emulator in this process, moto in its own; prints one line (quoted in bench/copy_throughput.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests" / "lambda"), str(ROOT / "lambda" / "weights_copy")]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from emulated_models import MIB, REPO, model_files  # noqa: E402
from hub_emulator import HubEmulator  # noqa: E402
from moto_sink import moto_server  # noqa: E402
from weights_copy.copier import CopySettings, FileCopier  # noqa: E402
from weights_copy.hub import HubApi  # noqa: E402
from weights_copy.snapshot_copy import copy_snapshot  # noqa: E402


class TimedCopier(FileCopier):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.seconds = {"fetch": 0.0, "s3": 0.0}
        self._lock = threading.Lock()

    def _timed(self, phase: str, started: float) -> None:
        with self._lock:
            self.seconds[phase] += time.monotonic() - started

    def _fetch(self, *args):  # type: ignore[no-untyped-def]
        started = time.monotonic()
        try:
            return super()._fetch(*args)
        finally:
            self._timed("fetch", started)

    def _s3_call(self, *args):  # type: ignore[no-untyped-def]
        started = time.monotonic()
        try:
            return super()._s3_call(*args)
        finally:
            self._timed("s3", started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shard-mib", type=int, default=400)
    parser.add_argument("--max-in-flight", type=int, default=8)
    args = parser.parse_args()
    hub = HubEmulator()
    files = model_files(shard_bytes=args.shard_mib * MIB)
    hub.add_repo(REPO, files)
    settings = CopySettings(part_size=64 * MIB, max_in_flight=args.max_in_flight)
    with moto_server(connections=2 * args.max_in_flight) as (s3, _):
        s3.create_bucket(Bucket="bench-profile")
        copier = TimedCopier(HubApi(hub.endpoint), s3, settings)
        started = time.monotonic()
        copy_snapshot(copier, REPO, "main", "bench-profile", parallel_files=2)
        elapsed = time.monotonic() - started
    megabytes = sum(map(len, files.values())) / 1e6
    fetching, in_s3 = copier.seconds["fetch"], copier.seconds["s3"]
    print(
        f"2 x {args.shard_mib} MiB, {args.max_in_flight} in flight a file: {megabytes / elapsed:.0f} MB/s in "
        f"{elapsed:.1f}s; thread-seconds fetching {fetching:.1f}, in S3 calls {in_s3:.1f}"
    )
    hub.close()


if __name__ == "__main__":
    main()
