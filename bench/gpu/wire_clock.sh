#!/bin/bash
# On the GPU machine, from the repository root with .gpu/ (gpu-serve's files, the wheels, .gpu/project = a copy of
# the library): transformers serve on :8000, then wire_clock_runs.py (bench and the openai probe through the wire
# clock, alternating). Results in $OUT; wire_clock_report.py OUT reads them.
set -u
WAIT_S=240 source bench/gpu/start_server.sh
echo "server up after ${i} s at $(date -u +%T)"
nvidia-smi --query-gpu=name,driver_version,memory.used --format=csv,noheader
timeout $(( ${WIRE_BUDGET_S:-560} - SECONDS )) python3 bench/gpu/wire_clock_runs.py 8000 $OUT ${WIRE_ROUNDS:-3} 642 > $OUT/runs.log 2>&1
echo "runs rc=$? at $(date -u +%T)"; grep '^{' $OUT/runs.log | cut -c1-160
python3 bench/gpu/wire_clock_report.py $OUT || true
cp /tmp/serve.log $OUT/serve.log
cd $OUT && tar czf wire-results.tar.gz --remove-files *.jsonl *.csv *.log  # at most 8 files come back
