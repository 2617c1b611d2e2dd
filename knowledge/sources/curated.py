"""The project's own curated tables (knowledge/data/curated/): drug classes, brand and synonym names, and class
rules that fill well-established gaps of the other sources, each quoting the public-domain label text it rests on."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from knowledge.models import Severity
from knowledge.sources.catalog import source
from knowledge.sources.records import ClassDef, NameRecord, PairRecord


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split("|") if v.strip())


def load_classes() -> list[ClassDef]:
    with open(source("rxlens_curated").path / "classes.csv", encoding="utf-8") as f:
        return [
            ClassDef(
                class_id=r["class_id"],
                name_en=r["name_en"],
                name_zh=r["name_zh"],
                aliases_en=_split(r["aliases_en"]),
                aliases_zh=_split(r["aliases_zh"]),
                atc_prefixes=_split(r["atc_prefixes"]),
                members=_split(r["members"]),
                includes=_split(r["includes"]),
            )
            for r in csv.DictReader(f)
        ]


def load_names() -> Iterator[NameRecord]:
    with open(source("rxlens_curated").path / "names.csv", encoding="utf-8") as f:
        for i, r in enumerate(csv.DictReader(f), start=2):
            yield NameRecord(
                name=r["name"],
                lang=r["lang"],
                kind=r["kind"],
                targets=tuple(f"name:{t}" for t in _split(r["targets"])),
                source="rxlens_curated",
                record=f"names.csv:{i}",
            )


def zh_not_names() -> set[str]:
    """Words some source gives as a Chinese drug name that are everyday words or fragments (活性, 白金, 碳酸)."""
    with open(source("rxlens_curated").path / "zh_not_names.csv", encoding="utf-8") as f:
        return {r["name"] for r in csv.DictReader(f)}


def load_class_rules() -> Iterator[PairRecord]:
    path = source("rxlens_curated").path / "class_rules.csv"
    if not path.exists():
        return
    with open(path, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            refs = []
            for side in (r["a"], r["b"]):
                refs.append(side if side.startswith("class:") else f"name:{side}")
            yield PairRecord(
                a=refs[0],
                b=refs[1],
                severity=Severity(r["severity"]),
                severity_word=r["severity"],
                source="rxlens_curated",
                record=f"{r['rule_id']} ({r['label_drug']} label, {r['label_section']})",
                summary=r["summary"],
                mechanism=r["mechanism"],
                management=r["management"],
                summary_zh=r.get("summary_zh", ""),
                management_zh=r.get("management_zh", ""),
            )


def load_class_rule_quotes() -> Iterator[dict[str, str]]:
    """The rows of class_rules.csv, for the passages that cite each rule's label quote."""
    path = source("rxlens_curated").path / "class_rules.csv"
    if path.exists():
        with open(path, encoding="utf-8") as f:
            yield from csv.DictReader(f)
