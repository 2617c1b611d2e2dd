"""DrugBank open vocabulary (CC0): DrugBank ids, English common names and synonyms."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator

from knowledge.sources.catalog import source
from knowledge.sources.records import VocabDrug


def load_vocabulary() -> Iterator[VocabDrug]:
    path = source("drugbank_vocabulary").path / "drugbank_vocabulary.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            synonyms = tuple(s.strip() for s in row["Synonyms"].split(" | ") if s.strip())
            yield VocabDrug(
                row["DrugBank ID"], row["Common name"].strip(), synonyms, is_salt="DBSALT" in row["Accession Numbers"]
            )
