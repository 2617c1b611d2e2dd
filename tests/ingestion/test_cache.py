"""The result cache: a re-read of the same bytes is answered from memory, and the cache stays bounded."""

from __future__ import annotations

import dataclasses
import hashlib
import time

import pytest

from ingestion.cache import ResultCache
from ingestion.document import ParsedDocument
from ingestion.ocr.base import OcrLine, quad_from_rect
from ingestion.pipeline import OcrPipeline
from tests.ingestion.conftest import PAGES


def doc(sha: str, text: str = "x") -> ParsedDocument:
    line = OcrLine(text, 0.9, quad_from_rect(0, 0, 10, 10))
    return ParsedDocument("other", (line,), {}, (), (), (), {"total": 1.0}, sha)


def test_lru_by_entries() -> None:
    cache = ResultCache(max_entries=2)
    cache.put("a", doc("a"))
    cache.put("b", doc("b"))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", doc("c"))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    assert len(cache) == 2


def test_lru_by_bytes() -> None:
    big = "长" * 2000  # 6 KB of UTF-8
    cache = ResultCache(max_entries=100, max_bytes=15_000)
    for key in "abcd":
        cache.put(key, doc(key, big))
    assert len(cache) == 2 and cache.bytes_used <= 15_000
    assert cache.get("a") is None and cache.get("d") is not None


def test_too_big_to_cache_is_not_cached() -> None:
    cache = ResultCache(max_entries=10, max_bytes=1000)
    cache.put("a", doc("a", "x" * 5000))
    assert len(cache) == 0


@pytest.mark.slow
def test_cached_reread_returns_the_same_document_fast(pipeline: OcrPipeline) -> None:
    page = next(p for p in PAGES if p.name.startswith("006_package"))
    data = page.data
    first = pipeline.read(data, "box.png")
    started = time.perf_counter()
    again = pipeline.read(data, "box.png")
    elapsed = time.perf_counter() - started
    assert again.from_cache and elapsed < 0.05
    assert dataclasses.replace(again, from_cache=first.from_cache, timings_ms=first.timings_ms) == first
    assert set(again.timings_ms) == {"cache", "total"}
    assert again.sha256 == hashlib.sha256(data).hexdigest()
