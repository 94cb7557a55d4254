"""Independent timing with the real openai client, on exactly the requests the project's bench sends (its planned
prompts, max_tokens, temperature, top_p and per-request seed, from the library's workload planner and the server's
prompt calibration): TTFT from the first chunk with text, ITL, E2E, tokens from the server's usage.
args: URL CONCURRENCY REQUESTS OUTPUT_TOKENS INPUT_TOKENS OVERHEAD TOKENS_PER_WORD ROWS_FILE [WARMUP]
WARMUP: unmeasured requests each thread sends first (8 tokens each), as bench warms up before it measures; the
client's first request pays its own start-up (a connection, lazily built parts: 300-450 ms of TTFT seen on the
GPU machine, results/run4). Default 0, as in runs 1-3."""
import json, statistics, sys, threading, time
from openai import OpenAI
from tgi_sagemaker.cli.bench_workload import PromptCalibration, Workload, plan_requests

url, conc, n, out_tokens, in_tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
calibration = PromptCalibration(overhead_tokens=float(sys.argv[6]), tokens_per_word=float(sys.argv[7]), calibrated=True)
workload = Workload(requests=n, concurrency_levels=(conc,), input_tokens=in_tokens, output_tokens=out_tokens,
                    output_spread=0)
planned = plan_requests(workload, calibration=calibration)
client = OpenAI(base_url=url + "/v1", api_key="none")
rows, lock, queue = [], threading.Lock(), list(reversed(planned))
warmup = int(sys.argv[9]) if len(sys.argv) > 9 else 0
measured_from = []
ready = threading.Barrier(conc, action=lambda: measured_from.append(time.perf_counter()))

def worker():
    for _ in range(warmup):
        for _ in client.chat.completions.create(model="/tmp/model", messages=[{"role": "user", "content": "warm up"}],
                                                max_tokens=8, stream=True):
            pass
    ready.wait()
    while True:
        with lock:
            if not queue:
                return
            request = queue.pop()
        t0 = time.perf_counter(); first = last = None; usage = None; chunks = 0
        stream = client.chat.completions.create(model="/tmp/model", messages=[{"role": "user", "content": request.prompt}],
                                                max_tokens=request.max_new_tokens, temperature=workload.temperature,
                                                top_p=0.95, seed=workload.seed + request.index, stream=True,
                                                stream_options={"include_usage": True})
        for ch in stream:
            now = time.perf_counter()
            if ch.choices and ch.choices[0].delta and ch.choices[0].delta.content:
                chunks += 1
                first = first or now
                last = now
            if ch.usage:
                usage = ch.usage
        e2e = time.perf_counter() - t0
        k = usage.completion_tokens if usage else chunks
        with lock:
            rows.append({"index": request.index, "ttft": first - t0, "e2e": e2e, "tokens": k, "chunks": chunks,
                         "prompt_tokens": usage.prompt_tokens if usage else None,
                         "itl": (last - first) / (k - 1) if k > 1 else None})

ts = [threading.Thread(target=worker) for _ in range(conc)]
[t.start() for t in ts]; [t.join() for t in ts]; wall = time.perf_counter() - measured_from[0]
with open(sys.argv[8], "a") as f:
    for r in sorted(rows, key=lambda r: r["index"]):
        f.write(json.dumps({"concurrency": conc, **r}) + "\n")
med = lambda key: statistics.median(r[key] for r in rows if r[key] is not None)
mean = lambda key: statistics.mean(r[key] for r in rows if r[key] is not None)
print(json.dumps({"client": "openai-probe-same-requests", "concurrency": conc, "requests": len(rows),
                  "prompt_tokens_mean": mean("prompt_tokens"), "ttft_p50": med("ttft"), "ttft_mean": mean("ttft"),
                  "itl_p50": med("itl"), "itl_mean": mean("itl"), "e2e_p50": med("e2e"), "e2e_mean": mean("e2e"),
                  "tokens_mean": mean("tokens"), "output_tok_per_s": sum(r["tokens"] for r in rows) / wall}))
