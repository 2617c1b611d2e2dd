"""A real redis-server for the session (free loopback port, tmp dir, no persistence), emptied before each test."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from PIL import Image

from app.config import Settings
from tests.app.api.conftest import leaflet_png
from tests.scale.servers import RedisServer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "images"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_client(redis_server: RedisServer) -> redis.Redis:
    client = redis_server.client()
    client.flushall()
    return client


def checkout_kb_index() -> Path:
    """The knowledge base's index `make test` builds before pytest (RXLENS_KB_INDEX_PATH, set for the session by
    tests/conftest.py). Used as it is: these tests are about jobs, and must never rebuild the shared knowledge base
    while another session edits its inputs."""
    return Settings().kb_index_dir  # type: ignore[call-arg]


def blank_png(size: int = 800) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), "white").save(out, format="PNG")
    return out.getvalue()


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def leaflet_photo(batch: int = 1) -> bytes:
    """A short rendered leaflet the real OCR reads in about a second; `batch` makes the bytes distinct."""
    return leaflet_png(
        (
            "苯磺酸氨氯地平片说明书",
            "【药物相互作用】与辛伐他汀合用时，辛伐他汀的剂量不应超过每日20mg。",
            f"批号 {batch:06d}",
        )
    )
