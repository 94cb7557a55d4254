#!/bin/bash
# bench vs an independent openai client against transformers serve (random R1-distill-1.5B-shaped model), and the
# per-request-seed hypothesis. Results in $OUT.
set -u
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl > /tmp/pip.log 2>&1 || { tail -5 /tmp/pip.log; exit 1; }
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee $OUT/gpu.txt
python3 .gpu/make_model.py /tmp/model 2>&1 | grep -E "tokenizer check|params" | tee -a $OUT/gpu.txt
python3 -c "import transformers, torch; print('transformers', transformers.__version__, 'torch', torch.__version__)" | tee -a $OUT/gpu.txt
python3 -c "from transformers.cli.transformers import main; main()" serve /tmp/model --host 127.0.0.1 --port 8000 \
  --device cuda:0 --continuous-batching > /tmp/serve.log 2>&1 &
for i in $(seq 180); do curl -s -m 2 http://127.0.0.1:8000/v1/models >/dev/null 2>&1 && break; sleep 1; done
U=http://127.0.0.1:8000
# warm the server (compile, allocator)
timeout 120 python3 .gpu/seed_probe.py $U 2 4 32 same > /dev/null
for c in 1 4; do
  n=$([ $c = 1 ] && echo 10 || echo 16)
  echo "== probe same c=$c"; timeout 200 python3 .gpu/seed_probe.py $U $c $n 128 same | tee -a $OUT/probe.jsonl
done
echo "== probe per-request c=4"; timeout 200 python3 .gpu/seed_probe.py $U 4 16 128 per-request | tee -a $OUT/probe.jsonl
echo "== probe none c=4"; timeout 200 python3 .gpu/seed_probe.py $U 4 16 128 none | tee -a $OUT/probe.jsonl
P=$(python3 -c "import json; print(round(json.loads(open('$OUT/probe.jsonl').readline())['prompt_tokens_mean']))")
echo "probe prompt tokens: $P"
for variant in project project_same_seed; do
  for c in 1 4; do
    n=$([ $c = 1 ] && echo 10 || echo 16)
    [ $variant = project_same_seed ] && [ $c = 1 ] && continue
    echo "== bench $variant c=$c"
    PYTHONPATH=/tmp/site:$PWD/.gpu/$variant timeout 240 python3 -c "import sys; from tgi_sagemaker.cli import main; sys.exit(main())" \
      bench --url $U --concurrency $c --requests $n --warmup 2 --input-tokens $P --output-tokens 128 --output-spread 0 \
      --out /tmp/bench-$variant-$c > /tmp/bench-$variant-$c.out 2>&1; echo "rc=$?"
    tail -25 /tmp/bench-$variant-$c.out | cut -c1-200
    cp /tmp/bench-$variant-$c/summary.json $OUT/summary-$variant-c$c.json 2>/dev/null
  done
done
grep -iE "error|warn|seed" /tmp/serve.log | sort | uniq -c | sort -rn | head -20 > $OUT/serve_notes.txt
