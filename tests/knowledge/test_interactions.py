from __future__ import annotations

import pytest

from knowledge.interactions import InteractionEngine
from knowledge.models import Severity

PROBE_PAIRS = [
    (("ibuprofen", "lisinopril"), ("布洛芬", "赖诺普利")),
    (("amlodipine", "simvastatin"), ("氨氯地平", "辛伐他汀")),
    (("sildenafil", "nitroglycerin"), ("西地那非", "硝酸甘油")),
    (("warfarin", "aspirin"), ("华法林", "阿司匹林")),
    (("spironolactone", "potassium chloride"), ("螺内酯", "氯化钾")),
    (("clarithromycin", "amlodipine"), ("克拉霉素", "氨氯地平")),
    (("metformin", "iohexol"), ("二甲双胍", "碘海醇")),
    (("amoxicillin", "methotrexate"), ("阿莫西林", "甲氨蝶呤")),
]


@pytest.mark.parametrize(("english", "chinese"), PROBE_PAIRS)
def test_known_interactions_are_reported_moderate_or_higher_in_both_languages(
    engine: InteractionEngine, english: tuple[str, str], chinese: tuple[str, str]
) -> None:
    for names in (english, chinese):
        result = engine.check(list(names))
        assert result.all_recognized, names
        pair = [i for i in result.interactions if {i.a, i.b} == set(english)]
        assert pair, names
        assert pair[0].severity.rank >= Severity.MODERATE.rank
        assert pair[0].sources and all(s.name and s.record and s.license for s in pair[0].sources)


def test_sildenafil_with_a_nitrate_is_contraindicated_with_mechanism(engine: InteractionEngine) -> None:
    (finding,) = engine.check(["Viagra", "nitroglycerin"]).interactions
    assert finding.severity is Severity.CONTRAINDICATED
    assert finding.mechanism and finding.management
    assert {s.name for s in finding.sources} >= {"drug_interaction_mcp", "rxlens_curated"}


def test_metformin_with_the_class_word_iodinated_contrast(engine: InteractionEngine) -> None:
    result = engine.check(["metformin", "iodinated contrast"])
    assert result.interactions[0].severity.rank >= Severity.MAJOR.rank
    assert result.interactions[0].via_class == "iodinated_contrast"


def test_ibuprofen_against_blood_pressure_pills_is_grouped_by_member_class(engine: InteractionEngine) -> None:
    result = engine.check(["布洛芬 降压药"])
    groups = {i.b: i for i in result.interactions}
    assert {"ace_inhibitor", "arb", "diuretic"} <= set(groups)
    for group in ("ace_inhibitor", "arb", "diuretic"):
        assert groups[group].a == "ibuprofen"
        assert groups[group].via_class == "antihypertensive"
        assert groups[group].severity.rank >= Severity.MODERATE.rank


def test_made_up_name_is_unrecognized_and_no_all_clear_is_given(engine: InteractionEngine) -> None:
    result = engine.check(["aspirin", "Zorblaxitol"])
    assert result.unrecognized == ["Zorblaxitol"]
    assert not result.all_recognized
    assert result.to_json()["unrecognized"] == ["Zorblaxitol"]


def test_amoxicillin_with_paracetamol_is_not_major(engine: InteractionEngine) -> None:
    result = engine.check(["amoxicillin", "paracetamol"])
    assert all(i.severity.rank < Severity.MAJOR.rank for i in result.interactions)


def test_chelation_class_rule_fills_a_gap_of_the_other_sources(engine: InteractionEngine) -> None:
    (finding,) = engine.check(["ciprofloxacin", "calcium carbonate"]).interactions
    assert finding.severity.rank >= Severity.MODERATE.rank
    assert any(s.name == "rxlens_curated" for s in finding.sources)


def test_duplicate_therapy_same_ingredient_and_two_nsaids(engine: InteractionEngine) -> None:
    result = engine.check(["芬必得", "Advil", "naproxen"])
    kinds = {(d.kind, d.what) for d in result.duplicates}
    assert ("ingredient", "ibuprofen") in kinds
    assert ("class", "nsaid") in kinds


@pytest.mark.parametrize(
    ("a", "b", "cls"),
    [("furosemide", "ethacrynic acid", "loop_diuretic"), ("diclofenac", "salsalate", "nsaid")],
)
def test_labels_that_forbid_two_of_a_class_are_duplicates(engine: InteractionEngine, a: str, b: str, cls: str) -> None:
    """The furosemide label: "should not be used concomitantly with ethacrynic acid"; the diclofenac label: not
    with other NSAIDs (salsalate is a salicylate NSAID)."""
    result = engine.check([a, b])
    assert ("class", cls) in {(d.kind, d.what) for d in result.duplicates}, result.duplicates


def test_json_shape(engine: InteractionEngine) -> None:
    out = engine.check(["Amlodipne", "simvastatin"]).to_json()
    assert set(out) == {"drugs", "interactions", "duplicates", "unrecognized"}
    drug = out["drugs"][0]
    assert drug == {
        "input": "Amlodipne",
        "recognized": True,
        "ingredients": ["amlodipine"],
        "classes": drug["classes"],
        "corrected_from": "Amlodipne",
    }
    inter = out["interactions"][0]
    assert {"a", "b", "severity", "summary", "mechanism", "management", "sources"} <= set(inter)
    assert set(inter["sources"][0]) == {"name", "record", "license", "severity"}
    assert inter["a"] == inter["a"].lower()


def test_salt_forms_meet_their_parent_drug(engine: InteractionEngine) -> None:
    """DrugBank files salts as their own entries; interaction records sit under either. 碳酸锂 is lithium."""
    for pair in (["碳酸锂", "赖诺普利"], ["lithium carbonate", "hydrochlorothiazide"], ["芬太尼", "阿普唑仑"]):
        result = engine.check(pair)
        assert result.interactions and result.interactions[0].severity.rank >= Severity.MAJOR.rank, pair
    assert engine.lexicon.resolve("Diclofenac Sodium").ingredients == ("diclofenac",)
    assert engine.lexicon.resolve("calcium carbonate").ingredients == ("calcium carbonate",)  # an antacid stays one


def test_label_contraindications_missing_from_other_sources(engine: InteractionEngine) -> None:
    for pair in (["fluoxetine", "thioridazine"], ["帕罗西汀", "硫利达嗪"]):
        (finding,) = engine.check(pair).interactions
        assert finding.severity is Severity.CONTRAINDICATED


def test_source_misspellings_still_join_their_rows(engine: InteractionEngine) -> None:
    """The ONC high-priority list writes "Moclobamide": rule 31 (triptans + MAOIs) must still reach moclobemide,
    while a user who types the misspelling is told it was corrected, not handed it as a name."""
    (finding,) = engine.check(["rizatriptan", "moclobemide"]).interactions
    assert finding.severity.rank >= Severity.MAJOR.rank
    assert "onc_high_priority" in {s.name for s in finding.sources}
    assert engine.lexicon.resolve("moclobamide").corrected_from == "moclobamide"
    assert engine.lexicon.resolve("medroxyprogesterone").ingredients == ("medroxyprogesterone acetate",)
    for botanical in ("hypericum", "贯叶连翘"):  # not Hyperium (rilmenidine), one letter away
        assert engine.lexicon.resolve(botanical).ingredients == ("st. john's wort",)


def test_a_beta_blocker_against_calcium_channel_blockers_is_major_only_for_verapamil_and_diltiazem(
    engine: InteractionEngine,
) -> None:
    groups = {i.b: i for i in engine.check(["metoprolol", "calcium channel blocker"]).interactions}
    assert groups["non_dihydropyridine_ccb"].severity.rank >= Severity.MAJOR.rank
    assert set(groups["non_dihydropyridine_ccb"].members) <= {"verapamil", "diltiazem", "gallopamil", "etripamil"}
    dhp = groups.get("dihydropyridine_ccb")
    assert dhp is None or dhp.severity.rank <= Severity.MODERATE.rank


def test_ssri_serotonin_syndrome_rule_reaches_serotonergic_opioids_only(engine: InteractionEngine) -> None:
    (tramadol,) = engine.check(["sertraline", "tramadol"]).interactions
    assert tramadol.severity.rank >= Severity.MAJOR.rank
    assert all(
        s.name != "rxlens_curated" or "CUR-027" not in s.record
        for i in engine.check(["sertraline", "morphine"]).interactions
        for s in i.sources
    )


def test_digoxin_with_verapamil_is_flagged_from_the_digoxin_label(engine: InteractionEngine) -> None:
    (finding,) = engine.check(["digoxin", "verapamil"]).interactions
    assert finding.severity.rank >= Severity.MODERATE.rank
    assert any(s.name == "rxlens_curated" and "CUR-068" in s.record for s in finding.sources)
    assert not any(
        "CUR-068" in s.record for i in engine.check(["digoxin", "amlodipine"]).interactions for s in i.sources
    )
