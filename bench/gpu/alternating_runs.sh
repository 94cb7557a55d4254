#!/bin/bash
# bench and the independent openai client on identical requests, in alternating short runs (A B, B A, A B) so that
# the server's drift and its stalls fall on both clients alike.
set -u
source bench/gpu/start_server.sh
U=http://127.0.0.1:8000; P=642
timeout 120 python3 .gpu/seed_probe.py $U 4 8 64 same > /dev/null   # warm the server
probe() { timeout 150 python3 .gpu/same_requests_probe.py $U $1 $2 128 $P 57 2.78 $OUT/probe_rows.jsonl | tee -a $OUT/probe.jsonl; }
bench() { timeout 200 python3 -c "import sys; from tgi_sagemaker.cli import main; sys.exit(main())" \
    bench --url $U --concurrency $1 --requests $2 --warmup 1 --input-tokens $P --output-tokens 128 --output-spread 0 \
    --out /tmp/bench-$1-$3 > /tmp/bench-$1-$3.out 2>&1 || echo "bench rc=$?"; cp /tmp/bench-$1-$3/requests.csv $OUT/requests-c$1-r$3.csv; }
for round in 1 2 3; do
  for c in 1 4; do
    n=$([ $c = 1 ] && echo 6 || echo 12)
    echo "== round $round c=$c"
    if [ $round = 2 ]; then bench $c $n $round; probe $c $n; else probe $c $n; bench $c $n $round; fi
  done
done
