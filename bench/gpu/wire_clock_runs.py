"""bench and the independent openai client on identical requests, alternating, both through the wire clock.

Starts wire_clock.py in front of the server, then for each round and concurrency runs the openai probe
(same_requests_probe.py: exactly the requests bench plans) and the project's bench, alternating which goes first,
and notes each run's time window. wire_clock_report.py then joins every client's request with the wire's record
of the same request. Run from the repository root (PYTHONPATH holding the library and, on the GPU machine, the
wheels); results in OUT.

    python3 bench/gpu/wire_clock_runs.py UPSTREAM_PORT OUT [ROUNDS] [INPUT_TOKENS]

A first short bench (not measured) warms the server and finds bench's prompt calibration, which the probe is then
given, so that both send the same prompts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
PROXY_PORT = 8101
PROBE_WARMUP = os.environ.get("WIRE_PROBE_WARMUP", "1")  # unmeasured requests a probe thread sends first
OUTPUT_TOKENS = 128
REQUESTS = {1: int(os.environ.get("WIRE_C1_REQUESTS", 6)), 4: int(os.environ.get("WIRE_C4_REQUESTS", 16))}


def bench_args(url: str, concurrency: int, requests: int, input_tokens: str, folder: str) -> list[str]:
    args = ["-m", "tgi_sagemaker.cli", "bench", "--url", url, "--concurrency", str(concurrency)]
    args += ["--requests", str(requests), "--warmup", "1", "--input-tokens", input_tokens]
    return [*args, "--output-tokens", str(OUTPUT_TOKENS), "--output-spread", "0", "--out", folder]


def calibrate(url: str, input_tokens: str) -> tuple[str, str]:
    subprocess.run([sys.executable, *bench_args(url, 2, 4, input_tokens, "/tmp/wire-warm")], check=True, timeout=300)
    found = json.loads(Path("/tmp/wire-warm/summary.json").read_text())["prompt_calibration"]
    calibration = next(iter(found.values()))
    return str(calibration["overhead_tokens"]), str(calibration["tokens_per_word"])


def main() -> int:
    upstream, out = int(sys.argv[1]), Path(sys.argv[2])
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    input_tokens = sys.argv[4] if len(sys.argv) > 4 else "642"
    out.mkdir(parents=True, exist_ok=True)
    proxy = subprocess.Popen(
        [sys.executable, str(HERE / "wire_clock.py"), str(PROXY_PORT), str(upstream), str(out / "wire.jsonl")]
    )
    url = f"http://127.0.0.1:{PROXY_PORT}"
    time.sleep(1)
    try:
        overhead, per_word = calibrate(url, input_tokens)
        for round_ in range(1, rounds + 1):
            for concurrency, requests in REQUESTS.items():
                order = ("bench", "probe") if round_ % 2 == 0 else ("probe", "bench")
                for client in order:
                    name = f"{client}-c{concurrency}-r{round_}"
                    started = time.time()
                    if client == "probe":
                        args = [str(HERE / "same_requests_probe.py"), url, str(concurrency), str(requests)]
                        args += [str(OUTPUT_TOKENS), input_tokens, overhead, per_word, str(out / f"{name}.jsonl")]
                        args.append(PROBE_WARMUP)
                        done = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300)
                    else:
                        args = bench_args(url, concurrency, requests, input_tokens, f"/tmp/wire-{name}")
                        done = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300)
                        if Path(f"/tmp/wire-{name}/requests.csv").exists():
                            shutil.copy(f"/tmp/wire-{name}/requests.csv", out / f"{name}.csv")
                    window = {"run": name, "client": client, "concurrency": concurrency, "round": round_}
                    window |= {"started": started, "ended": time.time(), "rc": done.returncode}
                    if done.returncode:
                        window["stderr"] = done.stderr[-1500:]
                    with (out / "windows.jsonl").open("a") as log:
                        log.write(json.dumps(window) + "\n")
                    print(json.dumps(window), flush=True)
    finally:
        proxy.terminate()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
