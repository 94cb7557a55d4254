"""The price-performance workflow end to end on emulators: bench two "instances", then report.

    .venv/bin/python bench/price_performance.py

Two TGI emulators (tests/cli/tgi_emulator.py) stand in for two instance types: one faster and dearer by the
hour, one slower and cheaper. Both slow down as requests pile up (the emulator's crude batching model: TTFT and
ITL grow 25 % for each other request in flight on arrival), so the curves bend as a server's would. The real CLI
runs in its own process: `bench` at concurrency 1, 4 and 16 with `--instance` and `--price`, then `report` with
SLOs. The prices are EXAMPLE figures given with --price, not AWS prices; the timings are the emulator's settings,
not a GPU's. What this shows is the workflow and what its outputs look like: bench/price_performance/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "cli"), str(ROOT / "constructs")]

from tgi_emulator import Behaviour, TgiEmulator  # noqa: E402

OUT = ROOT / "bench" / "price_performance"
# label: (instance type, example $/h, TTFT s, ITL s)
TARGETS = {
    "fast": ("ml.g6e.xlarge", "2.00", 0.08, 0.012),
    "slow": ("ml.g5.2xlarge", "1.20", 0.20, 0.030),
}
SLOS = ["--slo", "ttft=0.5", "--slo", "tpot=0.05"]


def cli(*args: str) -> str:
    command = [sys.executable, "-m", "tgi_sagemaker.cli", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "constructs"), "COLUMNS": "160"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    return done.stdout + done.stderr


def main() -> int:
    shutil.rmtree(OUT, ignore_errors=True)
    folders = []
    for label, (instance, usd, ttft, itl) in TARGETS.items():
        emulator = TgiEmulator(Behaviour(ttft_s=ttft, itl_s=itl, output_tokens=64, slowdown_per_request_in_flight=0.25))
        try:
            folder = (OUT / f"bench-{label}").relative_to(ROOT)
            cli(
                "bench", "--url", f"{label}={emulator.url}", "--concurrency", "1,4,16", "--requests", "32",
                "--input-tokens", "256", "--output-tokens", "96", "--output-spread", "0",
                "--percentiles", "50,90,95,99", *SLOS,
                "--instance", f"{label}={instance}", "--price", f"{instance}={usd}", "--out", str(folder),
            )  # fmt: skip
            folders.append(str(folder))
        finally:
            emulator.close()
    print(cli("report", *folders, *SLOS, "--out", str((OUT / "report").relative_to(ROOT))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
