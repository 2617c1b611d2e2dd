from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from knowledge.retrieval import vector_index
from knowledge.retrieval.chunks import Chunk
from knowledge.retrieval.embedders import Embedder
from knowledge.retrieval.vector_index import IndexMismatch, IndexMissing, VectorIndex

TEXTS = [
    "Warfarin with aspirin raises the risk of serious bleeding.",
    "Take metformin with meals to reduce stomach upset.",
    "Amlodipine can cause swelling of the ankles.",
    "Simvastatin should not be taken with grapefruit juice.",
    "Ibuprofen may weaken the effect of blood pressure medicines.",
    "Levothyroxine is taken on an empty stomach before breakfast.",
    "Omeprazole reduces stomach acid and treats ulcers.",
    "Clopidogrel prevents blood clots after a heart attack.",
    "Sildenafil must never be combined with nitroglycerin.",
    "Lithium levels rise with some water pills.",
    "Gabapentin with opioids can slow breathing.",
    "Digoxin toxicity causes nausea and visual changes.",
    "Ciprofloxacin should be taken two hours before antacids.",
    "Prednisone can raise blood sugar.",
    "Amoxicillin is a penicillin antibiotic.",
    "Metoprolol slows the heart rate.",
]


def _chunks(texts: list[str], prefix: str = "c") -> list[Chunk]:
    return [Chunk(f"{prefix}{i}", t, "en", f"title {i}", "s", "test", "CC0", ()) for i, t in enumerate(texts)]


@pytest.fixture(scope="module")
def vectors(minilm: Embedder) -> np.ndarray:
    return minilm.embed_passages(TEXTS)


def _index(minilm: Embedder, vectors: np.ndarray, **kw: object) -> VectorIndex:
    index = VectorIndex(minilm.name, minilm.dim, **kw)  # type: ignore[arg-type]
    index.add(_chunks(TEXTS), vectors)
    return index


def test_search_finds_the_matching_chunk(minilm: Embedder, vectors: np.ndarray) -> None:
    index = _index(minilm, vectors)
    assert index.kind == "flat"
    hits = index.search(minilm.embed_queries(["Is it safe to combine warfarin and aspirin?"])[0], 3)
    assert hits[0][0].id == "c0"
    assert hits[0][1] >= hits[1][1] >= hits[2][1]


def test_save_load_round_trip(minilm: Embedder, vectors: np.ndarray, tmp_path: Path) -> None:
    index = _index(minilm, vectors)
    index.key = "k1"
    index.save(tmp_path / "idx")
    loaded = VectorIndex.load(tmp_path / "idx", minilm.name, minilm.dim)
    assert loaded.chunks == index.chunks and loaded.key == "k1"
    q = minilm.embed_queries(["grapefruit and statins"])[0]
    assert [c.id for c, _ in loaded.search(q, 5)] == [c.id for c, _ in index.search(q, 5)]
    manifest = VectorIndex.read_manifest(tmp_path / "idx")
    assert manifest is not None and (manifest.embedder, manifest.dim, manifest.count) == (minilm.name, 384, 16)


def test_a_crash_mid_save_leaves_the_old_index_readable(
    minilm: Embedder, vectors: np.ndarray, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "idx"
    _index(minilm, vectors).save(directory)
    bigger = _index(minilm, vectors)
    bigger.add(_chunks(["A brand new leaflet paragraph."], prefix="new"), minilm.embed_passages(["A brand new."]))

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(vector_index, "_write_json", crash)  # the index and vectors are written, then it dies
    with pytest.raises(OSError):
        bigger.save(directory)
    monkeypatch.undo()
    old = VectorIndex.load(directory, minilm.name, minilm.dim)
    assert len(old) == len(TEXTS) and "new0" not in old
    assert any(p.name.endswith(".partial") for p in directory.iterdir())  # the debris of the crash
    bigger.save(directory)
    assert "new0" in VectorIndex.load(directory, minilm.name, minilm.dim)
    assert not any(p.name.endswith(".partial") for p in directory.iterdir())
    assert len([p for p in directory.iterdir() if p.name.startswith("v-")]) == 1


def test_an_index_from_another_embedder_is_refused(minilm: Embedder, vectors: np.ndarray, tmp_path: Path) -> None:
    _index(minilm, vectors).save(tmp_path / "idx")
    with pytest.raises(IndexMismatch, match="all-MiniLM-L6-v2"):
        VectorIndex.load(tmp_path / "idx", "use:multilingual-v3", 512)
    with pytest.raises(IndexMismatch):
        VectorIndex.load(tmp_path / "idx", minilm.name, 768)
    with pytest.raises(IndexMissing):
        VectorIndex.load(tmp_path / "nothing", minilm.name, minilm.dim)


def test_hnsw_past_the_threshold_survives_save_and_delete(
    minilm: Embedder, vectors: np.ndarray, tmp_path: Path
) -> None:
    index = _index(minilm, vectors, hnsw_threshold=10)
    assert index.kind == "hnsw"
    q = minilm.embed_queries(["nitroglycerin and sildenafil"])[0]
    assert index.search(q, 1)[0][0].id == "c8"
    assert isinstance(index._index(), faiss.IndexHNSWFlat)
    index.save(tmp_path / "idx")
    loaded = VectorIndex.load(tmp_path / "idx", minilm.name, minilm.dim, hnsw_threshold=10)
    assert isinstance(loaded._index(), faiss.IndexHNSWFlat)
    assert loaded.search(q, 1)[0][0].id == "c8"
    assert loaded.remove(["c8"]) == 1
    assert "c8" not in [c.id for c, _ in loaded.search(q, len(TEXTS))]
    assert isinstance(loaded._index(), faiss.IndexHNSWFlat)


def test_adding_an_existing_id_replaces_it(minilm: Embedder, vectors: np.ndarray) -> None:
    index = _index(minilm, vectors)
    replacement = Chunk("c0", "Metformin and contrast dye.", "en", "", "s", "test", "CC0", ())
    index.add([replacement], minilm.embed_passages([replacement.text]))
    assert len(index) == len(TEXTS)
    assert index.get("c0") == replacement
    hits = index.search(minilm.embed_queries(["warfarin aspirin bleeding"])[0], len(TEXTS))
    assert all("Warfarin" not in c.text for c, _ in hits)


@pytest.mark.parametrize("gpu", [True, False])
def test_the_gpu_is_picked_by_itself(monkeypatch: pytest.MonkeyPatch, gpu: bool) -> None:
    """No setting needed: a faiss that sees a GPU gets exact search there (even past the HNSW threshold), one
    that does not gets HNSW past the threshold; `use_gpu=False` (RXLENS_FAISS_GPU=false) keeps it on the CPU."""
    monkeypatch.setattr(vector_index, "gpu_available", lambda: gpu)
    index = VectorIndex("e", 8, hnsw_threshold=4)
    index.add(_chunks(TEXTS[:6]), np.eye(6, 8, dtype=np.float32))
    assert (index.use_gpu, index.kind) == ((True, "flat") if gpu else (False, "hnsw"))
    off = VectorIndex("e", 8, hnsw_threshold=4, use_gpu=False)
    off.add(_chunks(TEXTS[:6]), np.eye(6, 8, dtype=np.float32))
    assert (off.use_gpu, off.kind) == (False, "hnsw")
    assert vector_index.gpu_available() is gpu
