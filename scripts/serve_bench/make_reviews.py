#!/usr/bin/env python3
"""Writes classify request bodies for wrk: one JSON body per line, each one IMDB review cut to
exactly WORDS words (reviews shorter than that are skipped).

Usage: make_reviews.py ACLIMDB_TRAIN COUNT OUT [WORDS=200]
"""
import json
import os
import sys

root, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
words = int(sys.argv[4]) if len(sys.argv) > 4 else 200
bodies = []
pos, neg = (sorted(os.listdir(os.path.join(root, label))) for label in ("pos", "neg"))
for pair in zip(pos, neg):  # alternate positive and negative reviews
    for label, name in zip(("pos", "neg"), pair):
        text = open(os.path.join(root, label, name), encoding="utf-8").read().replace("<br />", " ").split()
        if len(text) >= words and len(bodies) < count:
            bodies.append(json.dumps({"texts": [" ".join(text[:words])]}))
    if len(bodies) == count:
        break
with open(out, "w") as f:
    f.write("\n".join(bodies) + "\n")
print(f"{len(bodies)} bodies of {words} words in {out}")
