"""Shared fixtures: the real knowledge base, built from the real files in knowledge/data/, and its retrieval
index (once per machine: each build is skipped when its inputs are unchanged)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings
from knowledge.build import build
from knowledge.interactions import InteractionEngine
from knowledge.lexicon import Lexicon
from knowledge.retrieval.embedders import get_embedder
from knowledge.retrieval.kb_index import build_kb_index
from knowledge.store import KnowledgeBase


@pytest.fixture(scope="session")
def kb_path() -> Path:
    path = Settings().knowledge_base  # type: ignore[call-arg]
    build(path, progress=False)
    return path


@pytest.fixture(scope="session")
def kb(kb_path: Path) -> KnowledgeBase:
    return KnowledgeBase(kb_path)


@pytest.fixture(scope="session")
def kb_index(kb: KnowledgeBase) -> Path:
    """The KB retrieval index `rxlens kb build` makes with the default embedder; built here only when it is
    missing or stale (minutes on 2 cores)."""
    settings = Settings()  # type: ignore[call-arg]
    build_kb_index(kb, get_embedder(settings.embedder), settings.kb_index_dir)
    return settings.kb_index_dir


@pytest.fixture(scope="session")
def lexicon(kb: KnowledgeBase) -> Lexicon:
    return Lexicon(kb)


@pytest.fixture(scope="session")
def engine(kb: KnowledgeBase, lexicon: Lexicon) -> InteractionEngine:
    return InteractionEngine(kb, lexicon)
