"""Retrieval fixtures: real models (loaded once per session), the real KB index, real files on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings
from knowledge.retrieval.bm25 import Bm25Tokenizer
from knowledge.retrieval.documents import DocumentIndexes
from knowledge.retrieval.embedders import Embedder, get_embedder
from knowledge.retrieval.hybrid import HybridRetriever, class_parents
from knowledge.retrieval.kb_index import open_kb_index
from knowledge.store import KnowledgeBase


@pytest.fixture(scope="session")
def minilm() -> Embedder:
    """The sentence-transformers path, on the bundled all-MiniLM-L6-v2 directory."""
    return get_embedder("minilm")


@pytest.fixture(scope="session")
def default_embedder() -> Embedder:
    return get_embedder(Settings().embedder)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def tokenizer(kb: KnowledgeBase) -> Bm25Tokenizer:
    return Bm25Tokenizer.for_knowledge_base(kb)


@pytest.fixture(scope="session")
def retriever(
    kb: KnowledgeBase,
    kb_index: Path,
    default_embedder: Embedder,
    tokenizer: Bm25Tokenizer,
    tmp_path_factory: pytest.TempPathFactory,
) -> HybridRetriever:
    """The KB index `rxlens kb build` made (built here when missing or stale), plus per-owner documents in a
    temporary directory."""
    return HybridRetriever(
        open_kb_index(kb, default_embedder, kb_index),
        default_embedder,
        tokenizer,
        documents=DocumentIndexes(tmp_path_factory.mktemp("owners"), default_embedder),
        classes_of=kb.classes_of,
        class_parents=class_parents(kb.class_children),
    )


@pytest.fixture
def owners_dir(tmp_path: Path) -> Path:
    return tmp_path / "owners"
