"""The browser test runs the same real app as the API tests: their fixtures (the shared knowledge parts, an app
on its own user database in tmp) are reused rather than copied. `server`: that app under uvicorn on its own
port and SQLite file (a test module may define its own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.components import Components
from tests.app.api.conftest import LiveServer, _app, knowledge_parts, make_app, user_database

__all__ = ["knowledge_parts", "make_app", "user_database"]


@pytest.fixture
def server(tmp_path: Path, kb_path: Path, kb_index: Path, knowledge_parts: Components) -> Iterator[LiveServer]:
    """The real app on its own SQLite file in tmp, under uvicorn on its own port (models load on first use)."""
    with LiveServer(_app(tmp_path, kb_path, kb_index, knowledge_parts, None)) as live:
        yield live
