"""Uploaded documents' chunks, kept in one vector index per owner under var/index/owners/<owner-hash>/.

Physical separation is the privacy guarantee: a search for one owner opens only that owner's index, so another
user's leaflet cannot be retrieved by any query, however exactly it matches. The directory name is a hash, so
owner ids do not appear on disk.
"""

from __future__ import annotations

import hashlib
import itertools
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from knowledge.retrieval.chunks import Chunk
from knowledge.retrieval.embedders import Embedder
from knowledge.retrieval.vector_index import DEFAULT_HNSW_THRESHOLD, IndexMissing, VectorIndex


def owner_key(owner: str) -> str:
    return hashlib.sha256(owner.encode("utf-8")).hexdigest()[:32]


DEFAULT_MAX_LOADED = 64
DEFAULT_MAX_LOADED_BYTES = 128 * 2**20
LOCK_STRIPES = 64


def footprint(index: VectorIndex) -> int:
    """Rough bytes an index holds in memory: its vectors twice (numpy and FAISS) and its chunks' text."""
    return len(index) * (index.dim * 4 * 2 + 1024)


class DocumentIndexes:
    """Per-owner document indexes: add, delete and look up. Thread-safe.

    An owner's index is loaded on first use and kept while recently used: at most `max_loaded` owners' indexes,
    and `max_loaded_bytes` of them, stay in memory (the least recently used is dropped first; the files stay),
    so memory does not grow with the number of owners who ever asked something.
    """

    def __init__(
        self,
        root: Path,
        embedder: Embedder,
        hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
        use_gpu: bool = True,
        max_loaded: int = DEFAULT_MAX_LOADED,
        max_loaded_bytes: int = DEFAULT_MAX_LOADED_BYTES,
    ) -> None:
        self.root = Path(root)
        self.embedder = embedder
        self.hnsw_threshold = hnsw_threshold
        self.use_gpu = use_gpu
        self.max_loaded = max(1, max_loaded)
        self.max_loaded_bytes = max_loaded_bytes
        # owner -> (index, version). A version is never reused, so a cache keyed by one cannot outlive a change
        # or a reload.
        self._loaded: OrderedDict[str, tuple[VectorIndex, int]] = OrderedDict()
        self._counter = itertools.count(1)
        # A fixed set of locks shared out by owner hash: per-owner locks would be one more thing per owner ever seen.
        self._locks = tuple(threading.Lock() for _ in range(LOCK_STRIPES))
        self._guard = threading.Lock()
        self._listeners: list[Callable[[str], None]] = []

    def on_change(self, listener: Callable[[str], None]) -> None:
        """Call `listener(owner)` whenever an owner's documents change or their index leaves memory, so caches
        of their chunks are dropped at once rather than at the owner's next search."""
        self._listeners.append(listener)

    def _notify(self, owner: str) -> None:
        for listener in self._listeners:
            listener(owner)

    def _remember(self, owner: str, index: VectorIndex) -> None:
        """Keep `owner`'s index as the most recently used, under a new version; drop the least recently used
        past the bounds (never the one just added)."""
        evicted = []
        with self._guard:
            self._loaded[owner] = (index, next(self._counter))
            self._loaded.move_to_end(owner)
            total = sum(footprint(i) for i, _ in self._loaded.values())
            while len(self._loaded) > 1 and (len(self._loaded) > self.max_loaded or total > self.max_loaded_bytes):
                gone, (dropped, _) = self._loaded.popitem(last=False)
                total -= footprint(dropped)
                evicted.append(gone)
        for gone in evicted:
            self._notify(gone)

    def _changed(self, owner: str, index: VectorIndex) -> None:
        self._remember(owner, index)
        self._notify(owner)

    def owner_dir(self, owner: str) -> Path:
        return self.root / owner_key(owner)

    def _lock(self, owner: str) -> threading.Lock:
        return self._locks[int(owner_key(owner)[:8], 16) % len(self._locks)]

    def _cached(self, owner: str) -> VectorIndex | None:
        with self._guard:
            entry = self._loaded.get(owner)
            if entry is None:
                return None
            self._loaded.move_to_end(owner)
            return entry[0]

    def index_for(self, owner: str) -> VectorIndex | None:
        """The owner's index, or None when they have no documents."""
        index = self._cached(owner)
        if index is not None:
            return index
        with self._lock(owner):
            return self._load(owner)

    def _load(self, owner: str) -> VectorIndex | None:
        index = self._cached(owner)
        if index is None:
            try:
                index = VectorIndex.load(
                    self.owner_dir(owner), self.embedder.name, self.embedder.dim, self.hnsw_threshold, self.use_gpu
                )
            except IndexMissing:
                return None
            self._remember(owner, index)
        return index

    def version(self, owner: str) -> int:
        """Changes whenever the owner's documents change or their index is reloaded (0 while it is not in
        memory): a key for caches built from their chunks."""
        with self._guard:
            entry = self._loaded.get(owner)
        return entry[1] if entry is not None else 0

    def loaded(self) -> int:
        """How many owners' indexes are in memory."""
        return len(self._loaded)

    def add_document(self, owner: str, chunks: Sequence[Chunk]) -> int:
        """Index the chunks of one or more documents of `owner`, replacing earlier chunks of the same documents.

        Every chunk must carry this owner and a document id; anything else is a programming error that could
        leak a document into the wrong index, so it is refused.
        """
        if not chunks:
            return 0
        for c in chunks:
            if c.owner != owner or not c.document_id:
                raise ValueError(f"chunk {c.id} does not belong to this owner's document")
        vectors = self.embedder.embed_passages([c.index_text for c in chunks])
        with self._lock(owner):
            index = self._load(owner) or VectorIndex(
                self.embedder.name, self.embedder.dim, self.hnsw_threshold, self.use_gpu
            )
            for document_id in {c.document_id for c in chunks if c.document_id}:
                index.remove_document(document_id)
            index.add(chunks, vectors)
            index.save(self.owner_dir(owner))
            self._changed(owner, index)
        return len(chunks)

    def delete_document(self, owner: str, document_id: str) -> int:
        """Remove one document's chunks from the owner's index (on disk too); returns how many were removed."""
        with self._lock(owner):
            index = self._load(owner)
            if index is None:
                return 0
            texts = [c.index_text for c in index.chunks if c.document_id == document_id]
            removed = index.remove_document(document_id)
            if removed:
                index.save(self.owner_dir(owner))
                self._changed(owner, index)
            forget = getattr(self.embedder, "forget_passages", None)
            if forget is not None:
                forget(texts)
            return removed

    def delete_owner(self, owner: str) -> None:
        """Forget every document of an owner (account deletion)."""
        with self._lock(owner):
            with self._guard:
                self._loaded.pop(owner, None)
            self._notify(owner)
            shutil.rmtree(self.owner_dir(owner), ignore_errors=True)

    def drop_unknown_owners(self, owners: Iterable[str]) -> int:
        """Remove the index directories of owners not in `owners` (an index left by a deleted owner, or by a
        document whose row never committed); returns how many were removed."""
        if not self.root.is_dir():
            return 0
        known = {owner_key(o) for o in owners}
        stale = [d for d in self.root.iterdir() if d.is_dir() and d.name not in known]
        for directory in stale:
            shutil.rmtree(directory, ignore_errors=True)
        return len(stale)

    def documents(self, owner: str) -> set[str]:
        index = self.index_for(owner)
        return {c.document_id for c in index.chunks if c.document_id} if index else set()
