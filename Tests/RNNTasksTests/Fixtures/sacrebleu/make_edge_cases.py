"""Writes edge-cases.bleu.jsonl: corpus BLEU from the real sacreBLEU (2.6.0, defaults) on small
cases the shared Multi30k fixtures do not reach: several references, the closest-length tie,
code points vs canonical equivalence, rstrip before tokenizing, missing 4-grams, no matches,
empty hypotheses, exponential smoothing of zero counts, and 300 random lines of punctuation,
digits, entities, `<skipped>`, Unicode whitespace and combining marks against 300 others.

    python3 -m venv /tmp/sacrebleu-venv && /tmp/sacrebleu-venv/bin/pip install sacrebleu==2.6.0
    /tmp/sacrebleu-venv/bin/python make_edge_cases.py > edge-cases.bleu.jsonl

`references` here is a list of reference streams (the shared fixtures hold one stream as a list
of strings); `line` is sacreBLEU's printed score line.
"""
import json
import random
from sacrebleu.metrics import BLEU
cases = {
 "two-refs": (["the cat sat on the mat today", "a dog barks"],
     [["the cat is on the mat", "a dog is barking loudly"], ["there is a cat on the mat now ok", "the dog barks"]]),
 "closest-length-tie-takes-shorter": (["a b c d e", "one two three four five"],
     [["a b c d e f", "one two three four"], ["a b c d", "one two three four five six"]]),
 "canonical-equivalence-is-not-equality": (["caf\u00e9 is open today , friend"], [["cafe\u0301 is open today , friend"]]),
 "trailing-hyphen-newline-and-space": (["a well-\n", "the end.  \t"], [["a well-", "the end ."]]),
 "too-short-for-4-grams": (["a b c", "d e"], [["a b c", "d e"]]),
 "no-matches": (["x y z w"], [["a b c d"]]),
 "empty-hypothesis-line": (["", "the cat sat on the mat"], [["something here", "the cat sat on the mat"]]),
 "exp-smoothing-zero-3-4": (["a b x c d y e", "p q"], [["a b c d e", "p q"]]),
 "three-refs": (["It is a guide to action which ensures that the military always obeys the commands of the party."],
     [["It is a guide to action that ensures that the military will forever heed Party commands."],
      ["It is the guiding principle which guarantees the military forces always being under the command of the Party."],
      ["It is the practical guide for the army always to heed the directions of the party."]]),
}

def random_lines(seed, count):
    """Lines mixing everything the 13a rules treat specially (no \\n: files split there)."""
    rng = random.Random(seed)
    pieces = list("abcXYZ0123456789.,-'\"&;<>()[]{}!?@#$%^*_+=~`|/\\:") + [
        " ", " ", " ", "\t", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0", "\u2009", "\u2028",
        "\u3000", "\u200b", "\u00e9", "e\u0301", "\u2026", "\u201c", "\u2014", "&quot;", "&amp;", "&lt;",
        "&gt;", "&amp;lt;", "<skipped>", "-", "1.5", "3,000", "word", "the", "a"]
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 40))) for _ in range(count)]

cases["random-punctuation-digits-entities-whitespace"] = (random_lines(1, 300), [random_lines(2, 300)])
for name,(h,r) in cases.items():
    m = BLEU(); s = m.corpus_score(h, r); sig = str(m.get_signature())
    print(json.dumps(dict(name=name, hypotheses=h, references=r, score=s.score, counts=s.counts, totals=s.totals,
      bp=s.bp, sys_len=s.sys_len, ref_len=s.ref_len, precisions=s.precisions, line=str(s), signature=sig), ensure_ascii=False))
