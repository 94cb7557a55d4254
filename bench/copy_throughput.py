"""Weights copy benchmark: our engine vs the naive path, on loopback peers (Hub emulator + moto S3).

    .venv/bin/python bench/copy_throughput.py [--shard-mib 1100] [--cap-mbps 10]

Three parts, results in bench/copy_throughput.md:
1. A model shaped like DeepSeek-R1-Distill-Llama-8B (2 safetensors shards, >= 2 GiB in all, + small files) served
   by the emulator with every CDN connection capped (the slow edges in FACTS.md): the engine
   (``python -m weights_copy``) vs ``huggingface_hub.snapshot_download`` with its defaults to disk followed by
   boto3 ``upload_file`` per file; same data, same run. Each side runs in its own process into a fresh moto (peak
   RSS and the CPU seconds of the path, the emulator and moto measured), after moto alone taking the
   shards from a client that does nothing else (bench/moto_sink.py).
2. Uncapped: the engine's MB/s as a share of raw parallel range-GETs from the emulator (no S3).
3. A model of the Lambda fan-out: predicted copy time of every catalog model at 60 MB/s a function.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # the catalog import loads aws_cdk
sys.path[:0] = [str(ROOT / sub) for sub in ("bench", "tests/lambda", "lambda/weights_copy", "constructs")]

from emulated_models import MIB, REPO, model_files  # noqa: E402
from hub_emulator import HubEmulator  # noqa: E402
from moto_sink import measure_moto_alone, moto_server  # noqa: E402

from tgi_sagemaker.catalog.models import MODELS  # noqa: E402

NAIVE = """
import sys, boto3, time
from pathlib import Path
from huggingface_hub import snapshot_download
repo, bucket, endpoint, cache = sys.argv[1:5]
folder = Path(snapshot_download(repo, cache_dir=cache))
s3 = boto3.client("s3", endpoint_url=endpoint)
for path in sorted(p for p in folder.rglob("*") if p.is_file()):
    s3.upload_file(str(path), bucket, "naive/" + path.relative_to(folder).as_posix())
"""
LAMBDA_MBPS = 60.0  # FACTS.md: ~600 Mbit/s sustained per function, whatever its memory
LAMBDA_START_S = 2.0  # per file: invocation + cold start + resolve, a rough allowance
MAP_CONCURRENCY = 16  # weights.copy_max_concurrency default


# The child reports its own peak RSS at exit: VmHWM of its own address space (ru_maxrss survives exec on Linux and
# would include this large parent's pages).
REPORT_PEAK = (
    "import atexit, sys; atexit.register(lambda: sys.stderr.write('PEAK_RSS_KB=' + next(l.split()[1] for l in "
    "open('/proc/self/status') if l.startswith('VmHWM')) + '\\n'))"
)


def run_measured(code: str, args: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MB) of ``python -c code args``."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", f"{REPORT_PEAK}\n{code}", *args], env=env, capture_output=True, text=True
    )
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"{args[:2]} failed: {result.stderr[-2000:]}")
    peak_kb = int(result.stderr.rsplit("PEAK_RSS_KB=", 1)[1].split()[0])
    return seconds, peak_kb // 1024


def child_env(hub: HubEmulator, s3_endpoint: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "HF_ENDPOINT": hub.endpoint,
        "HF_HUB_DISABLE_XET": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": s3_endpoint, "PYTHONPATH": str(ROOT / "lambda" / "weights_copy"),
    }  # fmt: skip


@dataclass(frozen=True)
class EngineRun:
    part_mib: int
    in_flight: int
    parallel_files: int

    @property
    def args(self) -> list[str]:
        return ["--part-size-mb", str(self.part_mib), "--max-in-flight", str(self.in_flight),
                "--parallel-files", str(self.parallel_files)]  # fmt: skip

    def describe(self) -> str:
        return (f"`python -m weights_copy`, {self.part_mib} MiB parts, {self.in_flight} in flight a file, "
                f"{self.parallel_files} file(s) at once")  # fmt: skip


# The shell's defaults (also the Lambda's part size and parts in flight), and the shape that suits this sink best:
# moto copies every part into fresh memory, which costs it least for parts below glibc's 32 MiB mmap threshold.
ENGINE_RUNS = (EngineRun(64, 8, 2), EngineRun(8, 48, 1))
ALONE_PART_MIB = 8


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss_mb: int
    moto_cpu_seconds: float
    path_cpu_seconds: float
    """The path's own process (the engine or the naive script)."""
    emulator_cpu_seconds: float
    """This process meanwhile: the Hub emulator's threads (the main thread only waits)."""


def measure(path: Callable[[HubEmulator, str, str], tuple[float, int]], hub: HubEmulator, connections: int) -> Measured:
    """One path into a fresh moto: every path starts from the same empty sink."""
    with moto_server(connections) as (s3, moto_cpu):
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=bucket)
        before, times = moto_cpu(), os.times()
        seconds, rss = path(hub, s3.endpoint, bucket)
        after = os.times()
        path_cpu = after.children_user - times.children_user + after.children_system - times.children_system
        emulator_cpu = after.user - times.user + after.system - times.system
        return Measured(seconds, rss, moto_cpu() - before, path_cpu, emulator_cpu)


def cpu(measured: Measured) -> str:
    return f"{measured.path_cpu_seconds:.1f}, {measured.emulator_cpu_seconds:.1f}, {measured.moto_cpu_seconds:.1f}"


def engine(run: EngineRun) -> Callable[[HubEmulator, str, str], tuple[float, int]]:
    def copy(hub: HubEmulator, s3_endpoint: str, bucket: str) -> tuple[float, int]:
        code = "import sys; from weights_copy.__main__ import main; sys.exit(main(sys.argv[1:]))"
        args = [REPO, "--bucket", bucket, "--s3-endpoint-url", s3_endpoint, *run.args]
        return run_measured(code, args, child_env(hub, s3_endpoint))

    return copy


def naive(hub: HubEmulator, s3_endpoint: str, bucket: str) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as cache:
        return run_measured(NAIVE, [REPO, bucket, s3_endpoint, cache], child_env(hub, s3_endpoint))


def raw_range_gets(hub: HubEmulator, files: dict[str, bytes], connections: int = 16) -> float:
    """MB/s of parallel 64 MiB range GETs of the shards straight from the emulator (the ceiling)."""
    from weights_copy.hub import HubApi

    api = HubApi(hub.endpoint)
    snapshot = api.snapshot(REPO, "main")
    ranges = []
    for f in snapshot.files:
        if f.path.endswith(".safetensors"):
            location, _ = api.locate(REPO, snapshot.commit, f.path)
            ranges += [(location, s, min(f.size, s + 64 * MIB) - 1) for s in range(0, f.size, 64 * MIB)]
    started = time.monotonic()
    with ThreadPoolExecutor(connections) as pool:
        total = sum(pool.map(lambda r: len(api.get_range(*r).body), ranges))
    return total / 1e6 / (time.monotonic() - started)


def fan_out_minutes(weights_gb: float, files: int) -> float:
    """Longest-processing-time-first schedule of equal shards over MAP_CONCURRENCY functions at LAMBDA_MBPS."""
    per_file = weights_gb * 1000 / files / LAMBDA_MBPS + LAMBDA_START_S
    workers = [0.0] * min(MAP_CONCURRENCY, files)
    for _ in range(files):
        workers[workers.index(min(workers))] += per_file
    return max(workers) / 60


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shard-mib", type=int, default=1100)
    parser.add_argument("--cap-mbps", type=float, default=10.0)
    args = parser.parse_args()
    files = model_files(shard_bytes=args.shard_mib * MIB)
    total_mb = sum(map(len, files.values())) / 1e6
    shard_sizes = [len(data) for path, data in files.items() if path.endswith(".safetensors")]
    lines = [
        "# Weights copy throughput",
        "",
        "Command: `.venv/bin/python bench/copy_throughput.py "
        f"--shard-mib {args.shard_mib} --cap-mbps {args.cap_mbps:g}`"
        f" on {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores. Model: {len(files)} files, {total_mb:.0f} MB "
        f"(2 safetensors shards of {args.shard_mib} MiB). Peers on loopback: Hub emulator (tests/lambda, in the "
        "benchmark process), a fresh moto S3 server (its own process) for every path; each path runs in its own "
        "process. CPU seconds during each path: the path's own process, the emulator (this process), moto (/proc).",
        "",
    ]
    # 1. capped CDN: engine vs naive, and moto alone (first, while the machine is fresh)
    alone = measure_moto_alone(shard_sizes, ALONE_PART_MIB * MIB)
    print(f"moto alone: {alone}", flush=True)
    hub = HubEmulator(cdn_bytes_per_second=args.cap_mbps * 1e6)
    hub.add_repo(REPO, files)
    engines = []
    for run in ENGINE_RUNS:
        engines.append((run, measure(engine(run), hub, run.in_flight * run.parallel_files)))
        print(f"engine {run}: {engines[-1][1]}", flush=True)
    slow = measure(naive, hub, 10)
    print(f"naive: {slow}", flush=True)
    hub.close()
    best = min(measured.seconds for _, measured in engines)
    lines += [
        f"## 1. Every CDN connection capped at {args.cap_mbps:g} MB/s",
        "",
        "| path | seconds | MB/s | peak RSS (MB) | CPU (s): path, emulator, moto | naive / this |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for run, measured in engines:
        lines.append(
            f"| engine ({run.describe()}) | {measured.seconds:.1f} | {total_mb / measured.seconds:.1f} | "
            f"{measured.peak_rss_mb} | {cpu(measured)} | **{slow.seconds / measured.seconds:.1f}x** |"
        )
    lines += [
        f"| naive (`snapshot_download` defaults to disk, then `upload_file` per file) | {slow.seconds:.1f} | "
        f"{total_mb / slow.seconds:.1f} | {slow.peak_rss_mb} | {cpu(slow)} | 1.0x |",
        f"| moto alone (`bench/moto_sink.py`: the shards' {ALONE_PART_MIB} MiB parts from memory, 16 "
        f"threads, then complete) | {alone.seconds:.1f} | {alone.megabytes / alone.seconds:.1f} | | "
        f"moto {alone.moto_cpu_seconds:.1f} | {slow.seconds / alone.seconds:.1f}x |",
        "",
        f"Best engine / naive: **{slow.seconds / best:.1f}x** (goal: >= 5x). moto alone, fed from memory by a "
        f"client that does nothing else, needs {alone.seconds:.1f} s for the shards ({alone.parts_seconds:.1f} s "
        f"taking parts, {alone.complete_seconds:.1f} s completing), {slow.seconds / alone.seconds:.1f}x below the "
        "naive run's time.",
        "",
    ]
    # 2. uncapped: engine vs raw loopback range GETs
    hub = HubEmulator()
    hub.add_repo(REPO, files)
    ceiling = raw_range_gets(hub, files)
    uncapped = [(run, measure(engine(run), hub, run.in_flight * run.parallel_files)) for run in ENGINE_RUNS]
    hub.close()
    print(f"uncapped: {uncapped}, raw range GETs {ceiling:.1f} MB/s", flush=True)
    lines += [
        "## 2. Uncapped loopback",
        "",
        f"Raw parallel range GETs from the emulator (16 connections, no S3): {ceiling:.1f} MB/s. moto alone above: "
        f"{alone.megabytes / alone.seconds:.0f} MB/s.",
        "",
        "| path | MB/s | share of raw GETs | peak RSS (MB) | CPU (s): path, emulator, moto |",
        "| --- | --- | --- | --- | --- |",
    ]
    for run, measured in uncapped:
        mbps = total_mb / measured.seconds
        lines.append(
            f"| engine ({run.describe()}) | {mbps:.1f} | {100 * mbps / ceiling:.0f}% | {measured.peak_rss_mb} | "
            f"{cpu(measured)} |"
        )
    lines += [
        "",
        f"## 3. Lambda fan-out model ({LAMBDA_MBPS:g} MB/s a function, {MAP_CONCURRENCY} at once, "
        f"{LAMBDA_START_S:g} s start a file, equal shards)",
        "",
        "| model | weights GB | files | predicted minutes |",
        "| --- | --- | --- | --- |",
    ]
    for model in MODELS.values():
        minutes = fan_out_minutes(model.weights_gb, model.weight_files)
        lines.append(f"| {model.short_name} | {model.weights_gb:g} | {model.weight_files} | {minutes:.1f} |")
    r1 = fan_out_minutes(MODELS["deepseek-ai/DeepSeek-R1"].weights_gb, MODELS["deepseek-ai/DeepSeek-R1"].weight_files)
    lines += ["", f"DeepSeek-R1: {r1:.1f} minutes (goal: under 30; CloudFormation's limit is 60).", ""]
    notes = ROOT / "bench" / "copy_throughput.md"
    reading = notes.read_text().split("\n## Reading these numbers", 1)
    if len(reading) == 2:  # the hand-written reading below the measured tables is kept
        lines.append("## Reading these numbers" + reading[1].rstrip("\n"))
    notes.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
