"""Run from the repository root with .venv/bin/python. Both clients against the emulator (OpenAI framing) whose TTFT and ITL are known: which one reads the truth?"""
import json, subprocess, sys, statistics as st
sys.path.insert(0, "tests/cli")
from tgi_emulator import Behaviour, TgiEmulator
truth = Behaviour(ttft_s=0.100, itl_s=0.030, output_tokens=128, framing="openai")
server = TgiEmulator(truth)
for c, n in ((1, 6), (4, 12)):
    rows = f"/tmp/probecheck/rows-{c}.jsonl"
    out = subprocess.run([sys.executable, "bench/gpu/same_requests_probe.py", server.url, str(c), str(n), "128", "256", "0", "1", rows],
                         capture_output=True, text=True, env={"PYTHONPATH": "constructs", "PATH": "/usr/bin"})
    print("probe", out.stdout.strip() or out.stderr[-2000:])
    bench = subprocess.run([sys.executable, "-m", "tgi_sagemaker.cli", "bench", "--url", server.url, "--concurrency", str(c),
                            "--requests", str(n), "--warmup", "1", "--input-tokens", "256", "--output-tokens", "128",
                            "--output-spread", "0", "--out", f"/tmp/probecheck/bench-{c}"], capture_output=True, text=True,
                           env={"PYTHONPATH": "constructs", "PATH": "/usr/bin", "HOME": "/tmp"})
    s = json.load(open(f"/tmp/probecheck/bench-{c}/summary.json"))["levels"][0]["metrics"]
    print("bench", c, "ttft p50", round(s["ttft_s"]["p50"] * 1000, 1), "itl p50", round(s["itl_s"]["p50"] * 1000, 2), "e2e p50", round(s["e2e_latency_s"]["p50"], 3))
server.close()
