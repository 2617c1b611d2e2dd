"""Typed objects that cross stage boundaries: severities, source references, resolved mentions, interactions.

Every other package speaks in these; none of them is a loose dict.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from knowledge.severity import SourceGrade


class Severity(StrEnum):
    """One scale for every source. The order is the order of danger; `unknown` means a source asserts an
    interaction without grading it (it is never "safe")."""

    CONTRAINDICATED = "contraindicated"
    MAJOR = "major"
    MODERATE = "moderate"
    MINOR = "minor"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """Higher is more dangerous. `unknown` ranks above `minor`: an ungraded assertion is not reassurance."""
        return _SEVERITY_RANK[self]

    @property
    def label_zh(self) -> str:
        return _SEVERITY_ZH[self]


_SEVERITY_RANK = {
    Severity.CONTRAINDICATED: 4,
    Severity.MAJOR: 3,
    Severity.MODERATE: 2,
    Severity.UNKNOWN: 1,
    Severity.MINOR: 0,
}
_SEVERITY_ZH = {
    Severity.CONTRAINDICATED: "禁忌合用",
    Severity.MAJOR: "严重",
    Severity.MODERATE: "中度",
    Severity.MINOR: "轻微",
    Severity.UNKNOWN: "程度未知",
}


@dataclass(frozen=True)
class SourceRef:
    """One source asserting one fact: which source, its own record id, its licence, and its own severity word."""

    name: str
    record: str
    license: str
    severity: str = ""


@dataclass(frozen=True)
class DrugMention:
    """A drug (or drug-class) name as it was written, resolved against the lexicon.

    `ingredients` are lower-case English INNs. For a class word ("降压药") `class_ids` names the class and
    `ingredients` stays empty: members are expanded by the engine. `start`/`end` locate the mention in the text
    it was found in (0/len for a whole-string lookup).
    """

    text: str
    recognized: bool
    ingredients: tuple[str, ...] = ()
    class_ids: tuple[str, ...] = ()
    kind: str = "unknown"  # ingredient | product | brand | class | unknown
    confidence: float = 0.0
    corrected_from: str | None = None
    matched: str = ""  # the lexicon entry it matched
    start: int = 0
    end: int = 0

    @property
    def is_class(self) -> bool:
        return self.kind == "class"


@dataclass(frozen=True)
class Interaction:
    """An interacting pair, merged across sources: the sources are weighed by kind (`knowledge.severity`) and
    every source is listed.

    `a` and `b` are lower-case INNs. `via_class` is set when the pair was found because one side is a class
    the user named ("blood-pressure pill"), or when a class-level rule produced it. `evidence` is the kind of the
    strongest source asserting the pair ("label" | "regulator_thesaurus" | "consensus" | "literature" |
    "database"), `agreeing` the kinds whose own grade is `severity`, `explained` whether any source gives a
    mechanism or advice. `evidence == "database"` with `explained` False is a bare database grade
    (`bare_database_grade`). `passive`: a minor or ungraded finding no source explains, asserted only by databases
    or ONC's non-interruptive list: list it, but it is no reason to call a pair "caution".
    """

    a: str
    b: str
    severity: Severity
    summary: str
    mechanism: str
    management: str
    sources: tuple[SourceRef, ...]
    via_class: str | None = None
    interaction_id: int = 0
    members: tuple[str, ...] = ()  # for a finding against a class: the members that interact, worst first
    evidence: str = "database"
    agreeing: tuple[str, ...] = ()
    explained: bool = False
    grades: tuple[SourceGrade, ...] = ()  # each source's own grade on our scale (what `evidence` was weighed from)
    combined_in: str = ""  # a fixed-dose product holding both (Hyzaar): graded at most minor, severity rule 6

    @property
    def bare_database_grade(self) -> bool:
        """Only databases grade the pair and none explains it (a bare DDInter line, whatever its grade)."""
        return self.evidence == "database" and not self.explained

    @property
    def passive(self) -> bool:
        """Shown passively, never a reason for "caution": graded minor or not graded, explained by no source,
        asserted only by databases or ONC's non-interruptive list (which exists to say "do not interrupt")."""
        low = self.severity in (Severity.MINOR, Severity.UNKNOWN)
        return low and not self.explained and self.evidence in ("database", "consensus")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "a": self.a,
            "b": self.b,
            "severity": self.severity.value,
            "summary": self.summary,
            "mechanism": self.mechanism,
            "management": self.management,
        }
        if self.via_class:
            out["via_class"] = self.via_class
        out["sources"] = [asdict(s) for s in self.sources]
        out["evidence"] = self.evidence
        out["agreeing"] = list(self.agreeing)
        out["explained"] = self.explained
        out["passive"] = self.passive
        if self.combined_in:
            out["combined_in"] = self.combined_in
        return out


@dataclass(frozen=True)
class Duplicate:
    """Duplicate therapy: two inputs that share an ingredient, or two members of a class where that is a
    risk (two NSAIDs)."""

    kind: str  # "ingredient" | "class"
    what: str  # the shared ingredient or class id
    inputs: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "what": self.what, "inputs": list(self.inputs)}


@dataclass
class CheckResult:
    """Everything `check` found for a list of mentions."""

    mentions: list[DrugMention]
    interactions: list[Interaction] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    class_names: dict[str, tuple[str, str]] = field(default_factory=dict)  # class id -> (en, zh)

    @property
    def unrecognized(self) -> list[str]:
        return [m.text for m in self.mentions if not m.recognized]

    @property
    def all_recognized(self) -> bool:
        return bool(self.mentions) and not self.unrecognized

    def to_json(self) -> dict[str, Any]:
        drugs = []
        for m in self.mentions:
            d: dict[str, Any] = {
                "input": m.text,
                "recognized": m.recognized,
                "ingredients": list(m.ingredients),
                "classes": list(m.class_ids),
            }
            if m.corrected_from is not None:
                d["corrected_from"] = m.corrected_from
            drugs.append(d)
        return {
            "drugs": drugs,
            "interactions": [i.to_json() for i in self.interactions],
            "duplicates": [d.to_json() for d in self.duplicates],
            "unrecognized": self.unrecognized,
        }
