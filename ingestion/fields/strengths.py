"""The strengths each drug is made in, to check a strength or dose read from a prescription ("20 mg" misread as
"2 mg", "5 mcg" written for "5 mg").

Two sources, merged per ingredient (lower-case INN), every strength in milligrams (units, millilitres and
international units are not masses and are not checked):
- the "DOSAGE FORMS AND STRENGTHS" and "HOW SUPPLIED" sections of the US labels in `knowledge/data/`
  (dailymed_labels, openfda_fixtures: "Tablets: 250 mg, 500 mg and 750 mg", "10, 20, 40, and 80 mg tablets");
- `_MARKETED` below: oral strengths sold in China and the US for common outpatient drugs, written from their
  labels (NMPA 说明书 【规格】 and US labels) from memory, so a reviewer should check a row before relying on it.
A drug in neither source is not checked (the check says "unknown", never "wrong").
"""

from __future__ import annotations

import gzip
import json
import re
from functools import cache
from pathlib import Path

_DATA = Path(__file__).resolve().parents[2] / "knowledge" / "data"
_LABEL_FILES = ("dailymed_labels/spl_sections.jsonl.gz", "openfda_fixtures/spl_sections.jsonl.gz")

# mg, oral forms unless noted. From labels, from memory (see the module docstring).
_MARKETED: dict[str, tuple[float, ...]] = {
    "amlodipine": (2.5, 5, 10),
    "atorvastatin": (10, 20, 40, 80),
    "rosuvastatin": (5, 10, 20, 40),
    "simvastatin": (5, 10, 20, 40, 80),
    "clopidogrel": (25, 75, 300),
    "aspirin": (25, 40, 50, 75, 81, 100, 300, 325, 500),
    "metformin": (250, 500, 750, 850, 1000),
    "nifedipine": (5, 10, 20, 30, 60, 90),
    "levothyroxine": (0.025, 0.05, 0.075, 0.088, 0.1, 0.112, 0.125, 0.137, 0.15, 0.175, 0.2, 0.3),
    "metoprolol": (12.5, 23.75, 25, 47.5, 50, 95, 100, 190, 200),
    "valsartan": (40, 80, 160, 320),
    "losartan": (25, 50, 100),
    "lisinopril": (2.5, 5, 10, 20, 30, 40),
    "omeprazole": (10, 20, 40),
    "furosemide": (20, 40, 80),
    "spironolactone": (20, 25, 50, 100),
    "warfarin": (1, 2, 2.5, 3, 4, 5, 6, 7.5, 10),
    "amoxicillin": (125, 250, 500, 875, 1000),
    "sertraline": (25, 50, 100),
    "nitroglycerin": (0.3, 0.4, 0.5, 0.6),
    "ibuprofen": (100, 200, 300, 400, 600, 800),
    "paracetamol": (325, 500, 650),
    "digoxin": (0.0625, 0.125, 0.25),
    "cetirizine": (5, 10),
    "levofloxacin": (100, 250, 500, 750),
    "azithromycin": (125, 250, 500, 600),
    "gliclazide": (30, 60, 80),
    "glimepiride": (1, 2, 3, 4),
    "acarbose": (50, 100),
    "bisoprolol": (2.5, 5, 10),
    "captopril": (12.5, 25, 50, 100),
    "enalapril": (2.5, 5, 10, 20),
    "hydrochlorothiazide": (12.5, 25, 50),
    "irbesartan": (75, 150, 300),
    "telmisartan": (20, 40, 80),
    "diltiazem": (30, 60, 90, 120, 180, 240),
    "pantoprazole": (20, 40),
    "esomeprazole": (20, 40),
    "prednisone": (1, 2.5, 5, 10, 20, 50),
    "alprazolam": (0.25, 0.4, 0.5, 1, 2),
    "estazolam": (1, 2),
    "escitalopram": (5, 10, 20),
    "fluoxetine": (10, 20, 40),
    "gabapentin": (100, 300, 400, 600, 800),
    "cefuroxime": (125, 250, 500),
    "clarithromycin": (250, 500),
    "montelukast": (4, 5, 10),
    "allopurinol": (100, 300),
    "tamsulosin": (0.2, 0.4),
}

_TO_MG = {"mg": 1.0, "g": 1000.0, "mcg": 0.001, "μg": 0.001, "µg": 0.001, "ug": 0.001}
_LIST = re.compile(r"((?:\d+(?:\.\d+)?\s*(?:mg|mcg)?\s*(?:,|and|or)\s*)*\d+(?:\.\d+)?)\s*(mg|mcg)\b", re.I)


def strength_mg(text: str) -> float | None:
    """A written amount as milligrams ("0.5g" -> 500, "50μg" -> 0.05); None for units, ml or no amount."""
    m = re.match(r"\s*(\d+(?:\.\d+)?)\s*(mg|g|mcg|μg|µg|ug)(?![A-Za-z])", text, re.I)
    if not m:
        return None
    return float(m.group(1)) * _TO_MG[m.group(2).lower() if m.group(2).isascii() else m.group(2)]


def _label_strengths(text: str) -> set[float]:
    found: set[float] = set()
    for m in _LIST.finditer(text):
        factor = _TO_MG[m.group(2).lower()]
        for number in re.findall(r"\d+(?:\.\d+)?", m.group(1)):
            found.add(round(float(number) * factor, 6))
    return found


@cache
def marketed_strengths() -> dict[str, frozenset[float]]:
    """Ingredient -> the strengths (mg) it is sold in, from the curated rows and the US labels we hold."""
    table: dict[str, set[float]] = {k: {round(v, 6) for v in vs} for k, vs in _MARKETED.items()}
    for name in _LABEL_FILES:
        path = _DATA / name
        if not path.exists():
            continue
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                label = json.loads(line)
                generic = str(label.get("generic_name") or "")
                words = re.findall(r"[A-Za-z]+", generic.lower())
                if len(words) != 1 and not (len(words) == 2 and words[1] in _SALTS):
                    continue  # combinations and unnamed labels: a strength there is not the single drug's
                text = " ".join(str(label.get(k) or "") for k in ("dosage_forms_and_strengths", "how_supplied"))
                table.setdefault(words[0], set()).update(v for v in _label_strengths(text) if v < 5000)
    return {k: frozenset(v) for k, v in table.items() if v}


_SALTS = {"calcium", "sodium", "potassium", "hydrochloride", "bisulfate", "succinate", "tartrate", "besylate"}


def check_amount(ingredient: str, text: str, *, dose: bool = False) -> bool | None:
    """Whether an amount is one the drug is made in (a dose: 1/2 to 4 of a strength it is made in).

    Returns None when the drug's strengths are unknown or the amount is not a mass (units, ml, tablets).
    """
    made = marketed_strengths().get(ingredient)
    mg = strength_mg(text)
    if not made or mg is None or mg <= 0:
        return None
    multiples = (0.5, 1, 1.5, 2, 3, 4) if dose else (1,)
    return any(abs(mg - s * k) <= 1e-6 * max(1.0, mg) for s in made for k in multiples)
