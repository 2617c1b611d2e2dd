from __future__ import annotations

import numpy as np

from knowledge.retrieval.bm25 import Bm25Index, Bm25Tokenizer
from knowledge.retrieval.chunks import Chunk
from knowledge.retrieval.hybrid import HybridRetriever


def test_drug_names_stay_one_token(tokenizer: Bm25Tokenizer) -> None:
    tokens = tokenizer.tokenize("辛伐他汀和氨氯地平有相互作用吗")
    assert "氨氯地平" in tokens and "辛伐他汀" in tokens
    assert not {"氨", "氯", "地平", "氨氯"} & set(tokens)
    assert "和" not in tokens and "吗" not in tokens  # stopwords


def test_product_names_also_yield_their_ingredient(tokenizer: Bm25Tokenizer) -> None:
    tokens = tokenizer.tokenize("苯磺酸氨氯地平片 Amlodipine Besylate Tablets")
    assert "苯磺酸氨氯地平片" in tokens and "氨氯地平" in tokens
    assert {"amlodipine", "besylate", "tablets"} <= set(tokens)


def test_bm25_ranks_the_matching_chunk_first(tokenizer: Bm25Tokenizer) -> None:
    def chunk(i: str, text: str) -> Chunk:
        return Chunk(i, text, "zh", "", "s", "t", "l", ())

    index = Bm25Index(
        [chunk("a", "氯化钾缓释片，补钾。"), chunk("b", "氨氯地平可降低血压。"), chunk("c", "地平线上的太阳。")],
        tokenizer,
    )
    hits = index.search(tokenizer.tokenize("氨氯地平"), 3)
    assert [i for i, _ in hits] == [1]
    assert Bm25Index([], tokenizer).search(["x"], 3) == []


def test_scores_are_rank_bm25s_to_the_last_bit(retriever: HybridRetriever, tokenizer: Bm25Tokenizer) -> None:
    """The postings give exactly what rank-bm25's own loop over every chunk gives, on the real passages."""
    index = retriever._kb_bm25
    assert index._bm25 is not None and len(index.chunks) > 1000
    for question in [
        "华法林和阿司匹林能一起吃吗？",
        "Can I take warfarin with aspirin?",
        "simvastatin simvastatin grapefruit",  # a repeated term counts twice
        "布洛芬 降压药 zzzunseen",  # a term the corpus never saw adds nothing
        "",
    ]:
        tokens = tokenizer.tokenize(question)
        assert np.array_equal(index.scores(tokens), index._bm25.get_scores(tokens)), question
