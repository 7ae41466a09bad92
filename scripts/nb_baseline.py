#!/usr/bin/env python3
"""A bag-of-words reference for a text,label CSV: multinomial naive Bayes on lowercased word
unigrams and bigrams (add-1 smoothing), a stratified validation split of FRACTION with SEED.

    python3 scripts/nb_baseline.py imdb-last-sentence.csv [FRACTION] [SEED]

Prints the validation accuracy. Not the split `rnn classify train` draws (a different generator),
but one of the same size: a yardstick for how much the labels of a proxy set can be predicted
from its words at all.
"""
import csv
import math
import random
import re
import sys
from collections import Counter


def features(text):
    words = re.findall(r"[a-z0-9']+|[!?]", text.lower())
    return words + [a + " " + b for a, b in zip(words, words[1:])]


def main():
    path = sys.argv[1]
    fraction = float(sys.argv[2]) if len(sys.argv) > 2 else 0.1
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    by_label = {}
    for row in rows:
        by_label.setdefault(row["label"], []).append(row["text"])
    rng = random.Random(seed)
    train, held = [], []
    for label, texts in sorted(by_label.items()):
        rng.shuffle(texts)
        cut = int(round(len(texts) * fraction))
        held += [(t, label) for t in texts[:cut]]
        train += [(t, label) for t in texts[cut:]]
    counts = {label: Counter() for label in by_label}
    documents = Counter()
    for text, label in train:
        counts[label].update(features(text))
        documents[label] += 1
    vocabulary = set().union(*counts.values())
    totals = {label: sum(c.values()) for label, c in counts.items()}
    def score(text, label):
        s = math.log(documents[label] / len(train))
        for f in features(text):
            if f in vocabulary:
                s += math.log((counts[label][f] + 1) / (totals[label] + len(vocabulary)))
        return s
    correct = sum(max(counts, key=lambda label: score(text, label)) == truth for text, truth in held)
    print(f"naive Bayes (uni+bigrams): validation accuracy {correct / len(held):.4f} on {len(held)} examples")


if __name__ == "__main__":
    main()
