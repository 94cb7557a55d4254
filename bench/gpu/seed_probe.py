"""Independent timing with the real openai client: TTFT (first chunk with text), E2E, ITL, output tokens (server
usage), prompt tokens (server usage), closed loop at a given concurrency. seed mode: same (seed=0 for every request),
per-request (seed=i), none. Prints one JSON line of medians and means."""
import json, statistics, sys, threading, time
from openai import OpenAI

url, conc, n, out_tokens, seed_mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
words = int(sys.argv[6]) if len(sys.argv) > 6 else 80
client = OpenAI(base_url=url + "/v1", api_key="none")
prompt = " ".join(f"word{i} alpha beta" for i in range(words))
rows, lock, left = [], threading.Lock(), [n]

def worker():
    while True:
        with lock:
            if left[0] == 0:
                return
            left[0] -= 1
            index = left[0]
        extra = {} if seed_mode == "none" else {"seed": 0 if seed_mode == "same" else index}
        t0 = time.perf_counter(); first = last = None; usage = None; chunks = 0
        stream = client.chat.completions.create(model="/tmp/model", messages=[{"role": "user", "content": prompt}],
                                                max_tokens=out_tokens, temperature=0.6, top_p=0.95, stream=True,
                                                stream_options={"include_usage": True}, **extra)
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
            rows.append({"ttft": first - t0, "e2e": e2e, "tokens": k, "chunks": chunks,
                         "prompt_tokens": usage.prompt_tokens if usage else None,
                         "itl": (last - first) / (k - 1) if k > 1 else None})

ts = [threading.Thread(target=worker) for _ in range(conc)]
t0 = time.perf_counter(); [t.start() for t in ts]; [t.join() for t in ts]; wall = time.perf_counter() - t0
med = lambda key: statistics.median(r[key] for r in rows if r[key] is not None)
mean = lambda key: statistics.mean(r[key] for r in rows if r[key] is not None)
print(json.dumps({"client": "openai-probe", "seed": seed_mode, "concurrency": conc, "requests": len(rows),
                  "prompt_tokens_mean": mean("prompt_tokens"), "ttft_p50": med("ttft"), "ttft_mean": mean("ttft"),
                  "itl_p50": med("itl"), "itl_mean": mean("itl"), "e2e_p50": med("e2e"), "e2e_mean": mean("e2e"),
                  "tokens_mean": mean("tokens"), "chunks_mean": mean("chunks"),
                  "output_tok_per_s": sum(r["tokens"] for r in rows) / wall}))
