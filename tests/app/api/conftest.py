"""Fixtures for the API: real apps on real SQLite files in tmp (and, for the tests in BOTH_DATABASES, on a real
PostgreSQL too: each such test runs once per database), a real uvicorn server on a loopback port.

Loading the knowledge base and building the lexicon takes seconds, so one loaded set of knowledge parts is
shared by every test app; each app still has its own settings, database file, limits and metrics. Tests that only
ask questions and need no fresh state (no restart, no log capture, no limits of their own) share one warmed app
for the whole session: `shared_app`, `shared_server` (uvicorn) and `shared_client` (httpx, TestClient's interface).
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw, ImageFont

from app.api.main import create_app
from app.components import Components
from app.config import Settings

KEY_A = "key-of-owner-a-0123456789"
KEY_B = "key-of-owner-b-9876543210"
# Built once per session; each app gets its own retriever and chain over its own (temporary) owner indexes.
_SHARED = ("kb", "lexicon", "engine", "composer", "names")


@pytest.fixture(scope="session")
def knowledge_parts(kb_path: Path) -> Components:
    parts = Components(Settings(kb_path=kb_path))  # type: ignore[call-arg]
    for name in _SHARED:
        getattr(parts, name)
    return parts


AppFactory = Callable[..., FastAPI]


def _app(
    var: Path, kb_path: Path, kb_index: Path, parts: Components, database: Path | str | None, **overrides: Any
) -> FastAPI:
    settings = Settings(  # type: ignore[call-arg]
        var_dir=var,
        kb_path=kb_path,
        kb_index_path=kb_index,
        database_url=database if isinstance(database, str) else f"sqlite:///{database or var / 'rxlens.sqlite'}",
        **overrides,
    )
    components = Components(settings)
    for name in _SHARED:
        components.__dict__[name] = parts.__dict__[name]
    return create_app(settings, components)


# The API tests that run on SQLite and on PostgreSQL (tests/app/conftest.py starts it): what stores, reads, deletes
# and races on user data. The others run on SQLite only, to keep `make test` short (these add about a minute).
BOTH_DATABASES = (
    "tests/app/api/test_persistence.py",
    "tests/app/api/test_races.py",
    "tests/app/api/test_shared_database.py",
    "tests/app/api/routes/test_documents.py::test_upload_read_list_image_delete",
    "tests/app/api/routes/test_documents.py::test_another_owner_cannot_see_or_delete_a_document",
    "tests/app/api/routes/test_documents.py::test_a_question_about_a_stored_document_cites_its_box",
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "user_database" in metafunc.fixturenames and metafunc.definition.nodeid.startswith(BOTH_DATABASES):
        metafunc.parametrize("user_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def user_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of the test's user database: a SQLite file in tmp, or (tests in BOTH_DATABASES, second run) a
    fresh database on the session's PostgreSQL."""
    if getattr(request, "param", "sqlite") == "postgresql":
        return str(request.getfixturevalue("postgres").new_database())
    return f"sqlite:///{tmp_path / 'rxlens.sqlite'}"


@pytest.fixture
def make_app(
    tmp_path: Path, kb_path: Path, kb_index: Path, knowledge_parts: Components, user_database: str
) -> AppFactory:
    """Apps on the test's user database (`database`: another SQLite file or URL)."""

    def make(database: Path | str | None = None, **overrides: Any) -> FastAPI:
        return _app(tmp_path, kb_path, kb_index, knowledge_parts, database or user_database, **overrides)

    return make


@pytest.fixture(scope="session")
def shared_app(
    tmp_path_factory: pytest.TempPathFactory, kb_path: Path, kb_index: Path, knowledge_parts: Components
) -> FastAPI:
    """One app for the session, in local mode, without a rate limit (many tests share its one owner)."""
    return _app(tmp_path_factory.mktemp("shared"), kb_path, kb_index, knowledge_parts, None, rate_limit_per_minute=0)


@pytest.fixture(scope="session")
def shared_server(shared_app: FastAPI) -> Iterator[LiveServer]:
    """The shared app under uvicorn, warmed up (OCR model loaded) before the first test uses it."""
    with LiveServer(shared_app) as server:
        server.wait_ready()
        yield server


@pytest.fixture(scope="session")
def shared_client(shared_server: LiveServer) -> Iterator[httpx.Client]:
    """An HTTP client of the shared server (the same interface as TestClient)."""
    with httpx.Client(base_url=shared_server.url, timeout=120) as client:
        yield client


@pytest.fixture
def client(make_app: AppFactory) -> Iterator[TestClient]:
    with TestClient(make_app()) as c:
        yield c


@pytest.fixture
def keyed_client(make_app: AppFactory) -> Iterator[TestClient]:
    with TestClient(make_app(api_keys=f"alice:{KEY_A},bob:{KEY_B}")) as c:
        yield c


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class LiveServer:
    """The app under a real uvicorn on a free loopback port, in a thread."""

    def __init__(self, app: FastAPI) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def wait_ready(self, timeout_s: float = 180) -> None:
        """Until /readyz says ok: the models are loaded and warmed up."""
        deadline = time.time() + timeout_s
        while httpx.get(f"{self.url}/readyz").status_code != 200:
            if time.time() > deadline:
                raise RuntimeError("server did not warm up")
            time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(make_app: AppFactory) -> Iterator[LiveServer]:
    with LiveServer(make_app()) as server:
        yield server


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    ):
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


def leaflet_png(lines: tuple[str, ...] = ()) -> bytes:
    """A clean photo-like rendering of a short Chinese leaflet (real OCR reads it)."""
    lines = lines or (
        "苯磺酸氨氯地平片说明书",
        "【药物相互作用】",
        "与辛伐他汀合用时，辛伐他汀的剂量不应超过每日20mg。",
        "【用法用量】口服，一次5mg，一日1次。",
    )
    font = _font(34)
    image = Image.new("RGB", (1100, 80 + 70 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for i, text in enumerate(lines):
        draw.text((40, 40 + 70 * i), text, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
