from __future__ import annotations

import pytest

from knowledge.lexicon import Lexicon
from knowledge.retrieval.hybrid import HybridRetriever, mention_refs

WARFARIN_ASPIRIN = {"mcp:1", "curated:CUR-020", "curated:CUR-020:zh"}


@pytest.mark.parametrize("question", ["Can I take warfarin with aspirin?", "华法林和阿司匹林能一起吃吗"])
def test_the_warfarin_aspirin_passage_is_in_the_top_5(
    retriever: HybridRetriever, lexicon: Lexicon, question: str
) -> None:
    refs = mention_refs(lexicon.find_mentions(question))
    assert refs == {"drug:warfarin", "drug:aspirin"}
    hits = retriever.search(question, k=5, boost_refs=refs)
    assert len(hits) == 5
    assert WARFARIN_ASPIRIN & {h.chunk.passage_id for h in hits}


def test_passages_about_both_drugs_rank_above_passages_about_one(retriever: HybridRetriever) -> None:
    refs = {"drug:amlodipine", "drug:simvastatin"}
    hits = retriever.search("辛伐他汀和氨氯地平有相互作用吗", k=10, boost_refs=refs)
    both = [refs <= set(h.chunk.refs) for h in hits]
    assert both[0] and "curated:CUR-039" in {h.chunk.passage_id for h in hits}
    assert both == sorted(both, reverse=True)  # no single-drug chunk before a two-drug chunk
    assert hits == sorted(hits, key=lambda h: -h.score)


def test_class_level_rules_count_as_being_about_the_drug(retriever: HybridRetriever) -> None:
    # Ibuprofen is an NSAID and lisinopril an ACE inhibitor: the class rule CUR-014 covers the pair.
    hits = retriever.search("赖诺普利和布洛芬一起吃有问题吗", k=5, boost_refs={"drug:lisinopril", "drug:ibuprofen"})
    assert "curated:CUR-014" in {h.chunk.passage_id for h in hits} or "curated:CUR-014:zh" in {
        h.chunk.passage_id for h in hits
    }


def test_modes_report_their_own_ranks(retriever: HybridRetriever) -> None:
    q = "What is the dose of metformin?"
    dense = retriever.search(q, k=5, mode="dense")
    bm25 = retriever.search(q, k=5, mode="bm25")
    hybrid = retriever.search(q, k=5)
    assert [h.dense_rank for h in dense] == [1, 2, 3, 4, 5] and all(h.bm25_rank is None for h in dense)
    assert [h.bm25_rank for h in bm25] == [1, 2, 3, 4, 5] and all(h.dense_rank is None for h in bm25)
    assert all(h.dense_rank or h.bm25_rank for h in hybrid)
    assert any("metformin" in h.chunk.id and "dosage" in h.chunk.id for h in hybrid)


def test_mention_refs_are_ingredients_and_named_classes(lexicon: Lexicon) -> None:
    assert mention_refs(lexicon.find_mentions("布洛芬和降压药")) >= {"drug:ibuprofen"}
    assert any(r.startswith("class:") for r in mention_refs(lexicon.find_mentions("布洛芬和降压药")))
    assert mention_refs(lexicon.find_mentions("Zorblaxitol")) == set()
