"""drug-interaction-mcp (MIT): 176 explained rules whose sides are name groups (generics, brands, class words).

Each name in a group resolves on its own (a brand to its generic, a class word to a class); the rule applies to
every resolved pair.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from knowledge.models import Severity
from knowledge.sources.catalog import source
from knowledge.sources.records import PairRecord

SEVERITY = {"danger": Severity.MAJOR, "warning": Severity.MODERATE, "caution": Severity.MINOR}


def load_rules() -> list[dict[str, object]]:
    with open(source("drug_interaction_mcp").path / "interactions.json", encoding="utf-8") as f:
        rules: list[dict[str, object]] = json.load(f)["interactions"]
    return rules


def load_pairs() -> Iterator[PairRecord]:
    for i, rule in enumerate(load_rules(), start=1):
        side_a = [str(n) for n in rule["drug_a"]]  # type: ignore[attr-defined]
        side_b = [str(n) for n in rule["drug_b"]]  # type: ignore[attr-defined]
        word = str(rule["severity"])
        for a in side_a:
            for b in side_b:
                yield PairRecord(
                    a=f"name:{a}",
                    b=f"name:{b}",
                    severity=SEVERITY[word],
                    severity_word=word,
                    source="drug_interaction_mcp",
                    record=f"rule {i} ({rule['source']})",
                    summary=str(rule["description"]),
                    mechanism=str(rule["mechanism"]),
                    management=str(rule["recommendation"]),
                )
