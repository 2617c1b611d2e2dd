"""The shared OCR cache (ingestion.cache.SharedResultCache) on a real Redis with the real OCR pipeline: a photo
read by one pipeline (one node) is answered from Redis by another, and what Redis holds is neither the text nor
the photo's hash."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.config import Settings, ocr_config
from ingestion.cache import SharedResultCache
from ingestion.document import ParsedDocument
from ingestion.pipeline import OcrPipeline, build_pipeline
from tests.app.jobs.conftest import leaflet_photo
from tests.scale.servers import free_port

Node = Callable[[redis.Redis], OcrPipeline]


@pytest.fixture(scope="module")
def ocr_engine() -> OcrPipeline:
    return build_pipeline(replace(ocr_config(Settings()), cache_entries=0))  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def prescription(ocr_engine: OcrPipeline) -> ParsedDocument:
    return ocr_engine.read(leaflet_photo(2))


@pytest.fixture
def node(ocr_engine: OcrPipeline) -> Node:
    """A pipeline as one node has it: the OCR engine (loaded once for the module) with its own cache object."""

    def make(client: redis.Redis) -> OcrPipeline:
        return OcrPipeline(ocr_engine.engine, intake=ocr_engine.intake, cache=SharedResultCache(client, ttl_s=60))

    return make


def test_a_photo_read_on_one_node_is_not_read_again_on_another(redis_client: redis.Redis, node: Node) -> None:
    data = leaflet_photo(1)
    first, second = node(redis_client), node(redis_client)
    read = first.read(data, "leaflet.png")
    assert not read.from_cache and read.lines
    again = second.read(data, "leaflet.png")
    assert again.from_cache
    assert [ln.text for ln in again.lines] == [ln.text for ln in read.lines]
    assert again.doc_type == read.doc_type and again.sha256 == read.sha256
    assert again.timings_ms["total"] < read.timings_ms["total"] / 5
    assert second.cache is not None and isinstance(second.cache, SharedResultCache)
    assert second.cache.stats() == {"misses": 1, "hits": 1}


def test_redis_holds_neither_the_text_nor_the_photo_hash_and_entries_expire(
    redis_client: redis.Redis, prescription: ParsedDocument
) -> None:
    read, digest = prescription, prescription.sha256
    cache = SharedResultCache(redis_client, ttl_s=60)
    assert cache.get(digest) is None
    cache.put(digest, read)
    entries = [k for k in redis_client.keys("rxlens:ocr:*") if not k.endswith(b":stats")]
    assert len(entries) == 1
    assert digest.encode() not in entries[0]
    blob = redis_client.get(entries[0])
    assert isinstance(blob, bytes)
    longest = max((ln.text for ln in read.lines), key=len)
    assert len(longest) >= 8 and longest.encode() not in blob and digest.encode() not in blob
    assert 0 < redis_client.ttl(entries[0]) <= 60
    hit = cache.get(digest)
    assert hit is not None and [ln.text for ln in hit.lines] == [ln.text for ln in read.lines]
    cache.delete(digest)
    assert cache.get(digest) is None


def test_an_unreachable_redis_is_a_miss_not_a_failure(prescription: ParsedDocument) -> None:
    # No retries: redis-py's default back-off would only slow the test, not change the outcome.
    client = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    dead = SharedResultCache(client)
    started = time.perf_counter()
    assert dead.get("0" * 64) is None
    dead.put("0" * 64, prescription)  # logged, not raised
    assert dead.misses == 1
    assert time.perf_counter() - started < 2
