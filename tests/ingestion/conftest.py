"""Shared fixtures: the real RapidOCR model (loaded once per session), the rendered fixture pages with their
ground truth, each page read once, and the `mention_finder` (the real lexicon)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from evals.metrics import cer, normalise
from ingestion.cache import ResultCache
from ingestion.document import ParsedDocument
from ingestion.mentions import MentionFinder
from ingestion.ocr.rapid import RapidOcrEngine
from ingestion.pipeline import OcrPipeline
from knowledge.lexicon import Lexicon

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "images"
REAL = FIXTURES / "real"


@dataclass(frozen=True)
class Page:
    path: Path
    truth: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def data(self) -> bytes:
        return self.path.read_bytes()


def load_pages() -> list[Page]:
    pages = []
    for truth_path in sorted(FIXTURES.glob("*.json")):
        image = next(p for p in truth_path.parent.glob(truth_path.stem + ".*") if p.suffix != ".json")
        pages.append(Page(image, json.loads(truth_path.read_text(encoding="utf-8"))))
    return pages


PAGES = load_pages()
__all__ = ["PAGES", "REAL", "Page", "cer", "normalise"]


@pytest.fixture(scope="session")
def mention_finder(lexicon: Lexicon) -> MentionFinder:
    """The real drug lexicon, built on the real knowledge base, as ingestion sees it."""
    return lexicon


@pytest.fixture(scope="session")
def engine() -> RapidOcrEngine:
    return RapidOcrEngine()


@pytest.fixture(scope="session")
def pipeline(engine: RapidOcrEngine, mention_finder: MentionFinder) -> OcrPipeline:
    return OcrPipeline(engine, mention_finder=mention_finder, cache=ResultCache(max_entries=64))


@pytest.fixture(scope="session")
def read_pages(pipeline: OcrPipeline) -> dict[str, ParsedDocument]:
    """Every rendered fixture page read once (the expensive part), shared by the tests that check it."""
    return {page.name: pipeline.read(page.data, page.path.name) for page in PAGES}
