"""A catalogue of bad inputs against the real app (real OCR, a real SQLite file): each is answered with the right
4xx and a message a person can act on, the server keeps serving, and nothing half-stored is left behind (every
table's row count is unchanged). Odd but legitimate images (CMYK, 16-bit, palette, alpha, animated) are read.
"""

from __future__ import annotations

import base64
import io
import socket
import sqlite3
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from app.api.main import create_app
from app.components import Components
from app.config import Settings
from tests.app.api.conftest import _SHARED, KEY_A, KEY_B, AppFactory, LiveServer, auth, leaflet_png

A = auth(KEY_A)
SHORT_LEAFLET = ("阿司匹林肠溶片", "口服，一次100mg，一日1次。")


@pytest.fixture(scope="module")
def app_and_db(
    tmp_path_factory: pytest.TempPathFactory, kb_path: Path, kb_index: Path, knowledge_parts: Components
) -> Iterator[tuple[FastAPI, Path]]:
    """One app for the whole catalogue (OCR loads once): two owners, remote images allowed (so the address
    checks, not the switch, are what refuses private URLs), no rate limit (the catalogue is a burst)."""
    tmp = tmp_path_factory.mktemp("bad-inputs")
    db = tmp / "rxlens.sqlite"
    settings = Settings(  # type: ignore[call-arg]
        var_dir=tmp,
        kb_path=kb_path,
        kb_index_path=kb_index,
        database_url=f"sqlite:///{db}",
        api_keys=f"alice:{KEY_A},bob:{KEY_B}",
        allow_remote_images=True,
        rate_limit_per_minute=0,
    )
    components = Components(settings)
    for name in _SHARED:
        components.__dict__[name] = knowledge_parts.__dict__[name]
    yield create_app(settings, components), db


@pytest.fixture(scope="module")
def api(app_and_db: tuple[FastAPI, Path]) -> Iterator[TestClient]:
    with TestClient(app_and_db[0]) as c:
        assert app_and_db[0].state.ready.wait(180), "warm-up did not finish"
        yield c


@pytest.fixture(scope="module")
def bobs_document(api: TestClient) -> str:
    r = api.post(
        "/v1/documents", files={"file": ("b.png", leaflet_png(SHORT_LEAFLET), "image/png")}, headers=auth(KEY_B)
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def row_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


# ---- image builders: small, made in memory --------------------------------------------------------------


def encode(image: Image.Image, fmt: str, **kw: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **kw)
    return out.getvalue()


def leaflet_image() -> Image.Image:
    return Image.open(io.BytesIO(leaflet_png(SHORT_LEAFLET))).convert("RGB")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width: int = 40_000, height: int = 40_000) -> bytes:
    """A valid PNG header claiming width x height, with one tiny compressed row: kilobytes, never decoded."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def pdf_with_pages(count: int) -> bytes:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    for _ in range(count):
        pdf.new_page(595, 842)
    out = io.BytesIO()
    pdf.save(out)
    pdf.close()
    return out.getvalue()


def blank(width: int = 800, height: int = 600, color: str = "white") -> bytes:
    return encode(Image.new("RGB", (width, height), color), "PNG")


def no_text_image() -> bytes:
    """A photo-like gradient with shapes and no writing."""
    image = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image)
    draw.ellipse((100, 100, 300, 300), fill=(200, 30, 30))
    draw.rectangle((350, 150, 550, 350), fill=(30, 30, 200))
    return encode(image, "PNG")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def chat(content: Any, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": content}], **extra}


def image_chat(url: str) -> dict[str, Any]:
    return chat([{"type": "text", "text": "这是什么药？"}, {"type": "image_url", "image_url": {"url": url}}])


# ---- the catalogue --------------------------------------------------------------------------------------


@dataclass
class Case:
    """One bad request: how to send it, the status it must get and words its message must contain."""

    id: str
    send: Callable[[TestClient], Any]
    status: int
    says: tuple[str, ...] = ()
    code: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def upload(data: bytes, name: str = "photo.jpg", ctype: str = "image/jpeg") -> Callable[[TestClient], Any]:
    return lambda c: c.post("/v1/documents", files={"file": (name, data, ctype)}, headers=A)


def upload_json(body: Any) -> Callable[[TestClient], Any]:
    return lambda c: c.post("/v1/documents", json=body, headers=A)


def post_chat(body: Any) -> Callable[[TestClient], Any]:
    return lambda c: c.post("/v1/chat/completions", json=body, headers=A)


def raw(method: str, path: str, content: bytes, ctype: str = "application/json") -> Callable[[TestClient], Any]:
    return lambda c: c.request(method, path, content=content, headers={**A, "content-type": ctype})


def check(drugs: Any) -> Callable[[TestClient], Any]:
    return lambda c: c.post("/v1/interactions/check", json={"drugs": drugs}, headers=A)


def get(path: str, headers: dict[str, str] | None = None) -> Callable[[TestClient], Any]:
    return lambda c: c.get(path, headers=A if headers is None else headers)


_png = leaflet_png(SHORT_LEAFLET)
_jpeg = encode(leaflet_image(), "JPEG", quality=90)

CASES = [
    # -- broken files ---------------------------------------------------------------------------------------
    Case("zero-byte upload", upload(b""), 400, ("empty",)),
    Case("zero-byte json upload", upload_json({"image": ""}), 400, ("empty",)),
    Case("truncated png", upload(_png[: len(_png) // 2], "l.png", "image/png"), 415, ("truncated",)),
    Case("truncated jpeg", upload(_jpeg[: len(_jpeg) // 2]), 415, ("truncated",)),
    Case("jpeg header then noise", upload(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40), 415, ("cannot be read",)),
    Case("png signature then noise", upload(b"\x89PNG\r\n\x1a\n" + b"\x13" * 5000, "l.png"), 415, ("PNG",)),
    Case("text file named .jpg", upload(b"Aspirin 100 mg once a day\n" * 20), 415, ("not an image",)),
    Case("html named .png", upload(b"<html><body>hi</body></html>", "x.png", "image/png"), 415, ("not an image",)),
    Case("random bytes", upload(bytes((i * 7919) % 251 for i in range(4096))), 415, ("not an image",)),
    Case("corrupt pdf", upload(b"%PDF-1.7\n" + b"garbage " * 500, "x.pdf", "application/pdf"), 415, ("PDF",)),
    # -- too big, too small, too many -----------------------------------------------------------------------
    Case("png header claiming 40000x40000", upload(bomb_png(), "bomb.png", "image/png"), 413, ("megapixels",)),
    Case("png header claiming 1x200000", upload(bomb_png(1, 200_000), "thin.png", "image/png"), 422, ("small",)),
    Case("60 MB upload", upload(b"\xff\xd8\xff" + bytes(60 * 1024 * 1024)), 413, ("limit",)),
    Case("60 MB json upload", upload_json({"image": "A" * (60 * 1024 * 1024)}), 413, ("limit",)),
    Case("500-page pdf", upload(pdf_with_pages(500), "big.pdf", "application/pdf"), 413, ("500 pages",)),
    Case("5x5 image", upload(blank(5, 5), "tiny.png", "image/png"), 422, ("too small",)),
    Case("blank page", upload(blank(), "blank.png", "image/png"), 422, ("no text",)),
    Case("image with no text", upload(no_text_image(), "shapes.png", "image/png"), 422, ("no text",)),
    Case("blank photo in chat", post_chat(image_chat(f"data:image/png;base64,{b64(blank())}")), 422, ("no text",)),
    # -- request shapes ---------------------------------------------------------------------------------------
    Case("100 000-character question", post_chat(chat("阿司匹林" * 25_000)), 413, ("100,000", "2,000")),
    Case(
        "huge earlier message",
        post_chat({"messages": [{"role": "user", "content": "x" * 3_000_000}, {"role": "user", "content": "ok?"}]}),
        413,
        ("characters",),
    ),
    Case("malformed json chat", raw("POST", "/v1/chat/completions", b'{"messages": [{"role": "user",'), 422, ("JSON",)),
    Case("non-utf8 json", raw("POST", "/v1/chat/completions", b'{"messages": "\xff\xfe"}'), 400, ("UTF-8 JSON",)),
    Case("json array body", raw("POST", "/v1/chat/completions", b"[1, 2, 3]"), 422, ("not valid",)),
    Case("form body on a json route", raw("POST", "/v1/chat/completions", b"a=b", "text/plain"), 422, ("not valid",)),
    Case("unknown content-part type", post_chat(chat([{"type": "audio", "audio": "x"}])), 422, ("type",)),
    Case("image part without url", post_chat(chat([{"type": "image_url", "image_url": {}}])), 422, ("url",)),
    Case("content is a number", post_chat(chat(42)), 422, ("content",)),
    Case("messages not a list", post_chat({"messages": "hello"}), 422, ("messages",)),
    Case("five images", post_chat(chat([{"type": "image_url", "image_url": {"url": "data:,x"}}] * 5)), 413, ("4",)),
    Case("malformed json upload", raw("POST", "/v1/documents", b'{"image": '), 400, ("JSON",)),
    Case("json upload without image", upload_json({"filename": "x.png"}), 400, ("image",)),
    Case("upload as text/plain", raw("POST", "/v1/documents", b"hello", "text/plain"), 415, ("multipart",)),
    Case(
        "multipart without file",
        lambda c: c.post("/v1/documents", files={"note": (None, "hi")}, headers=A),
        400,
        ("'file'",),
    ),
    Case(
        "ocr with unknown task",
        lambda c: c.post("/v1/ocr", json={"image": b64(_png), "task_type": "x"}, headers=A),
        422,
        ("task_type",),
    ),
    # -- images by URL and base64 ---------------------------------------------------------------------------
    *(
        Case(f"ssrf {url}", post_chat(image_chat(url)), 400, ("private",))
        for url in (
            "http://localhost/x.png",
            "http://127.0.0.1:8000/v1/documents",
            "http://127.1/x.png",
            "http://2130706433/x.png",
            "http://10.0.0.7/x.png",
            "http://192.168.1.1/x.png",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/x.png",
            "http://[::ffff:127.0.0.1]/x.png",
            "http://0.0.0.0/x.png",
        )
    ),
    Case("file:// url", post_chat(image_chat("file:///etc/passwd")), 415, ("scheme",)),
    Case("gopher url", post_chat(image_chat("gopher://127.0.0.1:25/x")), 415, ("scheme",)),
    Case("invalid base64 data uri", post_chat(image_chat("data:image/png;base64,@@not base64@@")), 415, ("base64",)),
    Case("data uri without base64", post_chat(image_chat("data:image/png,rawbytes")), 400, ("base64",)),
    Case("invalid base64 upload", upload_json({"image": "!!!!"}), 415, ("base64",)),
    Case("base64 of text", upload_json({"image": b64(b"just words, not a picture")}), 415, ("not an image",)),
    # -- names and strings ------------------------------------------------------------------------------------
    Case("empty drug list", check([]), 422, ("drugs",)),
    Case("drug name of 201 chars", check(["a" * 201]), 422, ("drugs",)),
    Case("31 drugs", check(["aspirin"] * 31), 422, ("drugs",)),
    Case("drug search without query", get("/v1/drugs/search?q="), 422, ("q",)),
    Case("drug search query too long", get("/v1/drugs/search?q=" + "x" * 101), 422, ("q",)),
    Case("documents limit 0", get("/v1/documents?limit=0"), 422, ("limit",)),
    Case("documents negative offset", get("/v1/documents?offset=-1"), 422, ("offset",)),
    Case("documents offset past 2**63", get("/v1/documents?offset=9223372036854775808"), 422, ("offset",)),
    Case("sql-looking document id", get("/v1/documents/1' OR '1'='1"), 404, ("No document",)),
    Case("sql-looking conversation id", get("/v1/conversations/x'; DROP TABLE documents; --"), 404, ("conversation",)),
    Case("path traversal id", get("/v1/documents/..%2F..%2Fetc%2Fpasswd"), 404, ("no such",)),
    Case(
        "unknown conversation id in chat",
        post_chat(chat("aspirin?", rxlens={"conversation_id": "nope"})),
        404,
        ("conversation",),
    ),
    Case(
        "unknown document id in chat",
        post_chat(chat("aspirin?", rxlens={"document_ids": ["nope"]})),
        404,
        ("document",),
    ),
    # -- keys and owners --------------------------------------------------------------------------------------
    Case("missing api key", get("/v1/documents", headers={}), 401, ("API key",)),
    Case("wrong api key", get("/v1/documents", headers=auth("not-a-real-key-000000000")), 401, ("API key",)),
    Case("empty bearer", get("/v1/documents", headers={"Authorization": "Bearer "}), 401, ("API key",)),
    Case(
        "key in the wrong scheme", get("/v1/documents", headers={"Authorization": f"Basic {KEY_A}"}), 401, ("API key",)
    ),
    Case("wrong method", lambda c: c.put("/v1/documents", headers=A), 405, ("Method",)),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_input_gets_a_clear_4xx_and_leaves_nothing_behind(
    case: Case, api: TestClient, app_and_db: tuple[FastAPI, Path]
) -> None:
    db = app_and_db[1]
    before = row_counts(db)
    r = case.send(api)
    assert r.status_code == case.status, r.text[:500]
    error = r.json()["error"]
    assert error["code"] and len(error["message"]) >= 15, error
    for words in case.says:
        assert words.lower() in error["message"].lower(), error["message"]
    assert row_counts(db) == before
    # Still serving: a good request right after.
    ok = api.post("/v1/interactions/check", json={"drugs": ["华法林", "阿司匹林"]}, headers=A)
    assert ok.status_code == 200 and ok.json()["interactions"]


OTHER_OWNER_ROUTES = [
    ("GET", "/v1/documents/{id}"),
    ("GET", "/v1/documents/{id}/image"),
    ("DELETE", "/v1/documents/{id}"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path"), OTHER_OWNER_ROUTES)
def test_another_owners_document_id_is_not_found(
    method: str, path: str, api: TestClient, bobs_document: str, app_and_db: tuple[FastAPI, Path]
) -> None:
    before = row_counts(app_and_db[1])
    r = api.request(method, path.format(id=bobs_document), headers=A)
    assert r.status_code == 404 and "No document" in r.json()["error"]["message"]
    assert row_counts(app_and_db[1]) == before
    asked = api.post(
        "/v1/chat/completions", json=chat("这个药怎么吃？", rxlens={"document_ids": [bobs_document]}), headers=A
    )
    assert asked.status_code == 404
    assert api.get(f"/v1/documents/{bobs_document}", headers=auth(KEY_B)).status_code == 200


# ---- odd but legitimate: read, not refused -----------------------------------------------------------------


def _cmyk() -> bytes:
    return encode(leaflet_image().convert("CMYK"), "JPEG", quality=92)


def _sixteen_bit() -> bytes:
    import numpy as np

    grey = np.asarray(leaflet_image().convert("L"), dtype=np.uint16) * 257
    image = Image.fromarray(grey.astype(np.uint16))
    assert image.mode.startswith("I;16")
    return encode(image, "PNG")


def _palette() -> bytes:
    return encode(leaflet_image().convert("P", palette=Image.Palette.ADAPTIVE, colors=16), "PNG")


def _alpha() -> bytes:
    rgba = leaflet_image().convert("RGBA")
    # Transparent margins around opaque text: flattening must use white, not black.
    mask = Image.new("L", rgba.size, 0)
    mask.paste(255, (20, 20, rgba.width - 20, rgba.height - 20))
    rgba.putalpha(mask)
    return encode(rgba, "PNG")


def _animated() -> bytes:
    first = leaflet_image().convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    second = Image.new("P", first.size, 0)
    return encode(first, "GIF", save_all=True, append_images=[second], duration=200, loop=0)


ODD_BUT_FINE = {
    "cmyk jpeg": _cmyk,
    "16-bit png": _sixteen_bit,
    "palette png": _palette,
    "alpha png": _alpha,
    "animated gif": _animated,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(ODD_BUT_FINE))
def test_odd_image_modes_are_read_not_refused(name: str, api: TestClient) -> None:
    data = ODD_BUT_FINE[name]()
    r = api.post("/v1/documents", files={"file": ("odd", data, "application/octet-stream")}, headers=A)
    assert r.status_code == 201, r.text[:300]
    doc = r.json()
    assert any("aspirin" in d["ingredients"] for d in doc["drugs"]), doc["drugs"]
    assert api.delete(f"/v1/documents/{doc['id']}", headers=A).status_code == 204


@pytest.mark.slow
@pytest.mark.integration
def test_a_60_mb_body_is_refused_before_it_is_read(make_app: AppFactory) -> None:
    """Over a real socket: the 413 arrives after the headers and 1 MB of a declared 60 MB body, so the server
    neither waited for nor buffered the rest."""
    with (
        LiveServer(make_app(api_keys=f"alice:{KEY_A}")) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as s,
    ):
        s.sendall(
            b"POST /v1/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + f"Authorization: Bearer {KEY_A}\r\n".encode()
            + b"Content-Type: application/octet-stream\r\nContent-Length: 62914560\r\n\r\n"
        )
        s.sendall(bytes(1024 * 1024))
        reply = b""
        while not reply.endswith(b"}"):
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 413") and b"byte limit" in reply
