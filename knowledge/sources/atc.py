"""WHO ATC/DDD index (non-commercial, unmodified): level-5 substances with their codes and defined daily doses."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from knowledge.sources.catalog import source
from knowledge.sources.records import AtcEntry


def load_entries() -> Iterator[AtcEntry]:
    with open(source("who_atc").path / "WHO ATC-DDD 2026-04-25.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if len(r["atc_code"]) != 7:
                continue
            try:
                ddd = float(r["ddd"]) if r["ddd"] not in ("", "NA") else None
            except ValueError:
                ddd = None
            yield AtcEntry(
                r["atc_code"],
                r["atc_name"].strip(),
                ddd,
                "" if r["uom"] == "NA" else r["uom"],
                "" if r["adm_r"] == "NA" else r["adm_r"],
            )
