#!/usr/bin/env python3
"""A short-text proxy for sentiment: one sentence per IMDB review, labelled by the review.

    python3 scripts/imdb_sentences.py ../shared/data/aclImdb/train last > imdb-last-sentence.csv
    python3 scripts/imdb_sentences.py ../shared/data/aclImdb/train first > imdb-first-sentence.csv

Writes a two-column CSV (text,label) with the first or last sentence of at least MIN_WORDS words
of every review in the class folders (pos, neg). This is NOT a set of sentence-level labels: the
label is the whole review's, and many such sentences carry no opinion of their own ("I saw it on
DVD last week."), so nobody can reach 100% on it and its ceiling is unknown. It only checks that
the classifier's defaults still train and work on inputs of one sentence (about 20 tokens instead
of 230). Sentences are split with a simple rule (., ! or ? followed by a space), after removing
the <br /> tags of the IMDB files.
"""
import csv
import os
import re
import sys

MIN_WORDS = 4


def sentences(text):
    text = re.sub(r"<br\s*/?>", " ", text)
    parts = re.split(r"(?<=[.!?])\s+", text.strip())
    return [p.strip() for p in parts if len(p.split()) >= MIN_WORDS]


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("first", "last"):
        sys.exit("usage: imdb_sentences.py ACLIMDB_TRAIN first|last")
    root, which = sys.argv[1], sys.argv[2]
    writer = csv.writer(sys.stdout)
    writer.writerow(["text", "label"])
    for label in ("neg", "pos"):
        folder = os.path.join(root, label)
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                found = sentences(handle.read())
            if found:
                writer.writerow([found[0] if which == "first" else found[-1], label])


if __name__ == "__main__":
    main()
