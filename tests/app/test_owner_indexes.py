"""Owners' indexes kept in the user database (app/owner_indexes.py), on SQLite and on PostgreSQL: each node's
in-memory copies stay within their bounds and are rebuilt from the database when evicted or stale (another node
changed the owner's documents), and damaged stored vectors are embedded again, never dropped."""

from __future__ import annotations

import hashlib

import numpy as np
from sqlalchemy import text

from app.owner_indexes import StoredDocumentIndexes
from app.persistence.database import Database
from app.persistence.repositories import ChunkRepository, DocumentRepository
from knowledge.retrieval.chunks import Chunk, document_chunks

DIM = 8


class CountingEmbedder:
    """Deterministic unit vectors from the text's hash; counts what it embeds."""

    name = "counting-test-embedder"
    dim = DIM

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def _vector(self, text: str) -> np.ndarray:
        seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
        v = np.random.default_rng(seed).random(DIM, dtype=np.float32)
        return v / np.linalg.norm(v)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.embedded += texts
        return np.stack([self._vector(t) for t in texts]).astype(np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)


def node(db: Database, embedder: CountingEmbedder, max_loaded: int = 64) -> StoredDocumentIndexes:
    return StoredDocumentIndexes(ChunkRepository(db), embedder, use_gpu=False, max_loaded=max_loaded)  # type: ignore[arg-type]


def document(db: Database, owner: str, text_: str) -> tuple[str, list[Chunk]]:
    row, _ = DocumentRepository(db).add(
        owner,
        sha256=hashlib.sha256(text_.encode()).hexdigest(),
        filename=None,
        doc_type="leaflet",
        parsed={},
        data=b"\x89PNG",
        content_type="image/png",
    )
    return row.id, document_chunks(owner=owner, document_id=row.id, field="usage", text=text_, lang="zh")


def test_each_node_keeps_a_bounded_cache_rebuilt_from_the_database(database_url: str) -> None:
    db = Database(database_url)
    embedder = CountingEmbedder()
    indexes = node(db, embedder, max_loaded=2)
    ids = {}
    for owner in ("a", "b", "c"):
        ids[owner], chunks = document(db, owner, f"{owner} 一次1片，一日3次。")
        indexes.add_document(owner, chunks)
    for owner in ("a", "b", "c"):
        assert indexes.documents(owner) == {ids[owner]}
        assert indexes.loaded() <= 2
    embedded = len(embedder.embedded)
    assert indexes.documents("a") == {ids["a"]}  # evicted, rebuilt from the stored vectors: nothing re-embedded
    assert len(embedder.embedded) == embedded
    assert indexes.index_for("nobody") is None


def test_a_change_on_one_node_is_seen_by_the_next_search_on_another(database_url: str) -> None:
    db = Database(database_url)
    one, other = node(db, CountingEmbedder()), node(Database(database_url), CountingEmbedder())
    first, chunks = document(db, "alice", "氨氯地平 一次5mg。")
    one.add_document("alice", chunks)
    assert other.documents("alice") == {first}
    second, chunks = document(db, "alice", "阿司匹林 一次100mg。")
    one.add_document("alice", chunks)
    assert other.documents("alice") == {first, second}  # its cached copy was stale: rebuilt
    DocumentRepository(db).delete("alice", first)  # through the first node's database, not the other's cache
    assert other.documents("alice") == {second}
    assert one.documents("alice") == {second}


def test_damaged_stored_vectors_are_embedded_again_and_written_back(database_url: str) -> None:
    db = Database(database_url)
    embedder = CountingEmbedder()
    indexes = node(db, embedder)
    doc, chunks = document(db, "alice", "一次1片，一日3次。饭后服用。")
    indexes.add_document("alice", chunks)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE document_chunks SET vector = :v"), {"v": b"bad"})
    fresh = node(db, embedder)  # a node that has not loaded this owner
    embedder.embedded.clear()
    index = fresh.index_for("alice")
    assert index is not None and {c.document_id for c in index.chunks} == {doc}
    assert sorted(embedder.embedded) == sorted(c.index_text for c in chunks)
    with db.engine.connect() as conn:
        sizes = conn.execute(text("SELECT length(vector) FROM document_chunks")).scalars().all()
    assert sizes and all(size == DIM * 4 for size in sizes)


def test_chunks_of_a_deleted_document_are_never_indexed(database_url: str) -> None:
    db = Database(database_url)
    indexes = node(db, CountingEmbedder())
    doc, chunks = document(db, "alice", "一次1片。")
    DocumentRepository(db).delete("alice", doc)  # deleted while its chunks were being embedded
    assert indexes.add_document("alice", chunks) == 0
    assert indexes.index_for("alice") is None
