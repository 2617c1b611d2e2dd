"""How the severities of several sources become one: each source is weighed by the kind of evidence it is.

The one place this is decided. The knowledge-base build uses it to grade each merged record, and the engine uses
it again when a pair is reached through more than one record (a direct record and a class rule). The rules are
written out in knowledge/data/README.md ("How severities are reconciled"); in short:

1. A contraindicated or major grade from label text (or a regulator's own communication) or a national thesaurus
   is never lowered, whatever any other source says.
2. Where a label, a national thesaurus or the ONC high-priority list grades the pair, the highest of their grades
   is the grade: they win over a database grade, up or down; but a database's moderate-or-worse grade keeps the
   pair at least moderate (a disagreement is resolved to "monitor", never to a footnote).
3. Otherwise the highest grade of the remaining sources (literature-cited rules, NDF-RT, DDInter) wins.
4. A pair on ONC's non-interruptive list is at most moderate, unless a label or thesaurus grades it higher (or the
   high-priority list names it too): the list exists to say "do not interrupt the prescriber for this". Where the
   only other grades are bare database grades (no text), it is at most minor: the consensus outranks them.
5. An ungraded assertion ("Unknown") stays `unknown`; it never lowers a grade and is never reassurance.
6. Two ingredients sold together as one fixed-dose product (Hyzaar: losartan + hydrochlorothiazide; Bactrim:
   sulfamethoxazole + trimethoprim) are a combination that product's own label approves: the pair is at most
   minor, with the product named, unless a label or thesaurus grades it major or worse (rule 1 still holds).

Beside the grade come the evidence level (the kind of the strongest source asserting the pair), the kinds of the
sources that agree with the grade, and whether any source explains the interaction (mechanism or advice). A bare
DDInter "Unknown"/"Minor" line, or a pair only ONC's non-interruptive list names, is then `passive`: listed, but
it is no reason to call a pair "caution".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.models import Severity

# Evidence kinds, strongest first.
LABEL = "label"  # US label text quoted by a rule, or a rule citing an FDA label or FDA safety communication
REGULATOR_THESAURUS = "regulator_thesaurus"  # a national regulator's interaction thesaurus (ANSM)
CONSENSUS = "consensus"  # expert consensus lists (ONC high-priority and non-interruptive)
LITERATURE = "literature"  # an explained rule citing a study or NIH monograph, not a label
DATABASE = "database"  # a database grade: NDF-RT (US VA), DDInter (bare grades, no text)
EVIDENCE_KINDS = (LABEL, REGULATOR_THESAURUS, CONSENSUS, LITERATURE, DATABASE)
AUTHORITY = {kind: len(EVIDENCE_KINDS) - i for i, kind in enumerate(EVIDENCE_KINDS)}

NON_INTERRUPTIVE = "onc_non_interruptive"
NON_INTERRUPTIVE_CEILING = Severity.MODERATE

_SOURCE_KIND = {
    "rxlens_curated": LABEL,  # every curated rule quotes the label it rests on
    "ansm": REGULATOR_THESAURUS,
    "onc_high_priority": CONSENSUS,
    "onc_non_interruptive": CONSENSUS,
    "ndfrt": DATABASE,
    "ddinter": DATABASE,
}


def evidence_kind(source: str, record: str = "") -> str:
    """The evidence kind of one source record.

    drug-interaction-mcp rules name what they rest on in the record ("rule 23 (FDA Drug Label)"): a rule citing
    the FDA (a label, a boxed warning, a safety communication or advisory) is label evidence, one citing a study
    or an NIH page is literature. A source this module does not know is a database grade: it can add a finding,
    never lower one.
    """
    if source == "drug_interaction_mcp":
        citation = record.partition("(")[2]
        return LABEL if citation.startswith("FDA") else LITERATURE
    return _SOURCE_KIND.get(source, DATABASE)


@dataclass(frozen=True)
class SourceGrade:
    """One source's grade for a pair, on our scale, with what kind of evidence it is."""

    source: str
    record: str
    severity: Severity
    kind: str
    explained: bool  # the source gives a mechanism or advice, not only a grade

    @classmethod
    def of(cls, source: str, record: str, severity: Severity, explained: bool) -> SourceGrade:
        return cls(source, record, severity, evidence_kind(source, record), explained)


@dataclass(frozen=True)
class Reconciled:
    """The grade of a pair after weighing its sources."""

    severity: Severity
    evidence: str  # the strongest kind asserting the pair (one of EVIDENCE_KINDS)
    agreeing: tuple[str, ...]  # the kinds whose own grade is this grade, strongest first
    explained: bool
    combined_in: str = ""  # a fixed-dose product that holds both ingredients (rule 6), empty when none

    @property
    def bare_database_grade(self) -> bool:
        """Only databases grade the pair, and none explains it."""
        return self.evidence == DATABASE and not self.explained

    @property
    def passive(self) -> bool:
        """Minor or ungraded, unexplained, from databases or ONC's non-interruptive list only: list it, but it is
        no reason for "caution" (the same test as `Interaction.passive`)."""
        low = self.severity in (Severity.MINOR, Severity.UNKNOWN)
        return low and not self.explained and self.evidence in (DATABASE, CONSENSUS)


def _worst(grades: Iterable[SourceGrade]) -> Severity | None:
    ranked = [g.severity for g in grades if g.severity is not Severity.UNKNOWN]
    return max(ranked, key=lambda s: s.rank) if ranked else None


COMBINATION_CEILING = Severity.MINOR


def reconcile(grades: Iterable[SourceGrade], combined_in: str = "") -> Reconciled:
    """Weigh the sources of one pair (see the module's rules). `grades` must not be empty; `combined_in` names a
    fixed-dose product holding both ingredients (rule 6)."""
    grades = list(grades)
    if not grades:
        raise ValueError("reconcile needs at least one source grade")
    authoritative = [g for g in grades if g.kind in (LABEL, REGULATOR_THESAURUS)]
    high_priority = [g for g in grades if g.kind == CONSENSUS and g.source != NON_INTERRUPTIVE]
    floor = _worst(authoritative)

    level = _worst(authoritative + high_priority)  # rule 2: these win over database grades ...
    if level is None:
        level = _worst(grades)  # rule 3
    else:
        lesser = _worst(g for g in grades if g.kind in (LITERATURE, DATABASE))
        if lesser is not None and lesser.rank >= Severity.MODERATE.rank and level.rank < Severity.MODERATE.rank:
            level = Severity.MODERATE  # ... but a database's moderate-or-worse keeps the pair at least moderate
    if level is None:
        level = Severity.UNKNOWN  # rule 5: asserted, never graded
    if any(g.source == NON_INTERRUPTIVE for g in grades) and not high_priority:
        # rule 4: the consensus list outranks a bare database grade, never a label or thesaurus
        bare = not authoritative and not any(g.explained for g in grades)
        ceiling = Severity.MINOR if bare else NON_INTERRUPTIVE_CEILING
        if level.rank > ceiling.rank:
            level = ceiling
    if combined_in and level.rank > COMBINATION_CEILING.rank:
        level = COMBINATION_CEILING  # rule 6
    if floor is not None and floor.rank >= Severity.MAJOR.rank and floor.rank > level.rank:
        level = floor  # rule 1: never below a label's or thesaurus's major / contraindicated

    kinds = sorted({g.kind for g in grades}, key=lambda k: -AUTHORITY.get(k, 0))
    agreeing = tuple(k for k in kinds if any(g.kind == k and g.severity is level for g in grades))
    return Reconciled(
        severity=level,
        evidence=kinds[0],
        agreeing=agreeing,
        explained=any(g.explained for g in grades),
        combined_in=combined_in if level is COMBINATION_CEILING else "",
    )
