"""The focus and consumer sets: deterministic builders of the promised size, asked pairs the lexicon resolves,
and metric functions that score hand-made answers right."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.datasets import consumer, focus
from evals.datasets.focus import FocusItem, Turn
from evals.suites.consumer import answered
from evals.suites.focus import first_finding_is_asked, first_sentence_is_asked, follow_up_kept, mentioned_pairs
from knowledge.lexicon import Lexicon
from knowledge.store import KnowledgeBase


@pytest.fixture(scope="module")
def lexicon(kb_path: Path) -> Lexicon:
    return Lexicon(KnowledgeBase(kb_path))


def _item(turn: Turn) -> FocusItem:
    return FocusItem(
        id="t",
        lang="zh",
        doc="d",
        doc_type="leaflet",
        image={},
        subjects=("ibuprofen",),
        a="ibuprofen",
        a_words=("芬必得",),
        mentioned=("aspirin", "heparin", "digoxin"),
        turn=turn,
    )


BP = Turn("这药能和降压片一起吃吗？", "antihypertensive", "class", ("降压片",), "caution")
ASPIRIN = Turn("那和阿司匹林呢？", "aspirin", "drug", ("阿司匹林",), "avoid")


def _finding(a: str, b: str, via: str | None = None) -> dict[str, object]:
    return {"a": a, "b": b, "severity": "major", **({"via_class": via} if via else {})}


def test_an_answer_about_the_asked_pair_scores_one(lexicon: Lexicon) -> None:
    item = _item(BP)
    good = {
        "answer": "布洛芬和降压药：可能降低降压效果，需要注意。\n……",
        "findings": [_finding("amlodipine", "ibuprofen", "antihypertensive"), _finding("aspirin", "heparin")],
    }
    assert first_finding_is_asked(good, item.a, BP, {"amlodipine"})
    assert first_sentence_is_asked(good, item, BP, lexicon)
    assert mentioned_pairs(good, item.mentioned) == 1
    # a class member without via_class counts too, in either order
    assert first_finding_is_asked({"findings": [_finding("ibuprofen", "amlodipine")]}, item.a, BP, {"amlodipine"})


def test_an_answer_about_two_mentioned_drugs_scores_zero(lexicon: Lexicon) -> None:
    item = _item(BP)
    bad = {
        "answer": "阿司匹林和肝素：避免合用，出血风险增加。\n" + "……" * 200,
        "findings": [_finding("aspirin", "heparin"), _finding("digoxin", "aspirin")],
    }
    assert not first_finding_is_asked(bad, item.a, BP, {"amlodipine"})
    assert not first_sentence_is_asked(bad, item, BP, lexicon)
    assert mentioned_pairs(bad, item.mentioned) == 2


def test_the_first_line_after_an_urgent_warning_is_the_one_scored(lexicon: Lexicon) -> None:
    item = _item(ASPIRIN)
    result = {"answer": "⚠ 如有出血请立即就医。\n芬必得和阿司匹林：避免合用。", "urgent": True, "findings": []}
    assert first_sentence_is_asked(result, item, ASPIRIN, lexicon)


def test_a_follow_up_is_kept_when_it_stays_on_the_subject() -> None:
    kept = {
        "drugs": [{"ingredients": ["ibuprofen"]}, {"ingredients": ["aspirin"]}],
        "findings": [_finding("aspirin", "ibuprofen")],
    }
    lost = {"drugs": [{"ingredients": ["aspirin"]}], "findings": []}
    assert follow_up_kept(kept, "ibuprofen", ASPIRIN)
    assert not follow_up_kept(lost, "ibuprofen", ASPIRIN)


def test_consumer_metric_counts_the_gold_section_or_an_honest_missing() -> None:
    item = consumer.ConsumerItem("c", "en", "What reverses heparin?", "heparin", "overdosage", False)
    assert answered({"topic": {"found": False}}, item, {})
    assert not answered({"topic": {"found": True}, "citations": []}, item, {})
    labelled = consumer.ConsumerItem("c", "en", "Dose?", "metformin", "dosage_and_administration", True, ("p1",))
    gold = {"p1": ("set_id x v2", "dosage_and_administration", "Take 500 mg twice a day with meals.")}
    cite = {
        "citations": [
            {"id": 1, "source": "dailymed", "text": "…", "record": "set_id x v2", "field": "dosage_and_administration"}
        ]
    }
    other = {
        "citations": [
            {"id": 1, "source": "dailymed", "text": "…", "record": "set_id x v2", "field": "adverse_reactions"}
        ]
    }
    assert answered(cite, labelled, gold)
    assert not answered(other, labelled, gold)


@pytest.mark.slow
def test_focus_builder_is_deterministic_sized_and_resolvable(lexicon: Lexicon, tmp_path: Path) -> None:
    committed = focus.ITEMS.read_text(encoding="utf-8")
    try:
        built = focus.build()
        first = focus.ITEMS.read_text(encoding="utf-8")
        assert focus.build() == built  # same seed, texts and knowledge base: the same items
        assert focus.ITEMS.read_text(encoding="utf-8") == first
    finally:
        focus.ITEMS.write_text(committed, encoding="utf-8")
    assert len(built) >= 60
    assert {i.doc_type for i in built} == {"leaflet", "package", "label", "prescription"}
    assert {i.lang for i in built} == {"zh", "en"}
    assert sum(1 for i in built if i.follow_up) >= 8
    for item in built:
        assert item.a in item.subjects
        for turn in (item.turn, item.follow_up):
            if turn is None:
                continue
            m = lexicon.resolve(turn.b_words[0])
            assert m.recognized, turn
            assert (turn.b in m.class_ids) if turn.b_kind == "class" else (turn.b in m.ingredients)
        assert item.a not in item.mentioned
    headline = {(i.a, i.turn.b) for i in built}
    for pair in (
        ("ibuprofen", "antihypertensive"),
        ("warfarin", "aspirin"),
        ("simvastatin", "clarithromycin"),
        ("metformin", "antihypertensive"),
    ):
        assert pair in headline


def test_consumer_set_is_sized_and_labelled() -> None:
    items = consumer.load()
    assert len(items) >= 50
    assert {i.lang for i in items} == {"zh", "en"}
    assert sum(1 for i in items if not i.section_in_kb) >= 8
    assert all(i.gold for i in items if i.section_in_kb)
    assert sum(1 for i in items if i.image) >= 4
    lines = consumer.ITEMS.read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["id"] for x in lines] == [i.id for i in items]


@pytest.mark.slow
def test_consumer_builder_is_deterministic() -> None:
    committed = consumer.ITEMS.read_text(encoding="utf-8")
    try:
        assert consumer.build() == consumer.build()
    finally:
        consumer.ITEMS.write_text(committed, encoding="utf-8")
