"""The ONC high-priority and non-interruptive DDI lists (Phansalkar 2012, 2013): class rules expanded to drugs.

High-priority pairs are ones experts agreed should always interrupt the prescriber; non-interruptive pairs are
real but low-priority interactions.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from knowledge.models import Severity
from knowledge.sources.catalog import source
from knowledge.sources.records import PairRecord

LISTS = {
    "ONC_high_priority": ("onc_high_priority", Severity.MAJOR, "high priority"),
    "ONC_non_interruptive": ("onc_non_interruptive", Severity.MINOR, "non-interruptive"),
}


def load_pairs() -> Iterator[PairRecord]:
    with open(source("onc_high_priority").path / "onc_ddi_pairs_expanded.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if not r["object_drug"] or not r["precipitant_drug"]:
                continue  # rule 21 (QT + QT) has no drug list
            name, severity, word = LISTS[r["list"]]
            yield PairRecord(
                a=f"name:{r['object_drug']}",
                b=f"name:{r['precipitant_drug']}",
                severity=severity,
                severity_word=word,
                source=name,
                record=f"rule {r['rule_id']}",
                summary=(
                    f"{r['object_class'] or r['object_drug']} with {r['precipitant_class'] or r['precipitant_drug']}: "
                    f"on the ONC {word} drug-interaction list."
                ),
            )
