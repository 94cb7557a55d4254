# Sourced by the GPU scripts (from the repository root on the GPU machine, .gpu/ carried along): installs the wheels
# the GPU image lacks into /tmp/site, makes the random R1-distill-1.5B-shaped model, starts `transformers serve`
# on 127.0.0.1:8000 with continuous batching (log: /tmp/serve.log) and waits up to WAIT_S (default 180) seconds
# for its first answer. Leaves PYTHONPATH with the wheels and the library copy (.gpu/project).
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl > /tmp/pip.log 2>&1 || { tail -5 /tmp/pip.log; exit 1; }
export PYTHONPATH=/tmp/site:$PWD/.gpu/project PYTHONUNBUFFERED=1
python3 .gpu/make_model.py /tmp/model 2>&1 | grep -E "params"
python3 -c "from transformers.cli.transformers import main; main()" serve /tmp/model --host 127.0.0.1 --port 8000 \
  --device cuda:0 --continuous-batching > /tmp/serve.log 2>&1 &
for i in $(seq ${WAIT_S:-180}); do curl -s -m 2 http://127.0.0.1:8000/v1/chat/completions -H 'content-type: application/json' -d '{"messages":[{"role":"user","content":"hi"}],"max_tokens":2}' >/dev/null 2>&1 && break; sleep 1; done
