"""The knowledge-base vector index: every KB chunk embedded once, rebuilt only when the KB or the embedder changes.

Its manifest key is a digest of the chunks (ids, texts, refs, metadata) plus the embedder name, so `rxlens kb
build` skips the (minutes-long) embedding while both are unchanged, and a retriever refuses an index built from
other passages or another embedder. The digest is finer than the KB's input hash, which also changes with every
edit of code under knowledge/: an edit that leaves the passages alone does not cost a re-embedding.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.retrieval.chunks import Chunk, kb_chunks
from knowledge.retrieval.embedders import Embedder
from knowledge.retrieval.vector_index import DEFAULT_HNSW_THRESHOLD, IndexMismatch, VectorIndex
from knowledge.store import KnowledgeBase

log = logging.getLogger(__name__)

# Texts embedded per call: large enough for the models' own batching, small enough to report progress.
EMBED_BATCH = 256


@dataclass(frozen=True)
class IndexBuildReport:
    path: Path
    skipped: bool
    chunks: int = 0
    seconds: float = 0.0
    bytes: int = 0


def kb_index_key(chunks: Sequence[Chunk], embedder: Embedder) -> str:
    h = hashlib.sha256(embedder.name.encode())
    for chunk in chunks:
        h.update(json.dumps(chunk.to_json(), ensure_ascii=False, sort_keys=True).encode())
    return f"{embedder.name}|{h.hexdigest()[:32]}"


def build_kb_index(
    kb: KnowledgeBase,
    embedder: Embedder,
    directory: Path,
    force: bool = False,
    hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
    use_gpu: bool = True,
) -> IndexBuildReport:
    """Embed every KB chunk into a vector index under `directory`; skipped when it is already up to date."""
    started = time.perf_counter()
    chunks = kb_chunks(kb)
    key = kb_index_key(chunks, embedder)
    manifest = VectorIndex.read_manifest(directory)
    if not force and manifest is not None and manifest.key == key:
        return IndexBuildReport(Path(directory), skipped=True, chunks=manifest.count)
    # Longest first: texts of similar length batch with little padding, and the slowest batches come first.
    order = sorted(range(len(chunks)), key=lambda i: -len(chunks[i].index_text))
    chunks = [chunks[i] for i in order]
    index = VectorIndex(embedder.name, embedder.dim, hnsw_threshold, use_gpu)
    for start in range(0, len(chunks), EMBED_BATCH):
        batch = chunks[start : start + EMBED_BATCH]
        index.add(batch, embedder.embed_passages([c.index_text for c in batch]))
        log.info("kb index: %d/%d chunks embedded", start + len(batch), len(chunks))
    index.key = key
    version = index.save(directory)
    size = sum(p.stat().st_size for p in version.iterdir())
    return IndexBuildReport(Path(directory), False, len(chunks), time.perf_counter() - started, size)


def open_kb_index(
    kb: KnowledgeBase,
    embedder: Embedder,
    directory: Path,
    hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
    use_gpu: bool = True,
) -> VectorIndex:
    """Load the KB index and check that it belongs to this KB and embedder."""
    index = VectorIndex.load(directory, embedder.name, embedder.dim, hnsw_threshold, use_gpu)
    if index.key != kb_index_key(kb_chunks(kb), embedder):
        raise IndexMismatch(
            f"The vector index at {directory} was built from another version of the knowledge base. Rebuild it with "
            "`rxlens kb build`."
        )
    return index
