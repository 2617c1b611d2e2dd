"""Fixtures for tests of the app that need a real PostgreSQL (the persistence and API tests run on SQLite and on
PostgreSQL): one throwaway server per session, started on first use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.app.persistence.postgres import PostgresServer


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer().start()  # fails, saying how to install PostgreSQL, when it is missing
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh, empty user database: a SQLite file, then a PostgreSQL database (each test runs on both)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'rxlens.sqlite'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()
