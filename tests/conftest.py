"""Shared fixtures: the real knowledge base, built from the real files in knowledge/data/, and its retrieval
index (once per machine: each build is skipped when its inputs are unchanged).

Everything else the code under test writes by default (the user-data database, owners' document indexes, eval
reports) goes to a temporary var dir: tests never write into the checkout's var/ beyond the knowledge base and
its index.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from knowledge.build import build
from knowledge.interactions import InteractionEngine
from knowledge.lexicon import Lexicon
from knowledge.retrieval.embedders import get_embedder
from knowledge.retrieval.kb_index import build_kb_index
from knowledge.store import KnowledgeBase


@pytest.fixture(scope="session", autouse=True)
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """RXLENS_VAR_DIR points at a temporary directory for the whole session, so `Settings()` anywhere in a test
    (the chain's and the retriever's owner indexes included) writes there; the knowledge base and its index stay
    the checkout's, built once per machine."""
    checkout = Settings()  # type: ignore[call-arg]
    tmp = tmp_path_factory.mktemp("var")
    patch = pytest.MonkeyPatch()
    patch.setenv("RXLENS_VAR_DIR", str(tmp))
    patch.setenv("RXLENS_KB_PATH", str(checkout.knowledge_base.resolve()))
    patch.setenv("RXLENS_KB_INDEX_PATH", str(checkout.kb_index_dir.resolve()))
    patch.delenv("RXLENS_INDEX_PATH", raising=False)
    patch.delenv("RXLENS_DATABASE_URL", raising=False)
    yield tmp
    patch.undo()


@pytest.fixture(scope="session")
def kb_path(var_dir: Path) -> Path:
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
