"""A forwarded copy through the whole pipeline, on the real OCR model: `OcrPipeline.read()` answers a 1,280 px
q70, a q50 and a 960 px q60 copy of a prescription read before from its cache in under 50 ms, with the reading's
boxes where OCR of the copy itself puts its lines; another prescription of the same hospital is read."""

from __future__ import annotations

import hashlib
import io
import time

import pytest
from PIL import Image

from ingestion.cache import ResultCache
from ingestion.mentions import MentionFinder
from ingestion.ocr.rapid import RapidOcrEngine
from ingestion.pipeline import OcrPipeline
from tests.ingestion.test_cache_near_duplicates import COPIES, PRESCRIPTION, forwarded, page


@pytest.mark.slow
def test_a_forwarded_copy_is_answered_from_the_cache_with_its_own_boxes(
    engine: RapidOcrEngine, mention_finder: MentionFinder
) -> None:
    pipeline = OcrPipeline(engine, mention_finder=mention_finder, cache=ResultCache(max_entries=8))
    original = page(PRESCRIPTION, 3001)
    first = pipeline.read(original, "rx.png")
    assert not first.from_cache and first.medications
    for long_side, quality in COPIES.values():
        copy = forwarded(original, long_side, quality)
        started = time.perf_counter()
        again = pipeline.read(copy, "forwarded.jpg")
        elapsed_ms = (time.perf_counter() - started) * 1000
        assert again.from_cache and again.near_duplicate and elapsed_ms < 50, elapsed_ms
        assert again.sha256 == hashlib.sha256(copy).hexdigest()
        assert (again.width, again.height) == Image.open(io.BytesIO(copy)).size
        assert [ln.text for ln in again.lines] == [ln.text for ln in first.lines]
        assert [m.name for m in again.medications] == [m.name for m in first.medications]
    # The scaled boxes are where OCR of the copy itself finds the same lines (within a few pixels).
    fresh = OcrPipeline(engine, mention_finder=mention_finder).read(copy, "forwarded.jpg")
    texts = [ln.text for ln in fresh.lines]
    own = {ln.text: ln.bbox for ln in fresh.lines if texts.count(ln.text) == 1}
    compared = 0
    for line in again.lines:
        if line.text in own:
            compared += 1
            assert max(abs(a - b) for a, b in zip(line.bbox, own[line.text], strict=True)) < 6, line.text
    assert compared >= len(again.lines) // 2
    # Another prescription of the same hospital is read, not answered from the cache.
    other = pipeline.read(page(PRESCRIPTION, 3005), "other.png")
    assert not other.from_cache and not other.near_duplicate
