#!/bin/bash
# On the GPU machine, from the repository root with .gpu/ (gpu-serve's files, the wheels, .gpu/project = a copy of
# the library): transformers serve on :8000, then wire_clock_runs.py (bench and the openai probe through the wire
# clock, alternating). Results in $OUT; wire_clock_report.py OUT reads them.
set -u
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl > /tmp/pip.log 2>&1 || { tail -5 /tmp/pip.log; exit 1; }
export PYTHONPATH=/tmp/site:$PWD/.gpu/project PYTHONUNBUFFERED=1
python3 .gpu/make_model.py /tmp/model 2>&1 | grep -E "params"
python3 -c "from transformers.cli.transformers import main; main()" serve /tmp/model --host 127.0.0.1 --port 8000 \
  --device cuda:0 --continuous-batching > /tmp/serve.log 2>&1 &
for i in $(seq 240); do curl -s -m 2 http://127.0.0.1:8000/v1/chat/completions -H 'content-type: application/json' -d '{"messages":[{"role":"user","content":"hi"}],"max_tokens":2}' >/dev/null 2>&1 && break; sleep 1; done
echo "server up after ${i} s at $(date -u +%T)"
nvidia-smi --query-gpu=name,driver_version,memory.used --format=csv,noheader
timeout $(( ${WIRE_BUDGET_S:-560} - SECONDS )) python3 bench/gpu/wire_clock_runs.py 8000 $OUT ${WIRE_ROUNDS:-3} 642 > $OUT/runs.log 2>&1
echo "runs rc=$? at $(date -u +%T)"; grep '^{' $OUT/runs.log | cut -c1-160
python3 bench/gpu/wire_clock_report.py $OUT || true
cp /tmp/serve.log $OUT/serve.log
cd $OUT && tar czf wire-results.tar.gz --remove-files *.jsonl *.csv *.log  # at most 8 files come back
