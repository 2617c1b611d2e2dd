"""drug-interaction-mcp (MIT): 176 explained rules whose sides are name groups (generics, brands, class words).

Each name in a group resolves on its own (a brand to its generic, a class word to a class); the rule applies to
every resolved pair. A few rules use a class word wider than the rule holds; `SCOPE` narrows those to the subclass
the rule is about (or drops the word where the rule already names its drugs).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from knowledge.models import Severity
from knowledge.sources.catalog import source
from knowledge.sources.records import PairRecord

SEVERITY = {"danger": Severity.MAJOR, "warning": Severity.MODERATE, "caution": Severity.MINOR}

# rule number -> {class word as the rule writes it: the ref it stands for in that rule, or None to drop it}.
SCOPE: dict[int, dict[str, str | None]] = {
    # Beta-blockers with verapamil or diltiazem: additive AV-node block. Dihydropyridines (amlodipine, nifedipine)
    # do not slow AV conduction; beta-blocker + amlodipine is a standard combination.
    23: {"calcium channel blocker": "class:non_dihydropyridine_ccb"},
    # Macrolides raise the CYP3A4-metabolised statins the rule names (atorvastatin, simvastatin, lovastatin);
    # pravastatin, rosuvastatin and fluvastatin are barely affected.
    29: {"statin": None},
    # Theophylline and tizanidine toxicity come from ciprofloxacin's CYP1A2 inhibition (the rules name the
    # quinolones they mean); moxifloxacin and most others do not inhibit CYP1A2.
    52: {"fluoroquinolone": None},
    53: {"fluoroquinolone": None},
}


def scoped_refs(rule: McpRule, names: tuple[str, ...]) -> list[str]:
    """The refs one side of a rule stands for: each name, with the rule's class words narrowed (`SCOPE`)."""
    scope = SCOPE.get(rule.number, {})
    refs = []
    for name in names:
        ref = scope.get(name.lower(), f"name:{name}")
        if ref is not None:
            refs.append(ref)
    return refs


@dataclass(frozen=True)
class McpRule:
    number: int
    drug_a: tuple[str, ...]
    drug_b: tuple[str, ...]
    severity: str
    description: str
    mechanism: str
    recommendation: str
    citation: str


def load_rules() -> list[McpRule]:
    with open(source("drug_interaction_mcp").path / "interactions.json", encoding="utf-8") as f:
        raw = json.load(f)["interactions"]
    return [
        McpRule(
            i,
            tuple(r["drug_a"]),
            tuple(r["drug_b"]),
            r["severity"],
            r["description"],
            r["mechanism"],
            r["recommendation"],
            r["source"],
        )
        for i, r in enumerate(raw, start=1)
    ]


def load_pairs() -> Iterator[PairRecord]:
    for rule in load_rules():
        for a in scoped_refs(rule, rule.drug_a):
            for b in scoped_refs(rule, rule.drug_b):
                yield PairRecord(
                    a=a,
                    b=b,
                    severity=SEVERITY[rule.severity],
                    severity_word=rule.severity,
                    source="drug_interaction_mcp",
                    record=f"rule {rule.number} ({rule.citation})",
                    summary=rule.description,
                    mechanism=rule.mechanism,
                    management=rule.recommendation,
                )
