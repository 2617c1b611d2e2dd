"""Real text for rendered pages, loaded once from knowledge/data (read-only; nothing here is invented except
the product table's strengths and usual doses, which rendered prescriptions and boxes need)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "knowledge" / "data"


@dataclass(frozen=True)
class Drug:
    inn: str  # lower-case English INN
    zh: str  # Chinese generic name
    product_zh: str
    product_en: str
    strength: str
    usual_dose: str
    per_day: int
    unit_form: str  # 片 / 粒 ...


DRUGS: tuple[Drug, ...] = (
    Drug("amlodipine", "氨氯地平", "苯磺酸氨氯地平片", "Amlodipine Besylate Tablets", "5mg", "5mg", 1, "片"),
    Drug("metformin", "二甲双胍", "盐酸二甲双胍片", "Metformin Hydrochloride Tablets", "0.5g", "0.5g", 2, "片"),
    Drug(
        "ibuprofen",
        "布洛芬",
        "布洛芬缓释胶囊",
        "Ibuprofen Sustained Release Capsules",
        "0.3g",
        "0.3g",
        2,
        "粒",
    ),
    Drug("aspirin", "阿司匹林", "阿司匹林肠溶片", "Aspirin Enteric-coated Tablets", "100mg", "100mg", 1, "片"),
    Drug("amoxicillin", "阿莫西林", "阿莫西林胶囊", "Amoxicillin Capsules", "0.25g", "0.5g", 3, "粒"),
    Drug(
        "omeprazole",
        "奥美拉唑",
        "奥美拉唑肠溶胶囊",
        "Omeprazole Enteric-coated Capsules",
        "20mg",
        "20mg",
        1,
        "粒",
    ),
    Drug(
        "atorvastatin",
        "阿托伐他汀",
        "阿托伐他汀钙片",
        "Atorvastatin Calcium Tablets",
        "20mg",
        "20mg",
        1,
        "片",
    ),
    Drug(
        "nifedipine",
        "硝苯地平",
        "硝苯地平缓释片",
        "Nifedipine Sustained-release Tablets",
        "20mg",
        "20mg",
        2,
        "片",
    ),
    Drug("metoprolol", "美托洛尔", "酒石酸美托洛尔片", "Metoprolol Tartrate Tablets", "25mg", "25mg", 2, "片"),
    Drug(
        "levofloxacin",
        "左氧氟沙星",
        "乳酸左氧氟沙星片",
        "Levofloxacin Lactate Tablets",
        "0.1g",
        "0.2g",
        2,
        "片",
    ),
    Drug(
        "cetirizine",
        "西替利嗪",
        "盐酸西替利嗪片",
        "Cetirizine Hydrochloride Tablets",
        "10mg",
        "10mg",
        1,
        "片",
    ),
    Drug("valsartan", "缬沙坦", "缬沙坦胶囊", "Valsartan Capsules", "80mg", "80mg", 1, "粒"),
    Drug("warfarin", "华法林", "华法林钠片", "Warfarin Sodium Tablets", "2.5mg", "2.5mg", 1, "片"),
    Drug(
        "clopidogrel",
        "氯吡格雷",
        "硫酸氢氯吡格雷片",
        "Clopidogrel Bisulfate Tablets",
        "75mg",
        "75mg",
        1,
        "片",
    ),
    Drug("digoxin", "地高辛", "地高辛片", "Digoxin Tablets", "0.25mg", "0.125mg", 1, "片"),
    Drug("azithromycin", "阿奇霉素", "阿奇霉素片", "Azithromycin Tablets", "0.25g", "0.5g", 1, "片"),
)


@cache
def cmekg_rows() -> dict[str, dict[str, str]]:
    """For each DRUGS entry, the CMeKG product row that best matches its generic name (single-ingredient)."""
    with gzip.open(DATA / "cmekg" / "cmekg_drug_products.csv.gz", "rb") as fh:
        rows = list(csv.DictReader(io.TextIOWrapper(fh, "utf-8")))
    out: dict[str, dict[str, str]] = {}
    for drug in DRUGS:
        candidates = [
            r for r in rows if drug.zh in r["zh_name"] and r["tcm_like"] == "False" and r["indications(适应症)"]
        ]
        if not candidates:
            continue

        def richness(r: dict[str, str]) -> tuple[int, int]:
            filled = sum(bool(v) for v in r.values())
            return (0 if "复方" in r["zh_name"] or len(r["ingredients(成份)"].split("|")) > 3 else 1, filled)

        out[drug.inn] = max(candidates, key=richness)
    return out


def terms(value: str, limit: int) -> list[str]:
    """CMeKG list cells are " | "-joined terms; keep clean ones (no brackets, no stray Latin)."""
    items = [t.strip() for t in value.split("|")]
    return [t for t in items if t and not re.search(r"[\[\]［］()（）A-Za-z]", t) and len(t) <= 14][:limit]


def _label_text(raw: object) -> str:
    if isinstance(raw, list):
        raw = " ".join(str(x) for x in raw)
    return re.sub(r"\s+", " ", str(raw)).strip()


@cache
def english_sections() -> dict[str, dict[str, str]]:
    """drug INN -> {section title: text} from DailyMed SPL sections and the openFDA label excerpts."""
    out: dict[str, dict[str, str]] = {}
    keys = {
        "indications_and_usage": "INDICATIONS AND USAGE",
        "dosage_and_administration": "DOSAGE AND ADMINISTRATION",
        "contraindications": "CONTRAINDICATIONS",
        "warnings_and_cautions": "WARNINGS AND PRECAUTIONS",
        "adverse_reactions": "ADVERSE REACTIONS",
        "drug_interactions": "DRUG INTERACTIONS",
    }
    with gzip.open(DATA / "dailymed_labels" / "spl_sections.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            inn = rec["file"].removesuffix(".xml")
            sections = {}
            for key, title in keys.items():
                if rec.get(key):
                    text = _label_text(rec[key])
                    # Drop the leading "1 INDICATIONS AND USAGE" heading: the renderer draws its own.
                    text = re.sub(r"^[\d.\s]*" + re.escape(title) + r"\s*", "", text, flags=re.I)
                    sections[title] = text
            out[inn] = sections
    with open(DATA / "fda_label_excerpts" / "drug_labels.json", encoding="utf-8") as fh:
        for rec in json.load(fh):
            out.setdefault(rec["drug"], {}).setdefault(rec["section"].upper(), _label_text(rec["text"]))
    return out
