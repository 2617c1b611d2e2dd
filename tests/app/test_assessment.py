"""The assessment decides what was asked and the verdict for it: document subjects against the question's drugs,
never the drugs a document merely names; unknown names, drugs without interaction data and the user's own
document's warnings are never read as an all-clear."""

from __future__ import annotations

import pytest

from app.answer import Evidence, Verdict
from app.chain import AnswerChain, DocumentContext
from app.composer import TemplateComposer
from knowledge.interactions import InteractionEngine
from knowledge.lexicon import Lexicon


@pytest.fixture(scope="module")
def chain(engine: InteractionEngine) -> AnswerChain:
    return AnswerChain(engine, TemplateComposer(engine.lexicon))


def leaflet(lexicon: Lexicon, product: str, sections: dict[str, str], document_id: str = "doc-1") -> DocumentContext:
    """A leaflet as the chain sees it: its product is the subject, the drugs its sections name are only
    mentioned."""
    fields = [
        Evidence(text=text, source="uploaded document", document_id=document_id, field=name, bbox=[[0, 0], [1, 0]])
        for name, text in sections.items()
    ]
    return DocumentContext(document_id=document_id, mentions=lexicon.find_mentions(product), fields=fields)


def test_an_unknown_name_in_a_list_gives_insufficient_data_naming_it(chain: AnswerChain) -> None:
    for question, name in (
        ("Can I take Zorblax, paracetamol and amlodipine?", "Zorblax"),
        ("快乐丸、对乙酰氨基酚和氨氯地平能一起吃吗？", "快乐丸"),
    ):
        answer = chain.ask(question)
        assert answer.verdict is Verdict.INSUFFICIENT_DATA, answer.answer
        assert name in answer.unrecognized
        assert name in answer.answer.split("\n")[0] or name in answer.answer.split("\n")[1]
        unknown = [p for p in answer.asked if p.coverage == "unrecognized"]
        assert unknown and all(name in (p.a.text, p.b.text) for p in unknown)


def test_an_unknown_name_on_the_medication_list_is_not_dropped(chain: AnswerChain) -> None:
    answer = chain.ask("Can I take aspirin with these?", medications=["paracetamol", "Zorblax"])
    assert answer.verdict is Verdict.INSUFFICIENT_DATA
    assert "Zorblax" in answer.unrecognized and "Zorblax" in answer.answer


def test_a_known_drug_without_interaction_data_is_not_an_all_clear(chain: AnswerChain, lexicon: Lexicon) -> None:
    # Benzbromarone is in our sources by name but no source holds an interaction record for it (nor for its
    # classes): its pairs are "no data", not "no interaction known".
    assert lexicon.resolve("苯溴马隆").recognized and not lexicon.kb.has_interaction_data("benzbromarone")
    for question in ("苯溴马隆和华法林能一起吃吗？", "Can I take benzbromarone with warfarin?"):
        answer = chain.ask(question)
        assert answer.verdict is Verdict.INSUFFICIENT_DATA, answer.answer
        assert answer.asked[0].coverage == "no_interaction_data"
        first = answer.answer.split("\n")[0]
        assert ("苯溴马隆" in first and "相互作用数据" in first) or "no interaction data for benzbromarone" in first


def test_the_users_document_stating_a_contraindication_makes_it_avoid(chain: AnswerChain, lexicon: Lexicon) -> None:
    doc = leaflet(
        lexicon,
        "苯溴马隆片",
        {"interactions": "水杨酸类药物（如阿司匹林）及吡嗪酰胺可减弱本品的促尿酸排泄作用，不宜同用。"},
    )
    answer = chain.ask("这药能和阿司匹林一起吃吗？", documents=[doc])
    assert answer.verdict is Verdict.AVOID  # no source has a record: the leaflet's own sentence decides
    assert not answer.findings
    cited = [c for c in answer.citations if c.kind == "document"]
    assert cited and "不宜同用" in cited[0].text and cited[0].bbox
    assert answer.asked[0].statements[0].level is Verdict.AVOID


def test_a_weaker_stated_interaction_makes_it_at_least_caution(chain: AnswerChain, lexicon: Lexicon) -> None:
    doc = leaflet(lexicon, "苯溴马隆片", {"interactions": "与吡嗪酰胺同用时，本品的作用减弱。"})
    answer = chain.ask("能和吡嗪酰胺一起吃吗", documents=[doc])
    assert answer.verdict is Verdict.CAUTION, answer.answer


def test_drugs_a_leaflet_merely_names_are_never_paired(chain: AnswerChain, lexicon: Lexicon) -> None:
    doc = leaflet(
        lexicon,
        "布洛芬缓释胶囊",
        {
            "interactions": "本品与肝素、双香豆素等抗凝药同用时，可导致凝血酶原时间延长，增加出血倾向。"
            "本品与地高辛、甲氨蝶呤同用时，能使这些药物的血药浓度增高，不宜同用。",
            "contraindications": "对阿司匹林过敏的哮喘患者禁用。",
        },
    )
    answer = chain.ask("这药能和降压片一起吃吗？", documents=[doc])
    assert answer.verdict is Verdict.CAUTION
    assert answer.findings and all("ibuprofen" in (f.a, f.b) for f in answer.findings)
    assert answer.answer.startswith("布洛芬缓释胶囊和降压片：")
    assert [(p.a.text, p.b.text) for p in answer.asked] == [("布洛芬缓释胶囊", "降压片")]


@pytest.mark.parametrize(
    "question",
    [
        "这张处方上的药能和华法林一起吃吗？",
        "处方上的这些药和华法林能一起吃吗",
        "Can I take the drugs on this prescription with warfarin?",
        "Can my father take these medicines with warfarin?",
    ],
)
def test_words_that_point_at_the_document_are_its_drugs_not_an_unknown_one(
    chain: AnswerChain, lexicon: Lexicon, question: str
) -> None:
    """ "这张处方上的药" was once read as a drug we do not know, and the answer was "insufficient data"."""
    rx = DocumentContext(document_id="rx-1", mentions=lexicon.find_mentions("布洛芬缓释胶囊 阿莫西林胶囊"), fields=[])
    answer = chain.ask(question, documents=[rx])
    assert not answer.unrecognized, answer.answer
    pairs = {frozenset((p.a.text, p.b.text)) for p in answer.asked}
    assert len(pairs) == 2 and all(any("华法林" in t or "warfarin" in t.lower() for t in p) for p in pairs)
    assert answer.verdict is Verdict.AVOID  # ibuprofen + warfarin


def test_the_asked_pair_comes_first_among_the_users_medicines(chain: AnswerChain, lexicon: Lexicon) -> None:
    doc = leaflet(lexicon, "华法林钠片", {"interactions": "胺碘酮可增强本品的抗凝作用。"})
    answer = chain.ask("我妈在吃这个，能吃阿司匹林吗", documents=[doc])
    first = answer.findings[0]
    assert {first.a, first.b} == {"warfarin", "aspirin"}
    assert answer.answer.split("\n")[0].startswith("华法林钠片和阿司匹林：")
    # amiodarone is only named by the leaflet: no finding about it
    assert all("amiodarone" not in (f.a, f.b) for f in answer.findings)
    # on the user's own list it is one of their medicines: its finding with warfarin comes apart, after
    with_list = chain.ask("我妈在吃这个，能吃阿司匹林吗", documents=[doc], medications=["胺碘酮"])
    assert {with_list.findings[0].a, with_list.findings[0].b} == {"warfarin", "aspirin"}
    assert with_list.answer.split("\n")[0].startswith("华法林钠片和阿司匹林：")
    assert any({f.a, f.b} == {"warfarin", "amiodarone"} for f in with_list.findings[1:])
    flags = [f["asked"] for f in with_list.to_json()["findings"]]
    assert flags[0] is True and flags[-1] is False


def test_a_follow_up_keeps_the_drugs_discussed_before(chain: AnswerChain, lexicon: Lexicon) -> None:
    answer = chain.ask("那和阿司匹林呢？", discussed=lexicon.find_mentions("华法林"))
    assert answer.verdict is Verdict.AVOID
    assert {answer.findings[0].a, answer.findings[0].b} == {"warfarin", "aspirin"}
    english = chain.ask("And with aspirin?", discussed=lexicon.find_mentions("warfarin"))
    assert english.verdict is Verdict.AVOID and english.asked[0].a.origin == "conversation"


@pytest.mark.parametrize(
    ("question", "intent", "section"),
    [
        ("阿司匹林怎么吃？", "dosage", "dosage_and_administration"),
        ("What are the side effects of metformin?", "side_effects", "adverse_reactions"),
        ("Who should not take atorvastatin?", "contraindication", "contraindications"),
    ],
)
def test_a_question_about_one_drug_quotes_its_label_section(
    chain: AnswerChain, question: str, intent: str, section: str
) -> None:
    answer = chain.ask(question)
    assert answer.intent == intent and answer.verdict is Verdict.INFO
    assert answer.topic is not None and answer.topic.found
    assert any(c.kind == "passage" and c.field in answer.topic.sections for c in answer.citations)


def test_a_missing_section_is_said_plainly(chain: AnswerChain) -> None:
    answer = chain.ask("What reverses heparin?")
    assert answer.topic is not None and not answer.topic.found
    assert "no overdose and antidote information for heparin" in answer.answer
    assert "pharmacist" in answer.answer
