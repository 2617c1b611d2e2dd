"""How sources of different kinds are weighed (knowledge/severity.py): the rules one by one, then on the real
knowledge base, where the same rules grade the stored records and the pairs the engine merges."""

from __future__ import annotations

import pytest

from knowledge.interactions import InteractionEngine
from knowledge.models import Interaction, Severity
from knowledge.severity import (
    CONSENSUS,
    DATABASE,
    LABEL,
    LITERATURE,
    REGULATOR_THESAURUS,
    SourceGrade,
    evidence_kind,
    reconcile,
)
from knowledge.store import KnowledgeBase

S = Severity


def grade(source: str, severity: Severity, explained: bool = False, record: str = "r1") -> SourceGrade:
    return SourceGrade.of(source, record, severity, explained)


def test_each_source_has_its_kind() -> None:
    assert evidence_kind("rxlens_curated") == LABEL
    assert evidence_kind("drug_interaction_mcp", "rule 23 (FDA Drug Label)") == LABEL
    assert evidence_kind("drug_interaction_mcp", "rule 1 (FDA Drug Label — Warfarin)") == LABEL
    assert evidence_kind("drug_interaction_mcp", "rule 35 (NIH — British Medical Journal study)") == LITERATURE
    assert evidence_kind("ansm") == REGULATOR_THESAURUS
    assert evidence_kind("onc_high_priority") == CONSENSUS
    assert evidence_kind("onc_non_interruptive") == CONSENSUS
    assert evidence_kind("ndfrt") == DATABASE
    assert evidence_kind("ddinter") == DATABASE
    assert evidence_kind("a_source_added_later") == DATABASE


@pytest.mark.parametrize("source", ["rxlens_curated", "ansm"])
@pytest.mark.parametrize("top", [S.MAJOR, S.CONTRAINDICATED])
def test_a_label_or_thesaurus_major_is_never_lowered(source: str, top: Severity) -> None:
    others = [grade("onc_non_interruptive", S.MINOR), grade("ddinter", S.MINOR), grade("ansm", S.MINOR, record="x")]
    assert reconcile([grade(source, top, True), *others]).severity is top


def test_non_interruptive_pairs_are_at_most_moderate() -> None:
    explained = grade("drug_interaction_mcp", S.MAJOR, True, record="rule 35 (NIH — study)")
    assert reconcile([grade("onc_non_interruptive", S.MINOR), explained]).severity is S.MODERATE
    # over bare database grades (no text) the consensus list wins: minor
    assert reconcile([grade("onc_non_interruptive", S.MINOR), grade("ddinter", S.MAJOR)]).severity is S.MINOR
    assert reconcile([grade("onc_non_interruptive", S.MINOR), grade("ndfrt", S.MODERATE)]).severity is S.MINOR
    assert reconcile([grade("onc_non_interruptive", S.MINOR)]).severity is S.MINOR
    # a thesaurus's précaution d'emploi is not a bare grade: it stays moderate
    thesaurus = [grade("onc_non_interruptive", S.MINOR), grade("ansm", S.MODERATE, True)]
    assert reconcile(thesaurus).severity is S.MODERATE
    # unless a label says more
    both = [grade("onc_non_interruptive", S.MINOR), grade("rxlens_curated", S.MAJOR, True)]
    assert reconcile(both).severity is S.MAJOR


def test_a_fixed_dose_combination_is_at_most_minor_and_named() -> None:
    found = reconcile([grade("ndfrt", S.MAJOR), grade("ansm", S.MODERATE, True)], combined_in="bactrim")
    assert found.severity is S.MINOR and found.combined_in == "bactrim"
    assert reconcile([grade("ndfrt", S.MAJOR)]).combined_in == ""
    # a label's or thesaurus's major still holds (rule 1), and then the product is not named as the reason
    kept = reconcile([grade("rxlens_curated", S.MAJOR, True)], combined_in="x")
    assert kept.severity is S.MAJOR and kept.combined_in == ""


def test_a_bare_database_grade_stays_what_it_is_and_is_marked() -> None:
    for word in (S.UNKNOWN, S.MINOR):
        found = reconcile([grade("ddinter", word)])
        assert found.severity is word
        assert found.evidence == DATABASE and found.explained is False and found.bare_database_grade
        assert found.passive
    assert not reconcile([grade("ddinter", S.MODERATE)]).passive  # a bare moderate still counts
    assert reconcile([grade("onc_non_interruptive", S.MINOR)]).passive
    assert not reconcile([grade("rxlens_curated", S.MINOR, True)]).passive


def test_the_higher_authority_wins_over_a_database_grade() -> None:
    found = reconcile([grade("rxlens_curated", S.MODERATE, True), grade("ddinter", S.MAJOR)])
    assert found.severity is S.MODERATE
    assert found.evidence == LABEL and found.agreeing == (LABEL,) and found.explained
    found = reconcile([grade("onc_high_priority", S.MAJOR), grade("ddinter", S.MINOR)])
    assert found.severity is S.MAJOR and found.evidence == CONSENSUS


def test_a_database_moderate_or_worse_keeps_the_pair_at_least_moderate() -> None:
    found = reconcile(
        [grade("drug_interaction_mcp", S.MINOR, True, "rule 67 (FDA Drug Label)"), grade("ddinter", S.MAJOR)]
    )
    assert found.severity is S.MODERATE
    assert found.agreeing == ()  # a compromise: no source says moderate


def test_without_an_authoritative_source_the_highest_grade_wins() -> None:
    found = reconcile([grade("ndfrt", S.MAJOR), grade("ddinter", S.MODERATE)])
    assert found.severity is S.MAJOR and found.agreeing == (DATABASE,)
    found = reconcile([grade("ddinter", S.UNKNOWN), grade("ddinter", S.MINOR, record="r2")])
    assert found.severity is S.MINOR  # an ungraded line never outranks a grade
    assert reconcile([grade("drug_interaction_mcp", S.MODERATE, True, "rule 35 (NIH)")]).evidence == LITERATURE


def test_unknown_never_lowers_a_grade() -> None:
    assert reconcile([grade("ddinter", S.UNKNOWN), grade("ndfrt", S.MAJOR)]).severity is S.MAJOR


def test_reconcile_needs_a_source() -> None:
    with pytest.raises(ValueError):
        reconcile([])


# ---- on the real knowledge base ---------------------------------------------------------------------------


def _finding(engine: InteractionEngine, a: str, b: str) -> Interaction | None:
    result = engine.check([a, b])
    assert result.all_recognized, (a, b)
    return max(result.interactions, key=lambda i: i.severity.rank) if result.interactions else None


@pytest.mark.parametrize(
    ("a", "b"), [("metformin", "atorvastatin"), ("paracetamol", "amoxicillin"), ("aspirin", "atorvastatin")]
)
def test_everyday_pairs_are_at_most_a_bare_database_grade(engine: InteractionEngine, a: str, b: str) -> None:
    finding = _finding(engine, a, b)
    if finding is not None:
        assert finding.severity in (S.MINOR, S.UNKNOWN), finding
        assert finding.evidence == DATABASE and finding.explained is False and finding.bare_database_grade
        assert finding.passive and finding.to_json()["passive"] is True


@pytest.mark.parametrize(
    ("a", "b"), [("amlodipine", "metoprolol"), ("nifedipine", "propranolol"), ("氨氯地平", "美托洛尔")]
)
def test_a_dihydropyridine_with_a_beta_blocker_is_not_major(engine: InteractionEngine, a: str, b: str) -> None:
    finding = _finding(engine, a, b)
    assert finding is None or finding.severity.rank <= S.MODERATE.rank, finding


@pytest.mark.parametrize(
    ("a", "b", "at_least"),
    [
        ("verapamil", "metoprolol", S.MAJOR),
        ("diltiazem", "atenolol", S.MAJOR),
        ("warfarin", "aspirin", S.MAJOR),
        ("warfarin", "metronidazole", S.MAJOR),
        ("sildenafil", "nitroglycerin", S.MAJOR),
        ("clarithromycin", "simvastatin", S.MAJOR),
        ("sertraline", "tramadol", S.MAJOR),
        ("lisinopril", "losartan", S.MAJOR),  # a label's major outranks ONC's non-interruptive listing
        ("warfarin", "heparin", S.MAJOR),  # the warfarin label's bleeding table, whatever a thesaurus's lower level
        ("apixaban", "warfarin", S.MAJOR),
        ("atorvastatin", "cyclosporine", S.MAJOR),
        ("clopidogrel", "repaglinide", S.MAJOR),
    ],
)
def test_dangerous_pairs_keep_their_grade(engine: InteractionEngine, a: str, b: str, at_least: Severity) -> None:
    finding = _finding(engine, a, b)
    assert finding is not None and finding.severity.rank >= at_least.rank, (a, b, finding)
    assert finding.explained and finding.evidence in (LABEL, REGULATOR_THESAURUS)


@pytest.mark.parametrize(
    ("a", "b", "product"),
    [
        ("losartan", "hydrochlorothiazide", "hyzaar"),
        ("lisinopril", "hydrochlorothiazide", "prinzide"),
        ("sulfamethoxazole", "trimethoprim", "bactrim"),
        ("复方新诺明", "甲氧苄啶", "bactrim"),  # the Chinese name of the combination against one of its ingredients
    ],
)
def test_ingredients_of_one_product_are_not_a_caution(engine: InteractionEngine, a: str, b: str, product: str) -> None:
    finding = _finding(engine, a, b)
    assert finding is not None and finding.severity is S.MINOR, finding
    assert finding.combined_in == product and finding.to_json()["combined_in"] == product


def test_findings_carry_their_evidence_in_json(engine: InteractionEngine) -> None:
    (finding,) = engine.check(["verapamil", "metoprolol"]).to_json()["interactions"]
    assert finding["evidence"] == LABEL and LABEL in finding["agreeing"] and finding["explained"] is True
    assert finding["passive"] is False


def test_the_subclasses_hold_only_their_members(kb: KnowledgeBase) -> None:
    non_dhp = kb.members("non_dihydropyridine_ccb")
    assert {"verapamil", "diltiazem"} <= non_dhp and "amlodipine" not in non_dhp
    assert non_dhp <= kb.members("ccb") and kb.members("dihydropyridine_ccb") <= kb.members("ccb")
    serotonergic = kb.members("serotonergic_opioid")
    assert {"tramadol", "methadone", "fentanyl"} <= serotonergic and "morphine" not in serotonergic
    assert serotonergic <= kb.members("opioid")


def test_stored_records_are_graded_by_the_same_rules(kb: KnowledgeBase) -> None:
    """Every stored record's severity is what `reconcile` makes of its own sources' grades."""
    for interaction_id, _ in list(kb.pairs.values())[::500]:
        inter = kb.interaction(interaction_id)
        assert inter.grades, inter
        assert reconcile(inter.grades, kb.combined_in(inter.a, inter.b)).severity is inter.severity, inter
        assert inter.evidence == reconcile(inter.grades).evidence
