"""A TEST DOUBLE of `knowledge.lexicon.Lexicon` (being written in parallel), implementing only the two methods
ingestion needs (`ingestion.mentions.MentionFinder`). After the merge the `mention_finder` fixture in conftest.py
switches to the real lexicon; the tests written against this double must keep passing.

It knows a few drug names (Chinese generic names, English INNs and a brand) and corrects OCR near-misses of
Chinese names by edit distance (安禄地平 -> 氨氯地平), like the real lexicon does.
"""

from __future__ import annotations

import re

from rapidfuzz.distance import Levenshtein

from knowledge.models import DrugMention

NAMES: dict[str, str] = {
    "氨氯地平": "amlodipine",
    "二甲双胍": "metformin",
    "布洛芬": "ibuprofen",
    "阿司匹林": "aspirin",
    "阿莫西林": "amoxicillin",
    "奥美拉唑": "omeprazole",
    "阿托伐他汀": "atorvastatin",
    "硝苯地平": "nifedipine",
    "美托洛尔": "metoprolol",
    "左氧氟沙星": "levofloxacin",
    "西替利嗪": "cetirizine",
    "缬沙坦": "valsartan",
    "华法林": "warfarin",
    "氯吡格雷": "clopidogrel",
    "地高辛": "digoxin",
    "阿奇霉素": "azithromycin",
    "奥司他韦": "oseltamivir",
    "Tamiflu": "oseltamivir",
}
# WHO DDDs (oral) of the drugs above.
DDD: dict[str, tuple[float, str]] = {
    "amlodipine": (5.0, "mg"),
    "metformin": (2.0, "g"),
    "ibuprofen": (1.2, "g"),
    "aspirin": (3.0, "g"),
    "amoxicillin": (1.5, "g"),
    "omeprazole": (20.0, "mg"),
    "atorvastatin": (20.0, "mg"),
    "nifedipine": (30.0, "mg"),
    "metoprolol": (0.15, "g"),
    "levofloxacin": (0.5, "g"),
    "cetirizine": (10.0, "mg"),
    "valsartan": (80.0, "mg"),
    "warfarin": (7.5, "mg"),
    "clopidogrel": (75.0, "mg"),
    "digoxin": (0.25, "mg"),
    "azithromycin": (0.3, "g"),
    "oseltamivir": (0.15, "g"),
}


class LexiconDouble:
    """Finds the NAMES above (and each English INN) in text; corrects one-character misreads of CJK names."""

    def __init__(self) -> None:
        self.names = dict(NAMES)
        for inn in set(NAMES.values()):
            self.names[inn] = inn

    def find_mentions(self, text: str) -> list[DrugMention]:
        found: list[DrugMention] = []
        taken: list[tuple[int, int]] = []
        for name in sorted(self.names, key=len, reverse=True):
            flags = re.I if name.isascii() else 0
            pattern = (r"(?<![A-Za-z])" + re.escape(name) + r"(?![a-z])") if name.isascii() else re.escape(name)
            for m in re.finditer(pattern, text, flags):
                if not any(s < m.end() and m.start() < e for s, e in taken):
                    taken.append((m.start(), m.end()))
                    found.append(self._mention(m.group(0), name, m.start(), m.end()))
        # OCR near-misses: a CJK run of the same length as a name, one character off.
        for name, _ in NAMES.items():
            if name.isascii() or len(name) < 4:
                continue
            for start in range(0, len(text) - len(name) + 1):
                end = start + len(name)
                window = text[start:end]
                if any(s < end and start < e for s, e in taken) or not re.fullmatch(r"[\u4e00-\u9fff]+", window):
                    continue
                if Levenshtein.distance(window, name) == 1:
                    taken.append((start, end))
                    found.append(self._mention(name, name, start, end, corrected_from=window))
        return sorted(found, key=lambda m: m.start)

    def _mention(self, text: str, name: str, start: int, end: int, corrected_from: str | None = None) -> DrugMention:
        return DrugMention(
            text=text,
            recognized=True,
            ingredients=(self.names[name],),
            kind="ingredient",
            confidence=1.0 if corrected_from is None else 0.8,
            corrected_from=corrected_from,
            matched=name,
            start=start,
            end=end,
        )

    def typical_daily_dose(self, ingredient: str) -> tuple[float, str] | None:
        return DDD.get(ingredient)
