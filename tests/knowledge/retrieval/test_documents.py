from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.retrieval.chunks import document_chunks
from knowledge.retrieval.documents import DocumentIndexes, owner_key
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
