"""Owners' document indexes for the service: chunks and vectors in the user database, FAISS per node as a cache.

Any node serves any owner: an upload on one node writes its chunks and vectors to the database (and moves the
owner's index version in the same transaction); every node keeps the indexes of the owners it served recently in
memory (`DocumentIndexes`' bounds: RXLENS_OWNER_INDEXES_IN_MEMORY owners within RXLENS_OWNER_INDEXES_MEMORY_MB) and
rebuilds one from the database when it is missing or built at another version, which costs one small read per
search. Deleting a document removes its chunks in the deletion's transaction, so every node's next search goes
without them. The knowledge base's own index stays a read-only file on each node (`knowledge/retrieval/kb_index`).

An index found inconsistent (a stored vector missing, of another embedder, or damaged) is rebuilt from the chunks'
stored text, and the vectors written back: never replaced by an index without the owner's other documents.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from knowledge.retrieval.chunks import Chunk
from knowledge.retrieval.documents import DEFAULT_MAX_LOADED, DEFAULT_MAX_LOADED_BYTES, DocumentIndexes
from knowledge.retrieval.embedders import Embedder
from knowledge.retrieval.vector_index import DEFAULT_HNSW_THRESHOLD, VectorIndex

log = logging.getLogger(__name__)


class ChunkStore(Protocol):
    """Where owners' chunks and vectors live (`app.persistence.repositories.ChunkRepository`). `version(owner)`
    changes with every change to the owner's chunks."""

    def version(self, owner: str) -> int: ...

    def load(self, owner: str, embedder: str, dim: int) -> tuple[int, list[Chunk], list[np.ndarray | None]]: ...

    def add(self, owner: str, chunks: Sequence[Chunk], vectors: np.ndarray, embedder: str) -> int: ...

    def set_vectors(self, owner: str, chunk_ids: Sequence[str], vectors: np.ndarray, embedder: str) -> None: ...

    def delete_document(self, owner: str, document_id: str) -> int: ...

    def delete_owner(self, owner: str) -> None: ...


class StoredDocumentIndexes(DocumentIndexes):
    """`DocumentIndexes` whose truth is a `ChunkStore`: the in-memory indexes are a bounded cache of it."""

    def __init__(
        self,
        store: ChunkStore,
        embedder: Embedder,
        hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
        use_gpu: bool = True,
        max_loaded: int = DEFAULT_MAX_LOADED,
        max_loaded_bytes: int = DEFAULT_MAX_LOADED_BYTES,
        legacy_root: Path | None = None,
    ) -> None:
        """
        Args:
            store: the chunks and vectors of every owner.
            embedder: the embedder of every owner's chunks.
            hnsw_threshold: vectors past which an owner's index is HNSW.
            use_gpu: put indexes on the GPU when faiss can.
            max_loaded: owners whose index stays in memory (least recently used out first).
            max_loaded_bytes: memory those indexes may take.
            legacy_root: where per-node index files were kept before the store (removed by reconciliation).
        """
        super().__init__(
            legacy_root or Path("var/index/owners"), embedder, hnsw_threshold, use_gpu, max_loaded, max_loaded_bytes
        )
        self.store = store
        self._built_at: dict[str, int] = {}  # owner -> the store's version their loaded index was built at

    def _remember(self, owner: str, index: VectorIndex) -> None:
        super()._remember(owner, index)
        with self._guard:
            for gone in self._built_at.keys() - self._loaded.keys():
                del self._built_at[gone]

    def _current(self, owner: str, version: int) -> VectorIndex | None:
        with self._guard:
            entry = self._loaded.get(owner)
            if entry is None or self._built_at.get(owner) != version:
                return None
            self._loaded.move_to_end(owner)
            return entry[0]

    def _forget(self, owner: str) -> None:
        with self._guard:
            had = self._loaded.pop(owner, None) is not None
            self._built_at.pop(owner, None)
        if had:
            self._notify(owner)

    def index_for(self, owner: str) -> VectorIndex | None:
        """The owner's index, or None when they have no documents. One small read asks the store for the owner's
        version: another node's upload or deletion is seen by the next search here."""
        version = self.store.version(owner)
        index = self._current(owner, version)
        if index is not None:
            return index
        if version == 0 and owner not in self._loaded:
            return None
        with self._lock(owner):
            return self._rebuild(owner)

    def _load(self, owner: str) -> VectorIndex | None:
        return self._rebuild(owner)

    def _rebuild(self, owner: str) -> VectorIndex | None:
        """Build the owner's index from the store (under the owner's lock), embedding again the chunks whose
        stored vector is unusable and writing their vectors back."""
        version, chunks, vectors = self.store.load(owner, self.embedder.name, self.embedder.dim)
        current = self._current(owner, version)
        if current is not None:  # another thread rebuilt it meanwhile
            return current
        if not chunks:
            self._forget(owner)
            return None
        missing = [i for i, v in enumerate(vectors) if v is None]
        if missing:
            log.warning("owner index: %d of %d stored vectors unusable, embedded again", len(missing), len(chunks))
            fresh = self.embedder.embed_passages([chunks[i].index_text for i in missing])
            for i, vector in zip(missing, fresh, strict=True):
                vectors[i] = vector
            self.store.set_vectors(owner, [chunks[i].id for i in missing], fresh, self.embedder.name)
        index = VectorIndex(self.embedder.name, self.embedder.dim, self.hnsw_threshold, self.use_gpu)
        index.add(chunks, np.stack([v for v in vectors if v is not None]).astype(np.float32))
        self._remember(owner, index)
        with self._guard:
            self._built_at[owner] = version
        self._notify(owner)
        return index

    def add_document(self, owner: str, chunks: Sequence[Chunk]) -> int:
        """Embed and store the chunks of one or more documents of `owner` (replacing earlier chunks of the same
        documents; chunks of a document deleted meanwhile are dropped); returns how many were stored. The next
        search, here or on any node, rebuilds the owner's index from the store."""
        if not chunks:
            return 0
        for c in chunks:
            if c.owner != owner or not c.document_id:
                raise ValueError(f"chunk {c.id} does not belong to this owner's document")
        vectors = self.embedder.embed_passages([c.index_text for c in chunks])
        stored = self.store.add(owner, chunks, vectors, self.embedder.name)
        with self._lock(owner):
            self._forget(owner)
        return stored

    def delete_document(self, owner: str, document_id: str) -> int:
        """Remove one document's chunks from the store (a no-op after the document's own deletion, which removed
        them), this node's copy of the owner's index and the cached vectors of its texts."""
        with self._lock(owner):
            with self._guard:
                entry = self._loaded.get(owner)
            texts = [c.index_text for c in entry[0].chunks if c.document_id == document_id] if entry else []
            removed = self.store.delete_document(owner, document_id)
            self._forget(owner)
        forget_passages = getattr(self.embedder, "forget_passages", None)
        if forget_passages is not None:
            forget_passages(texts)
        return max(removed, len(texts))

    def delete_owner(self, owner: str) -> None:
        with self._lock(owner):
            self.store.delete_owner(owner)
            self._forget(owner)
            shutil.rmtree(self.owner_dir(owner), ignore_errors=True)

    def drop_unknown_owners(self, owners: Iterable[str] = ()) -> int:
        """Remove the per-node index files of before the store (all of them: the store holds the chunks now)."""
        return super().drop_unknown_owners(())
