#!/usr/bin/env python3
"""Models data-parallel throughput on N machines from measured numbers.

A step on one machine (global batch B) takes t1 seconds. On N machines each computes B/N rows,
then the gradient (G bytes) is summed by a ring all-reduce:

    t_step(N) = t1 / N + 2 (N - 1) * alpha + 2 (N - 1) / N * G / beta

(alpha: per-message latency, beta: link bandwidth in bytes/s). Speedup = t1 / t_step(N).
alpha and beta come from `rnn bench-allreduce` runs at two message sizes over a given link
(e.g. the two network namespaces of scripts/netns-two-hosts.sh): for N = 2 the formula gives
t(G) = 2 alpha + G / beta, so a small message measures alpha and a large one beta.

usage: model-scaling.py CONFIGS.json SMALL_ALLREDUCE.json LARGE_ALLREDUCE.json
  CONFIGS.json: [{"config": name, "t1_seconds": ..., "gradient_bytes": ..., "tokens_per_step": ...}, ...]
  Optional per config: "sent_bytes" (bytes all-reduced per step when only the touched embedding
  rows are sent; default gradient_bytes) and "allreduce_calls" (all-reduces per step, each paying
  the latency; default 1). A config with them gets a second row, "touched rows", in the
  same-global-batch table.
Prints a markdown table for the measured link and for assumed 10 GbE and 1 GbE links.
"""
import json
import sys

configs = json.load(open(sys.argv[1]))
small, large = (json.loads(open(path).read().strip().splitlines()[-1]) for path in sys.argv[2:4])
alpha = small["median_seconds"] / 2
beta = (large["bytes"]) / max(large["median_seconds"] - 2 * alpha, 1e-9)
links = [("measured veth TCP", alpha, beta), ("10 GbE (assumed 1.1 GB/s, 20 µs)", 20e-6, 1.1e9),
         ("1 GbE (assumed 110 MB/s, 50 µs)", 50e-6, 110e6)]
print(f"fitted from the veth runs: alpha = {alpha * 1e6:.1f} µs per message, beta = {beta / 1e9:.2f} GB/s\n")
def allreduce(n, a, b, grad, calls=1):
    return calls * 2 * (n - 1) * a + 2 * (n - 1) / n * grad / b if n > 1 else 0


# Same global batch B (B/N rows per machine, as the 1.8x target is stated), then the same batch
# per machine (global batch N*B: each machine's step keeps t1 of compute).
for title, per_machine in (("global batch B (B/N per machine)", False), ("batch B per machine (global N*B)", True)):
    print(f"\n{title}: training tokens/s (speedup over one machine)\n")
    print("| config | link | " + " | ".join(f"N={n}" for n in (1, 2, 4, 8, 16)) + " |")
    print("|---|---|" + "---|" * 5)
    for config in configs:
        t1, tokens = config["t1_seconds"], config["tokens_per_step"]
        variants = [("", config["gradient_bytes"], 1)]
        # Touched rows only for the same global batch: the ranks' union of touched rows is then
        # the one batch's. With a batch per machine the union grows with N (not modelled).
        if "sent_bytes" in config and not per_machine:
            variants.append((", touched rows", config["sent_bytes"], config.get("allreduce_calls", 1)))
        for name, a, b in links:
            for label, sent, calls in variants:
                cells = []
                for n in (1, 2, 4, 8, 16):
                    step = (t1 if per_machine else t1 / n) + allreduce(n, a, b, sent, calls)
                    rate = tokens * (n if per_machine else 1) / step
                    cells.append(f"{rate / 1000:.1f}k ({rate / (tokens / t1):.1f}×)")
                print(f"| {config['config']}{label} | {name} | " + " | ".join(cells) + " |")
