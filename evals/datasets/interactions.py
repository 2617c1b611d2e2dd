"""The interaction gold set: curated pairs checked against public-domain US label text and the ONC lists.

Inputs (hand-curated, read from the label sections and the ONC tables): evals/data/interactions/curated_pairs.csv
(positives with the severity we read from the label wording) and curated_negatives.csv (pairs commonly taken
together). `build()` checks every label against its stated source (the partner drug must be named in that label
section, or the pair must be in that ONC rule; a negative must be named in neither drug's label sections nor in
either ONC list), adds Chinese names (CMeKG) and the brand or class word some items are asked with, and writes
pairs.jsonl.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "evals" / "data" / "interactions"
PAIRS = DATA / "pairs.jsonl"
_KD = ROOT / "knowledge" / "data"
_SECTIONS = ("drug_interactions", "contraindications", "boxed_warning", "warnings_and_cautions")

# Names people use instead of the INN; the eval asks some items this way (the lexicon must resolve them).
BRANDS: dict[str, tuple[str, str]] = {  # inn -> (English brand, Chinese brand or product name)
    "warfarin": ("Coumadin", "华法林钠片"),
    "atorvastatin": ("Lipitor", "立普妥"),
    "simvastatin": ("Zocor", "舒降之"),
    "clopidogrel": ("Plavix", "波立维"),
    "omeprazole": ("Prilosec", "洛赛克"),
    "metformin": ("Glucophage", "格华止"),
    "ciprofloxacin": ("Cipro", "环丙沙星片"),
    "alprazolam": ("Xanax", "阿普唑仑片"),
    "apixaban": ("Eliquis", "艾乐妥"),
    "digoxin": ("Lanoxin", "地高辛片"),
    "ibuprofen": ("Advil", "芬必得"),
    "naproxen": ("Aleve", "萘普生片"),
    "fluoxetine": ("Prozac", "百忧解"),
    "sertraline": ("Zoloft", "左洛复"),
    "amlodipine": ("Norvasc", "络活喜"),
    "aspirin": ("Bayer Aspirin", "拜阿司匹灵"),
    "lisinopril": ("Zestril", "赖诺普利片"),
    "levothyroxine": ("Synthroid", "优甲乐"),
    "acetaminophen": ("Tylenol", "泰诺林"),
}
CLASS_WORDS: dict[str, tuple[str, str]] = {  # inn -> (English class word, Chinese class word) that contains it
    "ibuprofen": ("NSAIDs", "非甾体抗炎药"),
    "naproxen": ("NSAIDs", "非甾体抗炎药"),
    "phenelzine": ("MAO inhibitors", "单胺氧化酶抑制剂"),
    "tranylcypromine": ("MAO inhibitors", "单胺氧化酶抑制剂"),
    "ketoconazole": ("azole antifungals", "唑类抗真菌药"),
    "clarithromycin": ("macrolide antibiotics", "大环内酯类抗生素"),
}


@dataclass(frozen=True)
class Pair:
    id: str
    a: str
    b: str
    a_zh: str
    b_zh: str
    positive: bool
    severity: str | None  # contraindicated | major | moderate | minor; None for negatives
    source: str  # dailymed:<drug>:<section> | fda:<drug>:<section> | onc_high_priority:<rule> | label_absence
    note: str
    ask_a: tuple[str, str]  # how the first drug is named in questions: (en, zh)
    ask_b: tuple[str, str]
    asked_as: str  # inn | brand | class


def _label_sections() -> dict[tuple[str, str], dict[str, str]]:
    out: dict[tuple[str, str], dict[str, str]] = {}
    with gzip.open(_KD / "dailymed_labels" / "spl_sections.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            out[("dailymed", d["file"].removesuffix(".xml"))] = {s: " ".join(d.get(s) or []).lower() for s in _SECTIONS}
    names = {"Contraindications": "contraindications", "Drug Interactions": "drug_interactions"}
    names["Warnings and Precautions"] = "warnings_and_cautions"
    for x in json.loads((_KD / "fda_label_excerpts" / "drug_labels.json").read_text(encoding="utf-8")):
        if x["section"] in names:
            out.setdefault(("fda", x["drug"]), {})[names[x["section"]]] = x["text"].lower()
    return out


def _onc() -> dict[str, set[frozenset[str]]]:
    out: dict[str, set[frozenset[str]]] = {}
    with open(_KD / "onc" / "onc_ddi_pairs_expanded.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            pair = frozenset((r["object_drug"].lower(), r["precipitant_drug"].lower()))
            out.setdefault(f"{r['list'].lower()}:{r['rule_id']}", set()).add(pair)
            out.setdefault(r["list"].lower(), set()).add(pair)
    return out


def chinese_names() -> dict[str, str]:
    with open(_KD / "cmekg" / "cmekg_inn_en_to_zh_best.csv", encoding="utf-8") as f:
        names = {r["en_inn"].lower(): r["zh_inn_best"] for r in csv.DictReader(f)}
    # INNs CMeKG lacks or names differently (curated).
    names.update({"acetaminophen": "对乙酰氨基酚", "rifampin": "利福平", "calcium carbonate": "碳酸钙"})
    names.update({"mycophenolate mofetil": "吗替麦考酚酯", "albuterol": "沙丁胺醇", "meperidine": "哌替啶"})
    names.update({"amphetamine": "苯丙胺", "clopidogrel": "氯吡格雷", "dihydroergotamine": "双氢麦角胺"})
    names.update({"ergotamine": "麦角胺", "imipramine": "丙米嗪", "lithium": "碳酸锂", "moclobamide": "吗氯贝胺"})
    names.update({"nelfinavir": "奈非那韦", "nortriptyline": "去甲替林", "phenelzine": "苯乙肼"})
    names.update({"pseudoephedrine": "伪麻黄碱", "ramelteon": "雷美替胺", "rizatriptan": "利扎曲普坦"})
    names.update({"tranylcypromine": "反苯环丙胺", "hydrochlorothiazide": "氢氯噻嗪"})  # CMeKG's best: 氢氧噻嗪
    return names


def _named(text: str, drug: str) -> bool:
    return re.search(r"\b" + re.escape(drug) + r"\b", text) is not None


def build() -> list[Pair]:
    labels, onc, zh = _label_sections(), _onc(), chinese_names()
    pairs: list[Pair] = []
    problems: list[str] = []
    with open(DATA / "curated_pairs.csv", encoding="utf-8") as f:
        for i, r in enumerate(csv.DictReader(f), 1):
            a, b, source = r["a"], r["b"], r["source"]
            kind, _, rest = source.partition(":")
            if kind in ("dailymed", "fda"):
                drug, _, section = rest.partition(":")
                text = labels.get((kind, drug), {}).get(section, "")
                partner = b if drug == a else a
                if not _named(text, partner):
                    problems.append(f"{a}+{b}: {partner!r} not named in {source}")
            elif frozenset((a, b)) not in onc.get(source, set()):
                problems.append(f"{a}+{b}: not in {source}")
            pairs.append(_pair(f"p{i:03d}", a, b, r["severity"], source, r["note"], zh, len(pairs)))
    with open(DATA / "curated_negatives.csv", encoding="utf-8") as f:
        for i, r in enumerate(csv.DictReader(f), 1):
            a, b = r["a"], r["b"]
            checked = []
            for (kind, drug), sections in labels.items():
                for x, y in ((a, b), (b, a)):
                    if drug == x:
                        checked.append(f"{kind}:{drug}")
                        if any(_named(t, y) for t in sections.values()):
                            problems.append(f"negative {a}+{b}: {y!r} named in the {kind} label of {x}")
            if frozenset((a, b)) in onc["onc_high_priority"] | onc["onc_non_interruptive"]:
                problems.append(f"negative {a}+{b}: in an ONC list")
            source = "label_absence:" + ("+".join(sorted(set(checked))) or "no label on file")
            pairs.append(_pair(f"n{i:03d}", a, b, None, source, r["why"], zh, len(pairs)))
    missing = sorted({d for p in pairs for d, z in ((p.a, p.a_zh), (p.b, p.b_zh)) if not z})
    if missing:
        problems.append("no Chinese name for: " + ", ".join(missing))
    if problems:
        raise SystemExit("interaction labels that do not check out:\n  " + "\n  ".join(problems))
    with open(PAIRS, "w", encoding="utf-8") as f:
        for p in pairs:
            f.write(json.dumps(asdict(p), ensure_ascii=False) + "\n")
    return pairs


def _pair(id: str, a: str, b: str, severity: str | None, source: str, note: str, zh: dict[str, str], n: int) -> Pair:
    ask_a, ask_b, asked_as = (a, zh.get(a, "")), (b, zh.get(b, "")), "inn"
    # Every fourth item names the first drug by a brand, every seventh the second by a class word.
    if n % 4 == 1 and a in BRANDS:
        ask_a, asked_as = BRANDS[a], "brand"
    elif n % 7 == 3 and b in CLASS_WORDS and severity is not None:
        ask_b, asked_as = CLASS_WORDS[b], "class"
    return Pair(
        id, a, b, zh.get(a, ""), zh.get(b, ""), severity is not None, severity, source, note, ask_a, ask_b, asked_as
    )


def load(path: Path = PAIRS) -> list[Pair]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                d["ask_a"], d["ask_b"] = tuple(d["ask_a"]), tuple(d["ask_b"])
                out.append(Pair(**d))
    return out
