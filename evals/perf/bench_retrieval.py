"""Vector search and embedding at scale.

`faiss_scaling`: FAISS search time, build time and recall@10 against index size, on synthetic unit vectors at
the default embedder's dimension (USE: 512). The vectors are drawn around random centres (a mixture, like real
embeddings, which cluster by topic; uniform random vectors are the worst case for every approximate index) and
the queries from the same mixture. Exact flat inner-product search is the baseline and the ground truth; HNSW
uses the app's own parameters (`knowledge.retrieval.vector_index`); IVF-Flat uses sqrt(n) lists and probes 32.
HNSW on 1M vectors takes tens of minutes to build on 2 cores, so it is opt-in (`--hnsw-1m`); IVF covers 1M.
With a GPU build of faiss, exact search on the GPU (what `VectorIndex` picks by itself) joins as a contender.

`embedding_batches`: passages per second embedded in batches of 1, 8 and 32 with the configured embedder.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from typing import Any

import faiss
import numpy as np

from evals.perf.results import Figure, time_ms
from knowledge.retrieval.vector_index import HNSW_M, gpu_available, gpu_resources

K = 10
HNSW_EF_CONSTRUCTION = 80  # as VectorIndex builds it
HNSW_EF_SEARCH = 128
IVF_NPROBE = 32
CENTRES = 256


def synthetic_vectors(n: int, dim: int, seed: int, centres: int = CENTRES, spread: float = 0.6) -> np.ndarray:
    """`n` unit vectors (float32) around `centres` random directions, built in slices to bound memory."""
    rng = np.random.default_rng(seed)
    middle = rng.standard_normal((centres, dim), dtype=np.float32)
    middle /= np.linalg.norm(middle, axis=1, keepdims=True)
    out = np.empty((n, dim), dtype=np.float32)
    step = 65_536
    for start in range(0, n, step):
        stop = min(n, start + step)
        rows = middle[rng.integers(0, centres, stop - start)]
        rows += rng.standard_normal((stop - start, dim), dtype=np.float32) * (spread / math.sqrt(dim))
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        out[start:stop] = rows
    return out


def recall_at_k(found: np.ndarray, truth: np.ndarray, k: int = K) -> float:
    """Mean share of each query's true top k (rows of `truth`) that appear in its found top k."""
    if len(found) != len(truth) or not len(truth):
        raise ValueError("one row of found ids per row of true ids, and at least one")
    hits = [len(set(f[:k].tolist()) & set(t[:k].tolist()) - {-1}) for f, t in zip(found, truth, strict=True)]
    return float(np.mean(hits)) / k


def _ivf_lists(n: int) -> int:
    return max(16, int(math.sqrt(n)))


def _builders(n: int, dim: int) -> dict[str, Callable[[np.ndarray], Any]]:
    def flat(x: np.ndarray) -> Any:
        index = faiss.IndexFlatIP(dim)
        index.add(x)
        return index

    def hnsw(x: np.ndarray) -> Any:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.add(x)
        index.hnsw.efSearch = HNSW_EF_SEARCH
        return index

    def ivf(x: np.ndarray) -> Any:
        lists = _ivf_lists(n)
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, lists, faiss.METRIC_INNER_PRODUCT)
        sample = x[np.random.default_rng(0).choice(len(x), min(len(x), 40 * lists), replace=False)]
        index.train(sample)
        index.add(x)
        index.nprobe = IVF_NPROBE
        return index

    def gpu_flat(x: np.ndarray) -> Any:
        index = faiss.index_cpu_to_gpu(gpu_resources(), 0, faiss.IndexFlatIP(dim))
        index.add(x)
        return index

    out: dict[str, Callable[[np.ndarray], Any]] = {
        "flat (exact)": flat,
        f"HNSW (M={HNSW_M}, efSearch={HNSW_EF_SEARCH})": hnsw,
        f"IVF-Flat ({_ivf_lists(n)} lists, nprobe={IVF_NPROBE})": ivf,
    }
    if gpu_available():
        out["flat on GPU (exact)"] = gpu_flat
    return out


def _query_ms(index: Any, queries: np.ndarray) -> list[float]:
    """Milliseconds of one-query searches (as the app searches), the first query untimed, on one OpenMP thread:
    a server runs queries side by side, and on a busy 2-core machine a one-query search that waits for a second
    OpenMP thread took 32 ms instead of 0.8 ms (flat, 10k vectors)."""
    rows = iter(queries)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return time_ms(lambda: index.search(next(rows).reshape(1, -1), K), len(queries) - 1)
    finally:
        faiss.omp_set_num_threads(threads)


def _size_label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def faiss_scaling(
    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000),
    dim: int = 512,
    queries: int = 200,
    timed_queries: int = 50,
    hnsw_max: int = 100_000,
    seed: int = 0,
) -> list[Figure]:
    """Per size: build time, single-query search time and recall@10 of each index against exact search."""
    figures: list[Figure] = []
    for n in sizes:
        label = _size_label(n)
        data = synthetic_vectors(n, dim, seed)
        probe = synthetic_vectors(queries, dim, seed + 1)
        truth: np.ndarray | None = None
        baseline = "flat (exact)"
        # Exact search of a million vectors is ~0.1-0.5 s a query on 2 cores; fewer timed queries keep it bounded.
        timed = probe[: max(5, timed_queries if n < 1_000_000 else timed_queries // 4)]
        for name, build in _builders(n, dim).items():
            if name.startswith("HNSW") and n > hnsw_max:
                continue
            started = time.perf_counter()
            index = build(data)
            build_s = time.perf_counter() - started
            _, found = index.search(probe, K)
            if truth is None:
                truth = found  # the first builder is the exact one
            recall = recall_at_k(found, truth)
            samples = _query_ms(index, timed)
            settings = {"vectors": n, "dim": dim, "queries": queries, "timed_queries": len(samples), "k": K}
            figures += [
                Figure(
                    f"FAISS {label} vectors: search", name, "ms/query", samples, baseline=baseline, settings=settings
                ),
                Figure(f"FAISS {label} vectors: recall@{K}", name, "", [recall], "value", settings=settings),
                Figure(f"FAISS {label} vectors: build", name, "s", [build_s], "value", settings=settings),
            ]
            del index
            gc.collect()
        del data
        gc.collect()
    return figures


def embedding_batches(
    spec: str, texts: list[str], sizes: tuple[int, ...] = (1, 8, 32), rounds: int = 3
) -> list[Figure]:
    """Passages per second at each batch size; every text is embedded once, so no vector comes from the cache."""
    from knowledge.retrieval.embedders import load_embedder

    embedder = load_embedder(spec)
    embedder.embed_passages(texts[:2])
    pool = iter(texts[2:])
    figures = []
    for size in sizes:
        rates = []
        for _ in range(rounds):
            batch = [next(pool) for _ in range(size)]
            started = time.perf_counter()
            embedder.embed_passages(batch)
            rates.append(size / (time.perf_counter() - started))
        figures.append(
            Figure(
                "embedding passages per second",
                f"batch {size}",
                "passages/s",
                rates,
                baseline="batch 1",
                settings={"embedder": embedder.name, "rounds": rounds},
            )
        )
    return figures
