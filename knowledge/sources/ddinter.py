"""DDInter severity table (CC BY-NC-SA 4.0): pairs with Major/Moderate/Minor/Unknown, joined to DrugBank ids.

DDInter's exports carry no mechanism or management text; the summary says so, and the answer layer tells the
user to ask a pharmacist for the details.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator

from knowledge.models import Severity
from knowledge.sources.catalog import source
from knowledge.sources.records import PairRecord

SEVERITY = {
    "Major": Severity.MAJOR,
    "Moderate": Severity.MODERATE,
    "Minor": Severity.MINOR,
    "Unknown": Severity.UNKNOWN,
}


def load_crosswalk() -> dict[str, str]:
    with open(source("ddinter_crosswalk").path / "ddinter_id_crosswalk.csv", encoding="utf-8") as f:
        return {r["ddinter_id"]: r["drugbank_id"] for r in csv.DictReader(f) if r["drugbank_id"]}


def load_names() -> dict[str, str]:
    """DDInter id -> DDInter's English drug name (used when a DrugBank id is missing from the vocabulary)."""
    names: dict[str, str] = {}
    for path in sorted(source("ddinter").path.glob("ddinter_downloads_code_*.csv.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                names[r["DDInterID_A"]] = r["Drug_A"]
                names[r["DDInterID_B"]] = r["Drug_B"]
    return names


def load_pairs() -> Iterator[PairRecord]:
    crosswalk = load_crosswalk()
    for path in sorted(source("ddinter").path.glob("ddinter_downloads_code_*.csv.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                a = crosswalk.get(r["DDInterID_A"])
                b = crosswalk.get(r["DDInterID_B"])
                ref_a = f"db:{a}" if a else f"name:{r['Drug_A']}"
                ref_b = f"db:{b}" if b else f"name:{r['Drug_B']}"
                level = r["Level"].strip()
                yield PairRecord(
                    a=ref_a,
                    b=ref_b,
                    severity=SEVERITY.get(level, Severity.UNKNOWN),
                    severity_word=level,
                    source="ddinter",
                    record=f"{r['DDInterID_A']}-{r['DDInterID_B']}",
                    summary=f"DDInter lists an interaction between {r['Drug_A']} and {r['Drug_B']} ({level}).",
                )
