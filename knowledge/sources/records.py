"""The typed records that source loaders yield and the builder consumes.

A drug is referred to by a `ref`: "db:DB00381" (a DrugBank id), "name:amlodipine" (a name to resolve through the
lexicon being built) or "class:nsaid" (a curated class id).
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.models import Severity


@dataclass(frozen=True)
class VocabDrug:
    drugbank_id: str
    name: str
    synonyms: tuple[str, ...]
    is_salt: bool = False  # DrugBank files salts (lithium carbonate, diclofenac sodium) as entries of their own


@dataclass(frozen=True)
class NameRecord:
    """A name for something: `targets` are refs (several for a combination product)."""

    name: str
    lang: str  # "en" | "zh"
    kind: str  # "generic" | "synonym" | "brand" | "product"
    targets: tuple[str, ...]
    source: str
    record: str


@dataclass(frozen=True)
class PairRecord:
    """One source's assertion that `a` and `b` interact."""

    a: str
    b: str
    severity: Severity
    severity_word: str
    source: str
    record: str
    summary: str = ""
    mechanism: str = ""
    management: str = ""
    summary_zh: str = ""
    management_zh: str = ""


@dataclass(frozen=True)
class ClassDef:
    class_id: str
    name_en: str
    name_zh: str
    aliases_en: tuple[str, ...]
    aliases_zh: tuple[str, ...]
    atc_prefixes: tuple[str, ...]
    members: tuple[str, ...]
    includes: tuple[str, ...]


@dataclass(frozen=True)
class AtcEntry:
    code: str
    name: str
    ddd: float | None
    unit: str
    route: str


@dataclass(frozen=True)
class PassageRecord:
    """Citable text: a label section, a rule's explanation, a Chinese leaflet field."""

    passage_id: str
    refs: tuple[str, ...]  # the drugs it is about
    section: str
    lang: str
    title: str
    text: str
    source: str
    record: str
