from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.retrieval.chunks import Chunk, document_chunks
from knowledge.retrieval.documents import DocumentIndexes, footprint, owner_key
from knowledge.retrieval.embedders import Embedder
from knowledge.retrieval.hybrid import HybridRetriever

LEAFLET = "Zorblax 20 mg chewable wafers: dissolve one wafer under the tongue at bedtime, never with grape juice."


def test_one_owners_document_is_never_returned_for_another(retriever: HybridRetriever) -> None:
    assert retriever.documents is not None
    chunk = document_chunks(owner="owner-a", document_id="leaflet-a", field="usage", text=LEAFLET, lang="en")
    retriever.documents.add_document("owner-a", chunk)

    for mode in ("hybrid", "dense", "bm25"):
        mine = retriever.search(LEAFLET, k=5, owner="owner-a", mode=mode)
        assert mine[0].chunk.id == "doc:leaflet-a:usage" and mine[0].chunk.owner == "owner-a", mode
        for owner in ("owner-b", None):
            theirs = retriever.search(LEAFLET, k=50, owner=owner, mode=mode)
            assert theirs, mode
            assert all(h.chunk.owner is None for h in theirs), (mode, owner)
    # Restricting to other documents of the same owner leaves this one out, too.
    only_other = retriever.search(LEAFLET, k=50, owner="owner-a", document_ids={"leaflet-z"})
    assert all(h.chunk.document_id is None for h in only_other)


def test_documents_live_in_a_hashed_directory_per_owner(retriever: HybridRetriever) -> None:
    assert retriever.documents is not None
    retriever.documents.add_document(
        "owner-c", document_chunks(owner="owner-c", document_id="d", field="f", text="text", lang="en")
    )
    directory = retriever.documents.owner_dir("owner-c")
    assert directory.name == owner_key("owner-c") and "owner-c" not in str(directory)
    assert (directory / "CURRENT").exists()
    assert not retriever.documents.owner_dir("owner-d").exists()


def test_delete_removes_a_documents_chunks_on_disk_too(default_embedder: Embedder, owners_dir: Path) -> None:
    docs = DocumentIndexes(owners_dir, default_embedder)
    keep = document_chunks(owner="u", document_id="keep", field="usage", text="Take one tablet daily.", lang="en")
    drop = document_chunks(
        owner="u",
        document_id="drop",
        field="warnings",
        text="Do not drive. Avoid alcohol. 服药期间不要饮酒。",
        lang="en",
    ) + document_chunks(owner="u", document_id="drop", field="usage", text="Twice a day.", lang="en")
    docs.add_document("u", keep)
    docs.add_document("u", drop)
    assert docs.documents("u") == {"keep", "drop"}
    assert docs.delete_document("u", "drop") == 2
    assert docs.delete_document("u", "drop") == 0
    reopened = DocumentIndexes(owners_dir, default_embedder).index_for("u")
    assert reopened is not None and [c.id for c in reopened.chunks] == ["doc:keep:usage"]
    docs.delete_owner("u")
    assert DocumentIndexes(owners_dir, default_embedder).index_for("u") is None


def test_re_adding_a_document_replaces_its_chunks(default_embedder: Embedder, owners_dir: Path) -> None:
    docs = DocumentIndexes(owners_dir, default_embedder)
    docs.add_document("u", document_chunks(owner="u", document_id="d", field="a", text="old", lang="en"))
    docs.add_document("u", document_chunks(owner="u", document_id="d", field="b", text="new", lang="en"))
    index = docs.index_for("u")
    assert index is not None and [c.id for c in index.chunks] == ["doc:d:b"]


def test_chunks_of_another_owner_are_refused(default_embedder: Embedder, owners_dir: Path) -> None:
    docs = DocumentIndexes(owners_dir, default_embedder)
    chunk = document_chunks(owner="a", document_id="d", field="f", text="t", lang="en")
    with pytest.raises(ValueError):
        docs.add_document("b", chunk)


def _one_chunk(owner: str) -> list[Chunk]:
    return document_chunks(
        owner=owner, document_id=f"doc-{owner}", field="usage", text=f"{owner}: {LEAFLET}", lang="en"
    )


def test_owner_indexes_in_memory_stay_within_their_count(default_embedder: Embedder, owners_dir: Path) -> None:
    docs = DocumentIndexes(owners_dir, default_embedder, max_loaded=3)
    left: list[str] = []
    docs.on_change(left.append)
    owners = [f"owner-{i}" for i in range(12)]
    for owner in owners:
        docs.add_document(owner, _one_chunk(owner))
        assert docs.loaded() <= 3
    assert {"owner-0", "owner-8"} <= set(left)  # dropped owners' caches are told to go too
    # An owner dropped from memory is read from disk again, whole, and the bound still holds.
    for owner in reversed(owners):
        index = docs.index_for(owner)
        assert index is not None and [c.document_id for c in index.chunks] == [f"doc-{owner}"]
        assert docs.loaded() <= 3
    assert docs.version("owner-0") > 0 and docs.version("owner-11") == 0  # 0: not in memory


def test_owner_indexes_in_memory_stay_within_their_bytes(default_embedder: Embedder, owners_dir: Path) -> None:
    docs = DocumentIndexes(owners_dir, default_embedder, max_loaded=100)
    docs.add_document("a", _one_chunk("a"))
    index = docs.index_for("a")
    assert index is not None
    one = footprint(index)
    docs.max_loaded_bytes = 2 * one
    for i in range(8):
        docs.add_document(f"o{i}", _one_chunk(f"o{i}"))
        assert docs.loaded() <= 2
    # One index larger than the whole budget still loads (alone): a big library is slow, not unsearchable.
    big = [
        c for f in "abc" for c in document_chunks(owner="big", document_id="doc-big", field=f, text=LEAFLET, lang="en")
    ]
    docs.add_document("big", big)
    assert docs.loaded() == 1 and docs.index_for("big") is not None


def test_cached_owner_tokens_stay_within_the_same_bound(
    retriever: HybridRetriever, default_embedder: Embedder, owners_dir: Path
) -> None:
    docs = DocumentIndexes(owners_dir, default_embedder, max_loaded=2)
    bounded = HybridRetriever(retriever.kb_index, default_embedder, retriever.tokenizer, documents=docs)
    owners = [f"owner-{i}" for i in range(6)]
    for owner in owners:
        docs.add_document(owner, _one_chunk(owner))
    for _ in range(2):
        for owner in owners:
            hits = bounded.search(f"{owner} zorblax wafers", k=3, owner=owner, mode="bm25")
            assert hits[0].chunk.document_id == f"doc-{owner}"
            assert len(bounded._doc_tokens) <= 2
