"""Interaction checking against the curated gold set: sensitivity, specificity and severity agreement.

Each pair is checked twice, as its English and as its Chinese names (brands and class words where the item is
asked that way). A pair counts as found when the engine returns any interaction between its two names.
"""

from __future__ import annotations

from collections import Counter

import matplotlib.pyplot as plt
from tqdm import tqdm

from evals.base import EvalResult, Evaluator, Metric
from evals.datasets import interactions as gold

EXPECTED = ("none", "minor", "moderate", "major", "contraindicated")
PREDICTED = ("none", "minor", "unknown", "moderate", "major", "contraindicated")
_LEVEL = {"minor": 0, "moderate": 1, "major": 2, "contraindicated": 3}
# Engine sources that are the ONC lists themselves or were written from US label text (the curated rules cite
# it): a find through them is not independent of the gold set.
_SHARED_SOURCES = ("onc_high_priority", "onc_non_interruptive", "rxlens_curated")


class InteractionsEvaluator(Evaluator):
    name = "interactions"
    dataset = "evals/data/interactions/pairs.jsonl"

    def run(self) -> EvalResult:
        pairs = gold.load()
        if self.ctx.quick:
            pairs = pairs[::6]
        engine = self.ctx.components.engine
        rows = []
        for p in tqdm(pairs, desc="interactions", unit="pair"):
            for lang, (a, b) in (("en", (p.ask_a[0], p.ask_b[0])), ("zh", (p.ask_a[1], p.ask_b[1]))):
                result = engine.check([a, b])
                found = result.interactions
                top = max(found, key=lambda i: i.severity.rank).severity.value if found else "none"
                sources = {s.name for i in found for s in i.sources}
                rows.append((p, lang, result.all_recognized, top, sources))
        pos = [r for r in rows if r[0].positive]
        neg = [r for r in rows if not r[0].positive]
        found_pos = [r for r in pos if r[3] != "none"]
        graded = [r for r in found_pos if r[3] in _LEVEL]
        exact = sum(1 for r in found_pos if r[3] == r[0].severity)
        within = sum(1 for r in graded if abs(_LEVEL[r[3]] - _LEVEL[r[0].severity or "minor"]) <= 1)
        shared = sum(1 for r in found_pos if any(s.startswith(_SHARED_SOURCES) for s in r[4]))
        independent = sum(1 for r in found_pos if any(not s.startswith(_SHARED_SOURCES) for s in r[4]))
        settings = {"quick": self.ctx.quick, "languages": "en+zh", "found": "any interaction between the two names"}

        def m(name: str, value: float, size: int, better: bool = True) -> Metric:
            return Metric(name, value, self.dataset, size, settings, better)

        metrics = [
            m("sensitivity", len(found_pos) / max(1, len(pos)), len(pos)),
            m("specificity", sum(1 for r in neg if r[3] == "none") / max(1, len(neg)), len(neg)),
            m(
                "specificity_clinical",  # only moderate or worse counts as a false alarm
                sum(1 for r in neg if r[3] in ("none", "minor", "unknown")) / max(1, len(neg)),
                len(neg),
            ),
            m("severity_exact", exact / max(1, len(found_pos)), len(found_pos)),
            m("severity_within_one", within / max(1, len(found_pos)), len(found_pos)),
            m(
                "missed_major_or_worse",
                sum(1 for r in pos if r[3] == "none" and r[0].severity in ("major", "contraindicated"))
                / max(1, len(pos)),
                len(pos),
                False,
            ),
            m("sensitivity_independent_sources", independent / max(1, len(pos)), len(pos)),
            m("names_recognized", sum(1 for r in rows if r[2]) / max(1, len(rows)), len(rows)),
            m("found_via_label_or_onc_source", shared / max(1, len(found_pos)), len(found_pos), False),
        ]
        for lang in ("en", "zh"):
            sub = [r for r in pos if r[1] == lang]
            metrics.append(m(f"sensitivity_{lang}", sum(1 for r in sub if r[3] != "none") / max(1, len(sub)), len(sub)))
        for kind in ("dailymed", "fda", "onc_high_priority", "onc_non_interruptive"):
            sub = [r for r in pos if r[0].source.startswith(kind)]
            if sub:
                metrics.append(
                    m(f"sensitivity_source_{kind}", sum(1 for r in sub if r[3] != "none") / len(sub), len(sub))
                )
        for asked in ("inn", "brand", "class"):
            sub = [r for r in pos if r[0].asked_as == asked]
            if sub:
                metrics.append(
                    m(f"sensitivity_asked_as_{asked}", sum(1 for r in sub if r[3] != "none") / len(sub), len(sub))
                )
        plot = self._confusion(rows)
        failures = [
            {"pair": f"{r[0].a}+{r[0].b}", "lang": r[1], "expected": r[0].severity or "none", "got": r[3]}
            for r in rows
            if (r[0].severity or "none") != r[3]
        ]
        notes = [
            "`found_via_label_or_onc_source` is the share of found pairs where one of the engine's sources is an ONC "
            "list or the curated rules written from US label text (the gold set's own sources); the rest were found "
            "through DDInter, NDF-RT or drug-interaction-mcp only. Lower means a more independent measurement."
        ]
        return EvalResult(self.name, "sensitivity", metrics, plots=[plot], notes=notes, failures=failures)

    def _confusion(self, rows: list[tuple[gold.Pair, str, bool, str, set[str]]]) -> str:
        counts = Counter(((r[0].severity or "none"), r[3]) for r in rows)
        grid = [[counts[(e, p)] for p in PREDICTED] for e in EXPECTED]
        fig, ax = plt.subplots(figsize=(7, 5))
        ax.imshow(grid, cmap="Blues")
        ax.set_xticks(range(len(PREDICTED)), PREDICTED, rotation=30)
        ax.set_yticks(range(len(EXPECTED)), EXPECTED)
        for i, row in enumerate(grid):
            for j, v in enumerate(row):
                ax.text(j, i, str(v), ha="center", va="center")
        ax.set_xlabel("engine severity")
        ax.set_ylabel("label severity (gold)")
        ax.set_title("Interaction severity: gold vs engine (en + zh)")
        fig.tight_layout()
        name = "severity_confusion.png"
        fig.savefig(self.ctx.out / name, dpi=100)
        plt.close(fig)
        return name
