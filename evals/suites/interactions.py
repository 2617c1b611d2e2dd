"""Interaction checking: sensitivity, specificity and severity agreement on three sets.

- The curated gold set (evals/data/interactions): each pair checked twice, as its English and as its Chinese
  names (brands and class words where the item is asked that way).
- The label-sentence set (evals/data/label_pairs): pairs with a side in ATC groups C, G, J, M, N, S, each labelled
  from a US label sentence, not from our knowledge base; checked by INN. Its `label_unsafe_none_share` (label says
  avoid or contraindicated, engine finds nothing) must be reported and should be 0.
- The specificity set (evals/data/specificity): pairs given together every day without a significant interaction;
  how many the engine grades major, and how many would make the answer "caution".

A pair counts as found when the engine returns any interaction between its two names.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import matplotlib.pyplot as plt
from tqdm import tqdm

from evals.base import EvalResult, Evaluator, Metric
from evals.datasets import interactions as gold
from evals.datasets import label_pairs, specificity

EXPECTED = ("none", "minor", "moderate", "major", "contraindicated")
PREDICTED = ("none", "minor", "unknown", "moderate", "major", "contraindicated")
_LEVEL = {"minor": 0, "moderate": 1, "major": 2, "contraindicated": 3}
_WORSE = ("moderate", "major", "contraindicated")
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
        label_metrics, label_tables, label_failures, label_notes = self._label_pairs(settings)
        quiet_metrics, quiet_failures = self._specificity(settings)
        return EvalResult(
            self.name,
            "sensitivity",
            metrics + label_metrics + quiet_metrics,
            tables=label_tables,
            plots=[plot],
            notes=notes + label_notes,
            failures=label_failures + quiet_failures + failures,
        )

    def _top(self, a: str, b: str) -> tuple[str, list[dict[str, Any]], bool]:
        result = self.ctx.components.engine.check([a, b])
        found = result.interactions
        top = max(found, key=lambda i: i.severity.rank).severity.value if found else "none"
        return top, [i.to_json() for i in found], result.all_recognized

    def _label_pairs(self, settings: dict[str, Any]) -> tuple[list[Metric], list[str], list[dict[str, Any]], list[str]]:
        pairs = label_pairs.load()
        if self.ctx.quick:
            pairs = pairs[::6]
        dataset = "evals/data/label_pairs/pairs.jsonl"
        rows = [(p, *self._top(p.a, p.b)) for p in tqdm(pairs, desc="label pairs", unit="pair")]
        found = [r for r in rows if r[1] != "none"]
        graded = [r for r in found if r[1] in _LEVEL]
        severe = [r for r in rows if r[0].severity in ("major", "contraindicated")]
        unsafe = [r for r in severe if r[1] == "none"]

        def m(name: str, num: int, rows_: list[Any], better: bool = True) -> Metric:
            return Metric(name, num / max(1, len(rows_)), dataset, len(rows_), {**settings, "languages": "en"}, better)

        metrics = [
            m("label_sensitivity", len(found), rows),
            m("label_sensitivity_moderate_or_worse", sum(1 for r in found if r[1] in _WORSE), rows),
            m("label_severity_exact", sum(1 for r in found if r[1] == r[0].severity), found),
            m(
                "label_severity_within_one",
                sum(1 for r in graded if abs(_LEVEL[r[1]] - _LEVEL[r[0].severity]) <= 1),
                found,
            ),
            m("label_unsafe_none_share", len(unsafe), severe, False),
            m(
                "label_unsafe_none_share_copied",
                sum(1 for r in unsafe if not r[0].from_memory),
                [r for r in severe if not r[0].from_memory],
                False,
            ),
            m("label_names_recognized", sum(1 for r in rows if r[3]), rows),
        ]
        for origin, sub in (
            ("copied", [r for r in rows if not r[0].from_memory]),
            ("from_memory", [r for r in rows if r[0].from_memory]),
        ):
            metrics.append(m(f"label_sensitivity_{origin}", sum(1 for r in sub if r[1] != "none"), sub))
        for group in label_pairs.GROUPS:
            sub = [r for r in rows if group in r[0].groups]
            metrics.append(m(f"label_sensitivity_group_{group}", sum(1 for r in sub if r[1] != "none"), sub))
        for level in label_pairs.SEVERITIES:
            sub = [r for r in rows if r[0].severity == level]
            metrics.append(m(f"label_sensitivity_{level}", sum(1 for r in sub if r[1] != "none"), sub))
        counts = Counter((r[0].severity, r[1]) for r in rows)
        table = [
            "Label-sentence pairs: label verdict (rows) vs engine severity (columns)",
            "",
            "| label \\ engine | " + " | ".join(PREDICTED) + " |",
            "|---|" + "---|" * len(PREDICTED),
        ]
        table += [
            f"| {e} | " + " | ".join(str(counts[(e, p)]) for p in PREDICTED) + " |" for e in label_pairs.SEVERITIES
        ]
        failures = [
            {
                "set": "label_pairs",
                "pair": f"{r[0].a}+{r[0].b}",
                "expected": r[0].severity,
                "got": r[1],
                "unsafe": r in unsafe,
                "sentence": r[0].sentence_id,
                "source": r[0].source,
            }
            for r in sorted(rows, key=lambda r: r not in unsafe)
            if r[1] != r[0].severity
        ]
        notes = [
            "Label-sentence pairs are labelled from a US label sentence (evals/data/label_pairs/README.md); "
            f"{sum(1 for r in rows if r[0].from_memory)} of {len(rows)} come from labels quoted from memory "
            "(`label_sensitivity_from_memory`). `label_unsafe_none_share`: label says avoid or contraindicated "
            f"and the engine finds nothing ({len(unsafe)} pairs: "
            + (", ".join(f"{r[0].a}+{r[0].b}" for r in unsafe[:20]) or "none")
            + ")."
        ]
        unresolved = label_pairs.unresolved(pairs, self.ctx.components.lexicon)
        if unresolved:
            notes.append("Label-pair names the lexicon does not resolve as intended: " + "; ".join(unresolved))
        return metrics, ["\n".join(table)], failures, notes

    def _specificity(self, settings: dict[str, Any]) -> tuple[list[Metric], list[dict[str, Any]]]:
        pairs = specificity.load()
        if self.ctx.quick:
            pairs = pairs[::3]
        dataset = "evals/data/specificity/pairs.csv"
        rows = [(p, *self._top(p.a, p.b)) for p in tqdm(pairs, desc="specificity", unit="pair")]

        chain = self.ctx.components.chain

        def caution(pair: Any) -> bool:
            # What the user is told: the product's own verdict for "Can I take A with B?" (the assessment decides
            # which findings are reason for caution; a minor or passive line is not).
            verdict = chain.ask(f"Can I take {pair.a} with {pair.b}?").verdict.value
            return verdict in ("caution", "avoid")

        def m(name: str, num: int) -> Metric:
            return Metric(name, num / max(1, len(rows)), dataset, len(rows), {**settings, "languages": "en"}, False)

        metrics = [
            m("quiet_major_or_worse", sum(1 for r in rows if r[1] in ("major", "contraindicated"))),
            m("quiet_caution", sum(1 for r in rows if caution(r[0]))),
            m("quiet_moderate_or_worse", sum(1 for r in rows if r[1] in _WORSE)),
            m("quiet_any_finding", sum(1 for r in rows if r[1] != "none")),
        ]
        failures = [
            {
                "set": "specificity",
                "pair": f"{r[0].a}+{r[0].b}",
                "got": r[1],
                "sources": sorted({s["name"] for j in r[2] for s in j.get("sources", [])}),
                "evidence": [j.get("evidence") for j in r[2]],
            }
            for r in rows
            if caution(r[0])
        ]
        return metrics, failures

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
