"""How exactly `tgi-sagemaker bench` measures: the real CLI against emulators with known timings.

    .venv/bin/python bench/cli_accuracy.py

The TGI emulator (tests/cli/tgi_emulator.py) sends each token at an absolute time: request read +
TTFT + i x ITL. The CLI runs in its own process through a plain TGI URL, through the SageMaker runtime protocol
(boto3, event-stream framing, fake credentials, loopback endpoint), and through a URL that frames its chat
stream the way vLLM and SGLang do (a role-only chunk at once, a finish chunk and a usage chunk after the last
token: none of them a token), at concurrency 1, 8 and 32. Results in bench/cli_accuracy.md: what the emulator
was set to vs what the CLI reported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "cli"), str(ROOT / "constructs")]

from tgi_emulator import Behaviour, SageMakerRuntimeEmulator, TgiEmulator  # noqa: E402

TTFT_S, ITL_S, TOKENS = 0.25, 0.025, 128  # about a distill on one A10G
LEVELS = {1: 12, 8: 32, 32: 64}  # concurrency: measured requests
SET = {"ttft_s": TTFT_S, "itl_s": ITL_S, "e2e_latency_s": TTFT_S + (TOKENS - 1) * ITL_S}
SET["throughput_tps"] = TOKENS / SET["e2e_latency_s"]
FAKE_AWS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}


def run_cli(target: list[str], concurrency: int, requests: int, out: Path) -> tuple[dict[str, object], float]:
    command = [str(ROOT / ".venv" / "bin" / "tgi-sagemaker"), "bench", *target, "--concurrency", str(concurrency)]
    command += ["--requests", str(requests), "--output-tokens", str(TOKENS + 64), "--output-spread", "0"]
    command += ["--input-tokens", "512", "--warmup", "1", "--out", str(out)]
    started = time.perf_counter()
    this_checkout = {"PYTHONPATH": str(ROOT / "constructs")}  # not whichever copy .venv has installed
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, **FAKE_AWS, **this_checkout})
    (level,) = json.loads((out / "summary.json").read_text())["levels"]
    return level, time.perf_counter() - started


def main() -> None:
    load_before = os.getloadavg()[0]
    behaviour = {"ttft_s": TTFT_S, "itl_s": ITL_S, "output_tokens": TOKENS}
    tgi = TgiEmulator(Behaviour(**behaviour))
    sagemaker = SageMakerRuntimeEmulator(Behaviour(**behaviour))
    openai_style = TgiEmulator(Behaviour(**behaviour, framing="openai"))
    targets = {
        "TGI URL": ["--url", tgi.url],
        "SageMaker runtime": ["--endpoint", "tgi-endpoint:tgi-component", "--endpoint-url", sagemaker.url],
        "OpenAI-style URL": ["--url", openai_style.url],
    }
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, target in targets.items():
            for concurrency, requests in LEVELS.items():
                level, wall = run_cli(target, concurrency, requests, Path(folder) / f"{name}-{concurrency}")
                metrics = level["metrics"]
                assert isinstance(metrics, dict)
                cells = []
                for metric, expected in SET.items():
                    mean, p99 = metrics[metric]["mean"], metrics[metric]["p99"]
                    cells.append(f"{mean:.4g} / {p99:.4g} ({(mean - expected) / expected:+.1%})")
                rows.append(
                    f"| {name} | {concurrency} | {level['succeeded']}/{level['planned']} | {' | '.join(cells)} "
                    f"| {level['requests_per_s']:.2f} | {level['mean_target_input_tokens']:.0f} / "
                    f"{level['mean_input_tokens']:.0f} | {wall:.0f} s |"
                )
                print(rows[-1], flush=True)
    for emulator in (tgi, sagemaker, openai_style):
        emulator.close()
    header = (
        "| transport | concurrency | ok | TTFT s mean / p99 (error) | ITL s | E2E s | tokens/s per request "
        "| requests/s | input tokens target / actual | CLI run |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    set_row = (
        f"Emulator set to: TTFT {TTFT_S} s, ITL {ITL_S} s, {TOKENS} tokens -> E2E {SET['e2e_latency_s']:.3f} s, "
        f"{SET['throughput_tps']:.2f} tokens/s per request."
    )
    report = ROOT / "bench" / "cli_accuracy.md"
    report.write_text(
        "# `tgi-sagemaker bench` accuracy against known timings\n\n"
        "Command: `.venv/bin/python bench/cli_accuracy.py` (2-core machine, emulator and CLI on loopback, the CLI in"
        " its own process; each cell: mean / p99, and the mean's error against the set value; the machine's load"
        f" average was {load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end).\n\n"
        f"{set_row}\n\n{header}\n" + "\n".join(rows) + "\n"
    )
    print(f"wrote {report}")


if __name__ == "__main__":
    main()
