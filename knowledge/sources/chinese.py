"""Chinese names: CMeKG INN pairs and products, CC-CEDICT, Chinese Wikipedia ATC pages, the originator-brand list.

CMeKG's English names contain OCR typos ("mefformin", "lbuprofen"): only English names that DrugBank confirms
are used to link a Chinese name to an ingredient, and for each Chinese name only its best-supported English name.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator

from knowledge.sources.catalog import source
from knowledge.sources.records import NameRecord

# Words in CMeKG's 成份 column that are excipients or noise, never active ingredients.
_NOT_ACTIVE = re.compile(
    r"(辅料|淀粉|滑石|硬脂酸|纤维素|乳糖|蔗糖|糊精|明胶|二氧化|聚|甘露醇|色素|香精|薄膜|包衣|乙醇|水|糖)"
)


def cmekg_inn_pairs() -> Iterator[NameRecord]:
    d = source("cmekg").path
    with open(d / "cmekg_inn_zh_en.csv", encoding="utf-8") as f:
        for i, r in enumerate(csv.DictReader(f), start=2):
            if (
                r["best_for_zh"] == "True"
                and r["en_validated_by_drugbank"] == "True"
                and r["drugbank_id"]
                and not _COMBINATION_NAME.search(r["zh_inn"])
            ):
                yield NameRecord(
                    r["zh_inn"],
                    "zh",
                    "generic",
                    (f"db:{r['drugbank_id']}",),
                    "cmekg",
                    f"cmekg_inn_zh_en.csv:{i}",
                )
    with open(d / "cmekg_inn_en_to_zh_best.csv", encoding="utf-8") as f:
        for i, r in enumerate(csv.DictReader(f), start=2):
            if r["drugbank_id"]:
                yield NameRecord(
                    r["zh_inn_best"],
                    "zh",
                    "generic",
                    (f"db:{r['drugbank_id']}",),
                    "cmekg",
                    f"cmekg_inn_en_to_zh_best.csv:{i}",
                )


def cmekg_products() -> Iterator[dict[str, str]]:
    with gzip.open(source("cmekg").path / "cmekg_drug_products.csv.gz", "rt", encoding="utf-8") as f:
        yield from csv.DictReader(f)


def product_active_candidates(row: dict[str, str]) -> list[str]:
    """Candidate active-ingredient names from a CMeKG product's 成份 column (noise removed)."""
    out = []
    for item in row.get("ingredients(成份)", "").split(" | "):
        item = item.strip()
        if 2 <= len(item) <= 12 and not _NOT_ACTIVE.search(item) and not re.search(r"\d", item):
            out.append(item)
    return out


# 复方 (compound), 复合, and 氨酚/酚 as the paracetamol part of a combination's name (氨酚曲马多, 酚麻美敏).
_COMBINATION_NAME = re.compile(r"复方|复合|氨酚|/")


def looks_combined(row: dict[str, str]) -> bool:
    """A product that says it has several actives (复方, 氨酚曲马多: 氨酚 is the paracetamol part of a combination
    name), whose English name alone (often just "Tramadol") must not make it a single-ingredient product."""
    text = row["zh_name"] + row.get("generic_name_zh(通用名)", "") + row.get("ingredients(成份)", "")
    return bool(_COMBINATION_NAME.search(text))


def cedict_names() -> Iterator[NameRecord]:
    with open(source("cedict").path / "cedict_drug_zh_en.csv", encoding="utf-8") as f:
        for i, r in enumerate(csv.DictReader(f), start=2):
            if r["drugbank_id"]:
                yield NameRecord(
                    r["zh_simplified"],
                    "zh",
                    "synonym",
                    (f"db:{r['drugbank_id']}",),
                    "cedict",
                    f"cedict_drug_zh_en.csv:{i}",
                )


def wikipedia_atc() -> Iterator[tuple[str, str, str]]:
    """(ATC code, Chinese name, English name) for level-5 rows of the C03/C07/C08/C09 pages."""
    with open(source("wikipedia_atc_zh").path / "atc_zh_en_C03_C07_C08_C09.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["level"] == "5":
                yield r["atc_code"], r["name_zh"].strip(), r["name_en"].strip()


def yuanyanyao() -> Iterator[dict[str, str]]:
    with open(source("yuanyanyao").path / "yuanyanyao_drugs.csv", encoding="utf-8") as f:
        yield from csv.DictReader(f)
