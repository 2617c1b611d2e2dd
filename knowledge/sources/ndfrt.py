"""NDF-RT (US VA, public domain) interactions: Critical / Significant, keyed by DrugBank ids."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from knowledge.models import Severity
from knowledge.sources.catalog import source
from knowledge.sources.records import PairRecord

# VA "Critical" interactions are those to avoid; "Significant" need monitoring or adjustment.
SEVERITY = {"Critical": Severity.MAJOR, "Significant": Severity.MODERATE}


def load_pairs() -> Iterator[PairRecord]:
    with open(source("ndfrt").path / "ndfrt_ddi_from_merged_pddi.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            a = r["object_drugbank_uri"].rsplit(":", 1)[-1]
            b = r["precipitant_drugbank_uri"].rsplit(":", 1)[-1]
            label = r["ndfrt_label"].replace(" [VA Drug Interaction]", "")
            yield PairRecord(
                a=f"db:{a}",
                b=f"db:{b}",
                severity=SEVERITY.get(r["severity"], Severity.UNKNOWN),
                severity_word=r["severity"],
                source="ndfrt",
                record=r["ndfrt_uri"].rsplit("/", 1)[-1],
                summary=f"The VA NDF-RT lists {label.lower()} as a {r['severity'].lower()} drug interaction.",
            )
