"""The FAISS benchmark's own logic: recall@k against exact search, the synthetic vectors, and a tiny run with a
real FAISS index."""

from __future__ import annotations

import numpy as np
import pytest

from evals.perf.bench_retrieval import faiss_scaling, recall_at_k, synthetic_vectors


def test_recall_at_k() -> None:
    truth = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    assert recall_at_k(truth, truth, k=4) == 1.0
    assert recall_at_k(np.array([[4, 3, 9, 9], [8, 7, 6, 5]]), truth, k=4) == pytest.approx((2 + 4) / 8)
    assert recall_at_k(np.array([[1, -1, -1, -1], [-1, -1, -1, -1]]), truth, k=4) == pytest.approx(1 / 8)
    assert recall_at_k(np.array([[2, 1, 0, 0]]), np.array([[1, 2, 3, 4]]), k=2) == 1.0  # only the top k count
    with pytest.raises(ValueError):
        recall_at_k(truth[:1], truth)


def test_synthetic_vectors_are_unit_length_and_repeatable() -> None:
    a = synthetic_vectors(1000, 32, seed=3)
    assert a.shape == (1000, 32) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(a, synthetic_vectors(1000, 32, seed=3))
    assert not np.array_equal(a, synthetic_vectors(1000, 32, seed=4))


def test_a_tiny_run_compares_each_index_with_exact_search() -> None:
    figures = faiss_scaling(sizes=(3000,), dim=32, queries=40, timed_queries=6)
    by = {(f.stage, f.contender): f for f in figures}
    recall = {c: f.value for (s, c), f in by.items() if "recall" in s}
    assert recall["flat (exact)"] == 1.0
    assert all(0.5 < r <= 1.0 for r in recall.values()), recall  # approximate, but not broken
    assert {s for s, _ in by} == {"FAISS 3k vectors: search", "FAISS 3k vectors: recall@10", "FAISS 3k vectors: build"}
    search = [f for (s, _), f in by.items() if s.endswith("search")]
    assert all(len(f.samples) == 5 and f.baseline == "flat (exact)" for f in search)
