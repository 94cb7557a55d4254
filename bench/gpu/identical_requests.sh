#!/bin/bash
# bench and an independent openai client on IDENTICAL requests (the bench's planned prompts), interleaved.
set -u
source bench/gpu/start_server.sh
U=http://127.0.0.1:8000
timeout 120 python3 .gpu/seed_probe.py $U 2 4 32 same > /dev/null   # warm the server
P=642
for c in 1 4; do
  n=$([ $c = 1 ] && echo 12 || echo 24)
  echo "== probe c=$c"; timeout 200 python3 .gpu/same_requests_probe.py $U $c $n 128 $P 57 2.78 $OUT/probe_rows.jsonl | tee -a $OUT/probe.jsonl
  echo "== bench c=$c"
  timeout 240 python3 -c "import sys; from tgi_sagemaker.cli import main; sys.exit(main())" \
    bench --url $U --concurrency $c --requests $n --warmup 2 --input-tokens $P --output-tokens 128 --output-spread 0 \
    --out /tmp/bench-$c > /tmp/bench-$c.out 2>&1; echo "rc=$?"
  grep -E "calibrated|concurrency $c:" /tmp/bench-$c.out | cut -c1-200
  cp /tmp/bench-$c/summary.json $OUT/summary-c$c.json; cp /tmp/bench-$c/requests.csv $OUT/requests-c$c.csv
done
echo "== probe c=4 again"; timeout 200 python3 .gpu/same_requests_probe.py $U 4 24 128 $P 57 2.78 $OUT/probe_rows_again.jsonl | tee -a $OUT/probe.jsonl
