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
files = sorted(os.listdir(os.path.join(root, "pos")))[:count] + sorted(os.listdir(os.path.join(root, "neg")))[:count]
for name in files:
    folder = "pos" if len(bodies) % 2 == 0 else "neg"
    path = os.path.join(root, folder, name)
    if not os.path.exists(path):
        path = os.path.join(root, "neg" if folder == "pos" else "pos", name)
    text = open(path, encoding="utf-8").read().replace("<br />", " ").split()
    if len(text) >= words:
        bodies.append(json.dumps({"texts": [" ".join(text[:words])]}))
    if len(bodies) == count:
        break
with open(out, "w") as f:
    f.write("\n".join(bodies) + "\n")
print(f"{len(bodies)} bodies of {words} words in {out}")
