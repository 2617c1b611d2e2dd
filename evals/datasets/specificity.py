"""The specificity set: pairs prescribed together every day without a clinically significant interaction, each with
the reason they are given together (evals/data/specificity/pairs.csv, hand-written; README in that folder).

`build()` checks the set against the label-sentence pairs and the interaction gold set: a pair that a label
sentence or a gold positive calls an interaction cannot be a "no significant interaction" item.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from evals.datasets import interactions, label_pairs

ROOT = Path(__file__).resolve().parents[2]
PAIRS = ROOT / "evals" / "data" / "specificity" / "pairs.csv"


@dataclass(frozen=True)
class QuietPair:
    id: str
    a: str
    b: str
    why: str


def load(path: Path = PAIRS) -> list[QuietPair]:
    with open(path, encoding="utf-8") as f:
        return [QuietPair(f"sp{i:03d}", r["a"], r["b"], r["why"]) for i, r in enumerate(csv.DictReader(f), 1)]


def build() -> list[QuietPair]:
    pairs = load()
    problems = []
    seen: set[frozenset[str]] = set()
    labelled = {frozenset((p.a, p.b)): p for p in label_pairs.load()}
    gold = {frozenset((p.a, p.b)): p for p in interactions.load() if p.positive}
    for p in pairs:
        key = frozenset((p.a, p.b))
        if p.a == p.b or key in seen:
            problems.append(f"{p.a}+{p.b}: repeated")
        if not p.why.strip():
            problems.append(f"{p.a}+{p.b}: no reason given")
        if key in labelled:
            problems.append(f"{p.a}+{p.b}: a label sentence calls it an interaction ({labelled[key].sentence_id})")
        if key in gold:
            problems.append(f"{p.a}+{p.b}: a gold positive ({gold[key].source})")
        seen.add(key)
    if problems:
        raise SystemExit("specificity pairs that do not check out:\n  " + "\n  ".join(problems))
    return pairs


if __name__ == "__main__":
    print(f"specificity: {len(build())} pairs -> {PAIRS}")
