"""Weights copy benchmark: our engine vs the naive path, on loopback peers (Hub emulator + moto S3).

    .venv/bin/python bench/copy_throughput.py [--shard-mib 1100] [--cap-mbps 10]

Three parts, results in bench/copy_throughput.md:
1. A model shaped like DeepSeek-R1-Distill-Llama-8B (2 safetensors shards, >= 2 GiB in all, + small files) served
   by the emulator with every CDN connection capped (the slow edges in FACTS.md): the engine
   (``python -m weights_copy``) vs ``huggingface_hub.snapshot_download`` with its defaults to disk followed by
   boto3 ``upload_file`` per file; same data, same run. Each side runs in its own process (peak RSS measured).
2. Uncapped: the engine's MB/s as a share of raw parallel range-GETs from the emulator (no S3).
3. A model of the Lambda fan-out: predicted copy time of every catalog model at 60 MB/s a function.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # the catalog import loads aws_cdk
sys.path[:0] = [str(ROOT / "tests" / "lambda"), str(ROOT / "lambda" / "weights_copy"), str(ROOT / "constructs")]

import boto3  # noqa: E402
from emulated_models import MIB, REPO, model_files  # noqa: E402
from hub_emulator import HubEmulator  # noqa: E402

from tgi_sagemaker.model_catalog import MODELS  # noqa: E402

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


def start_moto() -> tuple[subprocess.Popen[bytes], str, Any]:
    """moto's S3 server in its own process (sharing this process's GIL with the emulator would throttle both)."""
    port = free_port()
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    wait_for(endpoint)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")  # fmt: skip
    return moto, endpoint, client


def child_env(hub: HubEmulator, s3_endpoint: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "HF_ENDPOINT": hub.endpoint,
        "HF_HUB_DISABLE_XET": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": s3_endpoint, "PYTHONPATH": str(ROOT / "lambda" / "weights_copy"),
    }  # fmt: skip


def engine(hub: HubEmulator, s3_endpoint: str, bucket: str) -> tuple[float, int]:
    args = [REPO, "--bucket", bucket, "--s3-endpoint-url", s3_endpoint,
            "--part-size-mb", "64", "--max-in-flight", "8", "--parallel-files", "2"]  # fmt: skip
    code = "import sys; from weights_copy.__main__ import main; sys.exit(main(sys.argv[1:]))"
    return run_measured(code, args, child_env(hub, s3_endpoint))


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
    moto, s3_endpoint, s3 = start_moto()
    lines = [
        "# Weights copy throughput",
        "",
        "Command: `.venv/bin/python bench/copy_throughput.py "
        f"--shard-mib {args.shard_mib} --cap-mbps {args.cap_mbps:g}`"
        f" on {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores. Model: {len(files)} files, {total_mb:.0f} MB "
        f"(2 safetensors shards of {args.shard_mib} MiB). Peers on loopback: Hub emulator (tests/lambda, in the "
        "benchmark process), moto S3 server (its own process); each path runs in its own process.",
        "",
    ]
    # 1. capped CDN: engine vs naive
    hub = HubEmulator(cdn_bytes_per_second=args.cap_mbps * 1e6)
    hub.add_repo(REPO, files)
    results = {}
    for name, run in (("engine", engine), ("naive", naive)):
        bucket = f"bench-{name}-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=bucket)
        seconds, rss = run(hub, s3_endpoint, bucket)
        results[name] = (seconds, rss)
        print(f"{name}: {seconds:.1f}s, {total_mb / seconds:.1f} MB/s, peak RSS {rss} MB", flush=True)
    hub.close()
    (engine_s, engine_rss), (naive_s, naive_rss) = results["engine"], results["naive"]
    lines += [
        f"## 1. Every CDN connection capped at {args.cap_mbps:g} MB/s",
        "",
        "| path | seconds | MB/s | peak RSS (MB) |",
        "| --- | --- | --- | --- |",
        f"| engine (`python -m weights_copy`, 64 MiB parts, 8 in flight a file, 2 files at once) | {engine_s:.1f} | "
        f"{total_mb / engine_s:.1f} | {engine_rss} |",
        f"| naive (`snapshot_download` defaults to disk, then `upload_file` per file) | {naive_s:.1f} | "
        f"{total_mb / naive_s:.1f} | {naive_rss} |",
        "",
        f"Engine / naive: **{naive_s / engine_s:.1f}x** faster (goal: >= 5x).",
        "",
    ]
    # 2. uncapped: engine vs raw loopback range GETs
    hub = HubEmulator()
    hub.add_repo(REPO, files)
    ceiling = raw_range_gets(hub, files)
    bucket = f"bench-uncapped-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    uncapped_s, uncapped_rss = engine(hub, s3_endpoint, bucket)
    hub.close()
    moto.terminate()
    uncapped = total_mb / uncapped_s
    print(f"uncapped: engine {uncapped:.1f} MB/s, raw range GETs {ceiling:.1f} MB/s", flush=True)
    lines += [
        "## 2. Uncapped loopback",
        "",
        f"Engine {uncapped:.1f} MB/s (peak RSS {uncapped_rss} MB) vs raw parallel range GETs from the emulator "
        f"(16 connections, no S3) {ceiling:.1f} MB/s: **{100 * uncapped / ceiling:.0f}%**. The engine also hashes "
        "every byte and uploads it to moto on the same 2 cores, which bounds this share on this machine.",
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
    (ROOT / "bench" / "copy_throughput.md").write_text("\n".join(lines))
    print("\n".join(lines))
    print(f"bench process peak RSS (emulator + moto) {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")


if __name__ == "__main__":
    main()
