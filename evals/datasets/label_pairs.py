"""The label-sentence interaction set: drug pairs labelled from a sentence of US prescribing information, never
from our knowledge base.

Input: evals/data/label_pairs/label_sentences.jsonl (one copied label sentence per line: the label's drug, where the
sentence comes from, the label's own verdict words and the drugs it names; provenance in that folder's README).
`build()` expands every sentence into pairs (the label's drug x each drug the sentence names), maps the verdict to
our scale, looks up both drugs' ATC groups (knowledge/data/who_atc), keeps pairs with a side in groups C, G, J, M,
N or S (the DDInter files we lack) and writes pairs.jsonl. A pair named by several sentences keeps the strongest
verdict, and a copied label sentence before one written from memory.

    python -m evals.datasets.label_pairs
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from knowledge.lexicon import Lexicon

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "evals" / "data" / "label_pairs"
SENTENCES = DATA / "label_sentences.jsonl"
PAIRS = DATA / "pairs.jsonl"
_ATC = ROOT / "knowledge" / "data" / "who_atc" / "WHO ATC-DDD 2026-04-25.csv"
GROUPS = ("C", "G", "J", "M", "N", "S")  # the ATC groups DDInter's export lacks
SEVERITIES = ("moderate", "major", "contraindicated")
# Our INN -> the WHO ATC index's name, where they differ (US adopted names, combinations, salts).
_WHO_NAME = {
    "rifampin": "rifampicin",
    "cyclosporine": "ciclosporin",
    "methylthioninium chloride": "methylthioninium chloride",
    "aluminum hydroxide": "aluminium hydroxide",
    "acyclovir": "aciclovir",
    "cholestyramine": "colestyramine",
    "methsuximide": "mesuximide",
    "methylene blue": "methylthioninium chloride",
    "ethinylestradiol": "ethinylestradiol",
    "colestyramine": "colestyramine",
    "albuterol": "salbutamol",
    "aspirin": "acetylsalicylic acid",
    "glyburide": "glibenclamide",
    "indomethacin": "indometacin",
    "meperidine": "pethidine",
    "levothyroxine": "levothyroxine sodium",
}
# Drugs the WHO index has no plain entry for: the group read from the index's entry for the product.
_ATC_EXTRA = {
    "lithium": "N",  # N05AN01 lithium (listed as "lithium")
    "norethisterone": "G",
    "ethinylestradiol": "G",
    "tryptophan": "N",
    "caffeine": "N",
    "magnesium oxide": "A",
    "aluminum hydroxide": "A",
    "heparin": "B",
    "methylene blue": "V",
    "niacin": "C",  # nicotinic acid, C10AD02
    "amphotericin b": "J",
    "etacrynic acid": "C",
    "glecaprevir": "J",
    "pibrentasvir": "J",
    "elbasvir": "J",
    "grazoprevir": "J",
    "tolterodine": "G",
    "ledipasvir": "J",  # J05AP51 sofosbuvir and ledipasvir
    "lopinavir": "J",  # J05AR10 lopinavir and ritonavir
    "methyldopa": "C",  # C02AB01 methyldopa (levorotatory)
    "sacubitril": "C",  # C09DX04 valsartan and sacubitril
}


@dataclass(frozen=True)
class LabelPair:
    id: str
    a: str  # the label's drug (lower-case INN)
    b: str  # the drug the sentence names
    b_as_written: str
    severity: str  # contraindicated | major | moderate (our scale)
    verdict: str  # the label's own words
    sentence: str
    sentence_id: str
    source: str  # dailymed:<file> | openfda:<file> | openfda_excerpt:<drug> | memory:<label>
    section: str
    atc_a: str  # ATC anatomical groups, e.g. "N" or "CS"; "" when the index has none
    atc_b: str
    groups: str  # the in-scope groups (C, G, J, M, N, S) of either side
    from_memory: bool


def severity_of(verdict: str) -> str:
    """The label's verdict words on our scale: contraindicated; "avoid", "not recommended", "do not use", "should
    not" -> major; "caution", "monitor", dose adjustment and anything weaker -> moderate."""
    v = verdict.lower()
    if "contraindicated" in v:
        return "contraindicated"
    if any(w in v for w in ("avoid", "not recommended", "do not use", "should not")):
        return "major"
    return "moderate"


def load_sentences(path: Path = SENTENCES) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def atc_groups() -> dict[str, str]:
    """Lower-case WHO ATC substance name -> the anatomical groups (first letters) of its codes."""
    groups: dict[str, set[str]] = {}
    with open(_ATC, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            code, name = r["atc_code"], r["atc_name"].lower()
            if len(code) == 7:
                groups.setdefault(name, set()).add(code[0])
    out = {name: "".join(sorted(g)) for name, g in groups.items()}
    for name, g in _ATC_EXTRA.items():
        out.setdefault(name, g)
    return out


def _groups_of(drug: str, atc: dict[str, str]) -> str:
    return atc.get(_WHO_NAME.get(drug, drug), "")


def build(write: bool = True) -> list[LabelPair]:
    atc = atc_groups()
    best: dict[frozenset[str], LabelPair] = {}
    order: list[frozenset[str]] = []
    for s in load_sentences():
        severity = severity_of(s["verdict"])
        for p in s["partners"]:
            a, b = s["label_drug"], p["drug"]
            if a == b:
                continue
            atc_a, atc_b = _groups_of(a, atc), _groups_of(b, atc)
            groups = "".join(g for g in GROUPS if g in atc_a + atc_b)
            if not groups:
                continue
            pair = LabelPair(
                "",
                a,
                b,
                p["name"],
                severity,
                s["verdict"],
                s["sentence"],
                s["id"],
                s["source"],
                s["section"],
                atc_a,
                atc_b,
                groups,
                bool(s["from_memory"]),
            )
            key = frozenset((a, b))
            old = best.get(key)
            if old is None:
                order.append(key)
                best[key] = pair
            elif (old.from_memory, -SEVERITIES.index(old.severity)) > (pair.from_memory, -SEVERITIES.index(severity)):
                best[key] = pair
    pairs = [LabelPair(**{**asdict(best[k]), "id": f"lp{i:03d}"}) for i, k in enumerate(order, 1)]
    if write:
        with open(PAIRS, "w", encoding="utf-8") as f:
            for p in pairs:
                f.write(json.dumps(asdict(p), ensure_ascii=False) + "\n")
    return pairs


def load(path: Path = PAIRS) -> list[LabelPair]:
    with open(path, encoding="utf-8") as f:
        return [LabelPair(**json.loads(line)) for line in f if line.strip()]


def unresolved(pairs: list[LabelPair], lexicon: Lexicon) -> list[str]:
    """Names the lexicon does not resolve to the intended drug ("name -> what it resolved to"), for the report."""
    out = set()
    for p in pairs:
        for name in (p.a, p.b):
            m = lexicon.resolve(name)
            if not m.recognized or (name not in m.ingredients and not m.is_class):
                out.add(f"{name} -> {', '.join(m.ingredients) or 'unrecognised'}")
    return sorted(out)


def summary(pairs: list[LabelPair]) -> dict[str, Counter[str]]:
    return {
        "severity": Counter(p.severity for p in pairs),
        "group": Counter(g for p in pairs for g in p.groups),
        "label": Counter(p.a for p in pairs),
        "origin": Counter("from memory" if p.from_memory else "copied label sentence" for p in pairs),
    }


def main() -> None:
    pairs = build()
    print(f"label pairs: {len(pairs)} -> {PAIRS}")
    for name, counts in summary(pairs).items():
        print(f"  {name}: {dict(counts.most_common())}")


if __name__ == "__main__":
    main()
