"""Join each client's requests with the wire clock's record of the same request, and compare the clients.

For every run (windows.jsonl) the wire records inside its time window with the run's seeds and max_tokens are its
requests (a seed that appears twice, a warm-up and then the measured request, is the later one). Prints, per
client and concurrency: medians of TTFT, ITL and E2E as the client saw them and as the wire saw them, and the
client's excess over the wire per request (median and 90th percentile); then bench against the probe, pooled.

    python3 bench/gpu/wire_clock_report.py OUT
"""

from __future__ import annotations

import csv
import json
import statistics
import sys
from pathlib import Path

OUTPUT_TOKENS = 128


def client_rows(out: Path, window: dict) -> list[dict]:
    """index, ttft_s, itl_s, e2e_s as the client measured them."""
    name = window["run"]
    if window["client"] == "probe":
        rows = [json.loads(line) for line in (out / f"{name}.jsonl").read_text().splitlines()]
        return [{"index": r["index"], "ttft_s": r["ttft"], "itl_s": r["itl"], "e2e_s": r["e2e"]} for r in rows]
    with (out / f"{name}.csv").open() as handle:
        rows = [r for r in csv.DictReader(handle) if not r["error"]]
    return [
        {"index": int(r["index"]), "ttft_s": float(r["ttft_s"]), "itl_s": float(r["itl_s"]),
         "e2e_s": float(r["e2e_latency_s"])}
        for r in rows
    ]


def wire_rows(wire: list[dict], window: dict) -> dict[int, dict]:
    """The wire's records of a run's measured requests by seed (= index: the workload's seed is 0)."""
    inside = [w for w in wire if window["started"] <= w["sent_wall"] <= window["ended"]]
    by_seed: dict[int, dict] = {}
    for record in sorted(inside, key=lambda w: w["sent"]):
        if record.get("max_tokens") == OUTPUT_TOKENS and record.get("seed") is not None and "ttft_s" in record:
            by_seed[record["seed"]] = record  # the later one wins: a warm-up with the same seed came first
    return by_seed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def main() -> int:
    out = Path(sys.argv[1])
    windows = [json.loads(line) for line in (out / "windows.jsonl").read_text().splitlines()]
    wire = [json.loads(line) for line in (out / "wire.jsonl").read_text().splitlines()]
    joined: dict[tuple[str, int], list[tuple[dict, dict]]] = {}
    print(f"{'run':18} {'n':>3}   TTFT ms client/wire   ITL ms client/wire   E2E s client/wire   TTFT excess ms p50/p90")
    for window in windows:
        if window["rc"]:
            print(f"{window['run']}: rc={window['rc']} {window.get('stderr', '')[-300:]}")
            continue
        by_seed = wire_rows(wire, window)
        pairs = [(row, by_seed[row["index"]]) for row in client_rows(out, window) if row["index"] in by_seed]
        joined.setdefault((window["client"], window["concurrency"]), []).extend(pairs)
        print(line(window["run"], pairs))
    print()
    for concurrency in sorted({c for _, c in joined}):
        for client in ("bench", "probe"):
            print(line(f"{client} c={concurrency} all", joined.get((client, concurrency), [])))
    print()
    print("bench vs probe, pooled over every round (medians; the wire's own medians of each client's requests):")
    for concurrency in sorted({c for _, c in joined}):
        bench, probe = joined.get(("bench", concurrency), []), joined.get(("probe", concurrency), [])
        for metric, scale, unit in (("ttft_s", 1e3, "ms"), ("itl_s", 1e3, "ms"), ("e2e_s", 1, "s")):
            b = statistics.median(c[metric] for c, _ in bench) * scale
            p = statistics.median(c[metric] for c, _ in probe) * scale
            bw = statistics.median(w[metric] for _, w in bench) * scale
            pw = statistics.median(w[metric] for _, w in probe) * scale
            excess_b = statistics.median(c[metric] - w[metric] for c, w in bench) * scale
            excess_p = statistics.median(c[metric] - w[metric] for c, w in probe) * scale
            print(
                f"c={concurrency} {metric:7} bench {b:8.3f} {unit} probe {p:8.3f} {unit} ({(b - p) / p:+.1%});"
                f" wire under them {bw:8.3f} / {pw:8.3f} {unit}; client minus wire, median per request:"
                f" bench {excess_b:+.3f} {unit} ({excess_b / bw:+.1%}), probe {excess_p:+.3f} {unit}"
                f" ({excess_p / pw:+.1%})"
            )
    print()
    print("the two clients on the same server behaviour: each request's client figure over the wire's, median;")
    print("their difference is how far bench and the probe would part on identical requests served alike:")
    for concurrency in sorted({c for _, c in joined}):
        bench, probe = joined.get(("bench", concurrency), []), joined.get(("probe", concurrency), [])
        parts = []
        for metric in ("ttft_s", "itl_s", "e2e_s"):
            b = statistics.median(c[metric] / w[metric] for c, w in bench)
            p = statistics.median(c[metric] / w[metric] for c, w in probe)
            parts.append(f"{metric} bench x{b:.4f} probe x{p:.4f} (apart {(b - p) / p:+.1%})")
        print(f"c={concurrency} " + "; ".join(parts))
    return 0


def line(name: str, pairs: list[tuple[dict, dict]]) -> str:
    if not pairs:
        return f"{name:18} no requests joined"
    med = lambda values: statistics.median(values)  # noqa: E731
    ttft = med(c["ttft_s"] for c, _ in pairs) * 1e3, med(w["ttft_s"] for _, w in pairs) * 1e3
    itl = med(c["itl_s"] for c, _ in pairs) * 1e3, med(w["itl_s"] for _, w in pairs) * 1e3
    e2e = med(c["e2e_s"] for c, _ in pairs), med(w["e2e_s"] for _, w in pairs)
    excess = [(c["ttft_s"] - w["ttft_s"]) * 1e3 for c, w in pairs]
    return (
        f"{name:18} {len(pairs):3}   {ttft[0]:7.1f} / {ttft[1]:7.1f}     {itl[0]:6.2f} / {itl[1]:6.2f}"
        f"      {e2e[0]:6.3f} / {e2e[1]:6.3f}     {percentile(excess, 50):+6.2f} / {percentile(excess, 90):+6.2f}"
    )


if __name__ == "__main__":
    sys.exit(main())
