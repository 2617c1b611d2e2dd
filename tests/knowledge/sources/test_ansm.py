"""ANSM's interaction thesaurus as a knowledge-base source: the loader over the real October 2020 file, and the
pairs the engine now finds through it in the real knowledge base."""

from __future__ import annotations

import pytest

from knowledge.interactions import InteractionEngine
from knowledge.models import Severity
from knowledge.sources import ansm
from knowledge.sources.catalog import SOURCES
from knowledge.sources.records import PairRecord


@pytest.fixture(scope="module")
def records() -> list[PairRecord]:
    return list(ansm.load_pairs())


def test_every_ansm_level_maps_to_one_of_our_grades_and_is_kept_verbatim(records: list[PairRecord]) -> None:
    words = {r.severity_word for r in records}
    assert words <= set(ansm.SEVERITY)
    assert {"CONTRE-INDICATION", "Association DECONSEILLEE", "Précaution d'emploi", "A prendre en compte"} <= words
    assert ansm.SEVERITY["CONTRE-INDICATION"] is Severity.CONTRAINDICATED
    assert ansm.SEVERITY["Association DECONSEILLEE"] is Severity.MAJOR
    assert ansm.SEVERITY["Précaution d'emploi"] is Severity.MODERATE
    assert ansm.SEVERITY["A prendre en compte"] is Severity.MINOR
    for r in records:
        assert r.severity is ansm.SEVERITY[r.severity_word]
        assert r.source == "ansm" and r.record.startswith("thesaurus 2020-10 entry ")
        assert r.a.startswith("name:") and r.b.startswith("name:") and r.a != r.b


def test_each_level_of_a_dose_graded_entry_is_its_own_record(records: list[PairRecord]) -> None:
    # Entry 14, aspirin + oral anticoagulants: CI at anti-inflammatory doses ... "A prendre en compte" at
    # antiplatelet doses, each with its own condition.
    levels = {
        r.severity_word: r.management
        for r in records
        if r.record.startswith("thesaurus 2020-10 entry 14:")
        and {r.a, r.b} == {"name:Acetylsalicylic acid", "name:Warfarin"}
    }
    assert set(levels) == {"CONTRE-INDICATION", "Association DECONSEILLEE", "A prendre en compte"}
    assert "doses antiagrégantes" in levels["A prendre en compte"]


def test_a_class_rule_expands_to_ansm_s_own_members(records: list[PairRecord]) -> None:
    # "ANTIVITAMINES K" is a class in ANSM's index: warfarin, acenocoumarol and fluindione are its members.
    avk = [r for r in records if ": ANTIVITAMINES K + " in r.record and "(class rule)" in r.record]
    partners = {side for r in avk for side in (r.a, r.b)}
    assert {"name:Warfarin", "name:Acenocoumarol", "name:Fluindione"} <= partners


def test_french_names_map_to_our_english_ingredients() -> None:
    mapped = ansm.substance_mappings()
    assert mapped["ketoconazole"].ingredient == "Ketoconazole"
    assert mapped["amiodarone"].ingredient == "Amiodarone"
    assert mapped["amoxicilline"].ingredient == "Amoxicillin"
    assert mapped["acide valproique"].ingredient == "Valproic acid"
    assert mapped["sodium (chlorure de)"].ingredient == "Sodium chloride"
    assert mapped["magnesium (hydroxyde de)"].ingredient == "Magnesium hydroxide"  # never the bare "magnesium"
    assert mapped["millepertuis"].ingredient == "St. John's Wort"
    assert sum(m.ingredient is not None for m in mapped.values()) >= 1060


def test_an_unmapped_substance_yields_no_record(records: list[PairRecord]) -> None:
    unmapped = {s for s, m in ansm.substance_mappings().items() if m.ingredient is None}
    assert "virus des oreillons" in unmapped
    assert not [r for r in records if "name:" in (r.a, r.b)]


@pytest.mark.parametrize(
    ("a", "b", "word"),
    [
        ("sumatriptan", "ergotamine", "CONTRE-INDICATION"),  # ergot alkaloids + triptans (class rule)
        ("duloxetine", "fluvoxamine", "CONTRE-INDICATION"),  # ANSM has no thioridazine (withdrawn in France)
        ("itraconazole", "midazolam", "Association DECONSEILLEE"),  # potent CYP3A4 inhibitors + midazolam
        ("ketoconazole", "midazolam", "Association DECONSEILLEE"),
        ("ritonavir", "sildenafil", "CONTRE-INDICATION"),  # PDE5 inhibitors + potent CYP3A4 inhibitors
        ("methadone", "efavirenz", "Précaution d'emploi"),  # enzyme inducers + methadone
        ("methadone", "nevirapine", "Précaution d'emploi"),
        ("furosemide", "bumetanide", "Précaution d'emploi"),  # hypokalaemic drugs + other hypokalaemic drugs
        ("methadone", "st. john's wort", "CONTRE-INDICATION"),
    ],
)
def test_the_engine_finds_ansm_pairs_with_their_grade_and_licence(
    engine: InteractionEngine, a: str, b: str, word: str
) -> None:
    found = engine.pair(a, b)
    assert found is not None
    cited = [s for s in found.sources if s.name == "ansm"]
    assert word in {s.severity for s in cited}
    assert all(s.license == SOURCES["ansm"].license and s.record for s in cited)
    assert found.severity.rank >= ansm.SEVERITY[word].rank


@pytest.mark.parametrize(
    ("a", "b", "severity", "mechanism"),
    [
        ("sumatriptan", "ergotamine", Severity.CONTRAINDICATED, "Risque d'hypertension artérielle"),
        ("itraconazole", "midazolam", Severity.MAJOR, "Augmentation des concentrations plasmatiques de midazolam"),
        ("methadone", "efavirenz", Severity.MODERATE, "Diminution des concentrations plasmatiques de méthadone"),
    ],
)
def test_a_pair_only_ansm_holds_carries_its_french_text_and_grade(
    engine: InteractionEngine, a: str, b: str, severity: Severity, mechanism: str
) -> None:
    found = engine.pair(a, b)
    assert found is not None and {s.name for s in found.sources} == {"ansm"}
    assert found.severity is severity
    assert found.mechanism.startswith(mechanism)
    assert "ANSM" in found.summary
