"""drug-interaction-mcp (MIT): 176 explained rules whose sides are name groups (generics, brands, class words).

Each name in a group resolves on its own (a brand to its generic, a class word to a class); the rule applies to
every resolved pair.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from knowledge.models import Severity
from knowledge.sources.catalog import source
from knowledge.sources.records import PairRecord

SEVERITY = {"danger": Severity.MAJOR, "warning": Severity.MODERATE, "caution": Severity.MINOR}


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
        for a in rule.drug_a:
            for b in rule.drug_b:
                yield PairRecord(
                    a=f"name:{a}",
                    b=f"name:{b}",
                    severity=SEVERITY[rule.severity],
                    severity_word=rule.severity,
                    source="drug_interaction_mcp",
                    record=f"rule {rule.number} ({rule.citation})",
                    summary=rule.description,
                    mechanism=rule.mechanism,
                    management=rule.recommendation,
                )
