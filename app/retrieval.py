"""Retrieval wired from settings: the one place that picks the embedder and opens the indexes.

The retriever is heavy (a model, a FAISS index, a BM25 model of the knowledge base), so it is built once per
process and shared.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from app.answer import Evidence
from app.config import Settings
from app.owner_indexes import ChunkStore, StoredDocumentIndexes
from knowledge.retrieval.bm25 import Bm25Tokenizer
from knowledge.retrieval.documents import DocumentIndexes
from knowledge.retrieval.embedders import Embedder, get_embedder
from knowledge.retrieval.hybrid import HybridRetriever, class_parents
from knowledge.retrieval.kb_index import open_kb_index
from knowledge.store import KnowledgeBase

_RETRIEVERS: dict[tuple[str, str, str, int], HybridRetriever] = {}
_LOCK = threading.Lock()


def embedder_for(settings: Settings) -> Embedder:
    return get_embedder(settings.embedder, settings.embedding_cache_size)


def owner_indexes_for(settings: Settings, store: ChunkStore) -> StoredDocumentIndexes:
    """Owners' document indexes kept in `store` (the user database), with this node's bounded in-memory copies.
    Needs only the embedder, not the knowledge base's index: an OCR worker stores and indexes documents with it."""
    return StoredDocumentIndexes(
        store,
        embedder_for(settings),
        settings.hnsw_threshold,
        settings.faiss_gpu,
        max_loaded=settings.owner_indexes_in_memory,
        max_loaded_bytes=settings.owner_indexes_memory_mb * 2**20,
        legacy_root=settings.owner_index_dir,
    )


def _file_indexes(settings: Settings) -> DocumentIndexes:
    return DocumentIndexes(
        settings.owner_index_dir,
        embedder_for(settings),
        settings.hnsw_threshold,
        settings.faiss_gpu,
        max_loaded=settings.owner_indexes_in_memory,
        max_loaded_bytes=settings.owner_indexes_memory_mb * 2**20,
    )


def get_retriever(settings: Settings, kb: KnowledgeBase, documents: DocumentIndexes | None = None) -> HybridRetriever:
    """The shared retriever for this KB, embedder, index directory and owners' indexes (raises IndexMissing /
    IndexMismatch). The service passes `owner_indexes_for(settings, store)` (owners' chunks in the user database,
    a bounded cache per node); without it (command line, evaluations) owners' indexes are files under the index
    directory.

    Add and delete uploaded documents through `retriever.documents`, so the retriever sees the change.
    """
    key = (str(kb.path), settings.embedder, str(settings.index_dir), id(documents) if documents is not None else 0)
    with _LOCK:
        retriever = _RETRIEVERS.get(key)
        if retriever is None:
            embedder = embedder_for(settings)
            kb_index = open_kb_index(kb, embedder, settings.kb_index_dir, settings.hnsw_threshold, settings.faiss_gpu)
            retriever = _RETRIEVERS[key] = HybridRetriever(
                kb_index,
                embedder,
                Bm25Tokenizer.for_knowledge_base(kb),
                documents=documents if documents is not None else _file_indexes(settings),
                classes_of=kb.classes_of,
                class_parents=class_parents(kb.class_children),
                candidates=settings.retrieval_candidates,
            )
        return retriever


class EvidenceSearch:
    """The chain's view of the hybrid retriever: retrieved chunks as `Evidence` the composer may cite."""

    def __init__(self, retriever: HybridRetriever) -> None:
        self.retriever = retriever

    def search(
        self, query: str, k: int, boost_refs: set[str], owner: str | None, document_ids: set[str] | None
    ) -> list[Evidence]:
        hits = self.retriever.search(query, k=k, boost_refs=boost_refs, owner=owner, document_ids=document_ids)
        return [
            Evidence(
                text=h.chunk.text,
                source=h.chunk.source,
                title=h.chunk.title,
                license=h.chunk.license,
                record=h.chunk.passage_id,
                refs=h.chunk.refs,
                document_id=h.chunk.document_id,
                field=h.chunk.field,
                bbox=enclosing_box(h.chunk.boxes),
                score=h.score,
            )
            for h in hits
        ]


def enclosing_box(boxes: Sequence[Sequence[Sequence[float]]]) -> list[list[float]] | None:
    """One rectangle around all of a field's line boxes: what a citation highlights on the photo."""
    points = [p for box in boxes for p in box]
    if not points:
        return None
    x0, y0 = min(p[0] for p in points), min(p[1] for p in points)
    x1, y1 = max(p[0] for p in points), max(p[1] for p in points)
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
