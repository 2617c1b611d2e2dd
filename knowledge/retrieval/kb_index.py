"""The knowledge-base vector index: every KB chunk embedded once, rebuilt only when the KB or the embedder changes.

Its manifest key is a digest of the chunks (ids, texts, refs, metadata) plus the embedder name, so `rxlens kb
build` skips the build while both are unchanged, and a retriever refuses an index built from other passages or
another embedder. The digest is finer than the KB's input hash, which also changes with every edit of code under
knowledge/: an edit that leaves the passages alone does not cost a rebuild.

When the index is rebuilt, the passages' vectors come from vector caches (`vector_cache.py`) wherever their text
is unchanged: the vectors shipped in knowledge/data/kb_vectors/ first, then those earlier builds embedded (under
the index directory, `passage_vectors/`). Only new or edited passages are embedded, and they are saved after each
batch, so an interrupted build resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.retrieval.chunks import Chunk, kb_chunks
from knowledge.retrieval.embedders import Embedder
from knowledge.retrieval.vector_cache import (
    SHIPPED_DIR,
    VectorCache,
    cache_file_name,
    embed_probe,
    shipped_cache_path,
    text_key,
)
from knowledge.retrieval.vector_index import DEFAULT_HNSW_THRESHOLD, IndexMismatch, VectorIndex
from knowledge.store import KnowledgeBase

log = logging.getLogger(__name__)

# Texts embedded per call: large enough for the models' own batching, small enough to report progress and to save
# what was embedded often.
EMBED_BATCH = 256
# Under the index directory: vectors of passages the shipped cache lacks (a name VectorIndex never prunes).
LOCAL_CACHE_DIR = "passage_vectors"


@dataclass(frozen=True)
class IndexBuildReport:
    path: Path
    skipped: bool
    chunks: int = 0
    seconds: float = 0.0
    bytes: int = 0
    embedded: int = 0  # distinct passage texts embedded by this build
    reused: int = 0  # distinct passage texts whose vectors came from a cache


@dataclass(frozen=True)
class PassageVectors:
    vectors: np.ndarray  # one unit row per text asked for, float32
    embedded: int
    reused: int
    cache: VectorCache  # every vector at hand: the texts' and the cache files'


def kb_index_key(chunks: Sequence[Chunk], embedder: Embedder) -> str:
    h = hashlib.sha256(embedder.name.encode())
    for chunk in chunks:
        h.update(json.dumps(chunk.to_json(), ensure_ascii=False, sort_keys=True).encode())
    return f"{embedder.name}|{h.hexdigest()[:32]}"


def local_cache_path(index_directory: Path, embedder: Embedder) -> Path:
    return Path(index_directory) / LOCAL_CACHE_DIR / cache_file_name(embedder.name)


def passage_vectors(
    texts: Sequence[str],
    embedder: Embedder,
    local_cache: Path,
    shipped_dir: Path | None = SHIPPED_DIR,
) -> PassageVectors:
    """The passage vectors of `texts`: cached ones reused, the others embedded and written to `local_cache`.

    `local_cache` ends up holding the vectors of `texts` that the shipped file lacks (older entries are dropped);
    the shipped file is only read.
    """
    probe = embed_probe(embedder)
    cache = VectorCache(embedder.name, embedder.dim)
    shipped = None
    if shipped_dir is not None:
        path = shipped_cache_path(embedder.name, shipped_dir)
        if path.exists():
            shipped = VectorCache.load(path, embedder, probe)
        else:
            log.info("kb vector cache: no shipped vectors for %s at %s", embedder.name, path)
    if shipped is not None:
        cache.update(shipped)
    if Path(local_cache).exists():
        local = VectorCache.load(local_cache, embedder, probe)
        if local is not None:
            cache.update(local)
    keys = [text_key(t) for t in texts]
    todo: dict[bytes, str] = {}
    for key, text in zip(keys, texts, strict=True):
        if key not in cache:
            todo.setdefault(key, text)
    distinct = len(set(keys))
    log.info(
        "kb vector cache: %d of %d passages cached (%s), %d to embed with %s",
        distinct - len(todo),
        distinct,
        "shipped" if shipped is not None else "no shipped file",
        len(todo),
        embedder.name,
    )
    missing = sorted(todo.items(), key=lambda item: -len(item[1]))  # similar lengths batch with little padding
    unshipped = [k for k in dict.fromkeys(keys) if shipped is None or k not in shipped]
    for start in range(0, len(missing), EMBED_BATCH):
        batch = missing[start : start + EMBED_BATCH]
        for (key, _), vector in zip(batch, embedder.embed_passages([t for _, t in batch]), strict=True):
            cache.put(key, vector)
        cache.save(local_cache, probe, unshipped)
        log.info("kb vector cache: %d/%d passages embedded", start + len(batch), len(missing))
    return PassageVectors(cache.matrix(keys), len(missing), distinct - len(missing), cache)


def build_chunk_index(
    chunks: Sequence[Chunk],
    embedder: Embedder,
    directory: Path,
    force: bool = False,
    hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
    use_gpu: bool = True,
    shipped_dir: Path | None = SHIPPED_DIR,
) -> IndexBuildReport:
    """Index `chunks` under `directory`, vectors from the caches where possible; skipped when up to date."""
    started = time.perf_counter()
    key = kb_index_key(chunks, embedder)
    manifest = VectorIndex.read_manifest(directory)
    if not force and manifest is not None and manifest.key == key:
        return IndexBuildReport(Path(directory), skipped=True, chunks=manifest.count)
    # Longest first, as the index was always laid out (ties in search keep their order).
    ordered = sorted(chunks, key=lambda c: -len(c.index_text))
    found = passage_vectors(
        [c.index_text for c in ordered], embedder, local_cache_path(directory, embedder), shipped_dir
    )
    index = VectorIndex(embedder.name, embedder.dim, hnsw_threshold, use_gpu)
    index.add(ordered, found.vectors)
    index.key = key
    version = index.save(directory)
    size = sum(p.stat().st_size for p in version.iterdir())
    seconds = time.perf_counter() - started
    return IndexBuildReport(Path(directory), False, len(ordered), seconds, size, found.embedded, found.reused)


def build_kb_index(
    kb: KnowledgeBase,
    embedder: Embedder,
    directory: Path,
    force: bool = False,
    hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
    use_gpu: bool = True,
    shipped_dir: Path | None = SHIPPED_DIR,
) -> IndexBuildReport:
    """Embed every KB chunk into a vector index under `directory`; skipped when it is already up to date."""
    return build_chunk_index(kb_chunks(kb), embedder, directory, force, hnsw_threshold, use_gpu, shipped_dir)


@dataclass(frozen=True)
class ShippedVectorsReport:
    path: Path
    count: int
    embedded: int
    bytes: int


def refresh_shipped_vectors(
    kb: KnowledgeBase, embedder: Embedder, index_directory: Path, shipped_dir: Path = SHIPPED_DIR
) -> ShippedVectorsReport:
    """Rewrite the shipped vector file with exactly the KB's current passages (`rxlens kb vectors --refresh`).

    Vectors are reused from the shipped and local caches; only passages neither holds are embedded.
    """
    texts = list(dict.fromkeys(c.index_text for c in kb_chunks(kb)))
    found = passage_vectors(texts, embedder, local_cache_path(index_directory, embedder), shipped_dir)
    out = found.cache.subset(text_key(t) for t in texts)
    path = shipped_cache_path(embedder.name, shipped_dir)
    size = out.save(path, embed_probe(embedder))
    return ShippedVectorsReport(path, len(out), found.embedded, size)


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
