#!/usr/bin/env python3
"""Streams generations from `rnn serve` on STREAMS connections at once for SECONDS seconds and
reports the first-token latency (request sent → first token event read) and the aggregate
tokens per second.

Usage: generate_streams.py URL [STREAMS=8] [SECONDS=30] [MAX_TOKENS=60]
"""
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

url = urllib.parse.urlparse(sys.argv[1])
streams = int(sys.argv[2]) if len(sys.argv) > 2 else 8
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 30
max_tokens = int(sys.argv[4]) if len(sys.argv) > 4 else 60
prompts = ["what do you", "why did the", "how many", "what is the", "i just", "a man walks", "my wife", "did you hear"]
lock = threading.Lock()
first_token, tokens_total, requests, errors = [], [0], [0], [0]
start = time.time()


def worker(index):
    connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)
    rng = random.Random(index)
    while time.time() - start < seconds:
        body = json.dumps({"prompt": rng.choice(prompts), "max_tokens": max_tokens, "temperature": 0.9,
                           "seed": rng.randrange(1 << 30), "stream": True})
        sent = time.perf_counter()
        try:
            connection.request("POST", "/v1/generate", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            if response.status != 200:
                response.read()
                with lock:
                    errors[0] += 1
                continue
            got_first, count = None, 0
            while True:
                line = response.readline()
                if not line:
                    break
                if line.startswith(b"event: token"):
                    count += 1
                    if got_first is None:
                        got_first = time.perf_counter() - sent
            with lock:
                requests[0] += 1
                tokens_total[0] += count
                if got_first is not None:
                    first_token.append(got_first)
        except Exception as error:  # a dropped connection counts as an error, then reconnect
            with lock:
                errors[0] += 1
            connection.close()
            connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)


threads = [threading.Thread(target=worker, args=(i,)) for i in range(streams)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.time() - start
first_token.sort()


def percentile(p):
    return first_token[min(len(first_token) - 1, int(p / 100 * len(first_token)))] * 1000 if first_token else float("nan")


print(f"{streams} streams, {elapsed:.1f} s: {requests[0]} generations, {tokens_total[0]} tokens, "
      f"{tokens_total[0] / elapsed:.0f} tokens/s aggregate, errors {errors[0]}")
print(f"first token: p50 {percentile(50):.1f} ms, p90 {percentile(90):.1f} ms, p99 {percentile(99):.1f} ms")
