#!/usr/bin/env bash
# Synth and test wall-clock times, recorded in bench/synth_times.md.
#   bash bench/synth_times.sh            (from the repository root; takes ~5 minutes)
# "cold" = a fresh clone with no .venv and no node_modules (pip's and npm's download caches as the machine has them),
# so it includes creating the virtualenv and installing every dependency; "warm" = the same clone, second run.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$root" "$work/project"
cd "$work/project"
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20

seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" > "$work/last.log" 2>&1
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.1f}')"
}

cold=$(seconds make synth)
warm1=$(seconds make synth)
warm2=$(seconds make synth)
in_process=$(.venv/bin/python - <<'PY'
import json, time
start = time.perf_counter()
import aws_cdk as cdk
from stacks import add_deployment_stacks
from tgi_sagemaker import load_app
context = json.load(open("cdk.json"))["context"]
raw = context.pop("tgi-sagemaker")
imported = time.perf_counter()
app = cdk.App(outdir="cdk.out.bench", context=context)
add_deployment_stacks(app, load_app(raw))
app.synth()
done = time.perf_counter()
print(f"{done - start:.2f} {done - imported:.2f}")
PY
)
test_seconds=$(seconds make test)
tests_line=$(grep -E "^[0-9]+ passed" "$work/last.log" | tail -1)

cat > "$root/bench/synth_times.md" <<EOF2
# Synth and test times

Command: \`bash bench/synth_times.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB,
Python $(python3 --version | cut -d' ' -f2), Node $(node --version), aws-cdk-lib $(.venv/bin/pip show aws-cdk-lib | awk '/^Version:/ {print $2}').

| what | seconds |
| --- | --- |
| cold \`make synth\` (fresh clone: venv + pip install + npm ci + synth + cfn-lint + nag + plan) | $cold |
| warm \`make synth\` (run 2) | $warm1 |
| warm \`make synth\` (run 3) | $warm2 |
| in-process synth, \`import aws_cdk\` included / synth alone | ${in_process/ / / } |
| full \`make test\` (ruff, mypy, pytest: $tests_line) | $test_seconds |
EOF2
cat "$root/bench/synth_times.md"
