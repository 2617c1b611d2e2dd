"""/v1/documents and /v1/ocr with the real OCR pipeline on rendered leaflet photos: upload (multipart and JSON),
list, read, image, delete; deduplication; owner isolation; bad uploads."""

from __future__ import annotations

import base64
import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.app.api.conftest import KEY_A, KEY_B, auth, leaflet_png

pytestmark = [
    pytest.mark.slow,
]


def test_upload_read_list_image_delete(client: TestClient) -> None:
    png = leaflet_png()
    r = client.post("/v1/documents", files={"file": ("leaflet.png", png, "image/png")})
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["filename"] == "leaflet.png" and doc["lines"] and doc["width"] > 0
    assert "amlodipine" in {i for d in doc["drugs"] for i in d["ingredients"]}
    assert all(len(line["bbox"]) == 4 for line in doc["lines"])
    # The same bytes again, now as JSON: the stored document, no second reading.
    again = client.post("/v1/documents", json={"image": base64.b64encode(png).decode()})
    assert again.status_code == 200 and again.json()["id"] == doc["id"]
    assert "rxlens_document_cache_hits_total 1.0" in client.get("/metrics").text
    assert client.get("/v1/documents").json()["total"] == 1
    assert client.get(f"/v1/documents/{doc['id']}").json()["lines"] == doc["lines"]
    image = client.get(doc["image_url"])
    assert image.content == png and image.headers["content-type"] == "image/png"
    assert client.delete(f"/v1/documents/{doc['id']}").status_code == 204
    for url in (f"/v1/documents/{doc['id']}", doc["image_url"]):
        assert client.get(url).status_code == 404
    assert client.get("/v1/documents").json()["total"] == 0


def test_a_forwarded_copy_is_stored_with_the_reading_scaled_not_read_again(keyed_client: TestClient) -> None:
    """A messaging app's copy (resized to 80%, JPEG q70) of a photo the owner stored: its own document, the
    reading scaled to its size, no OCR; another owner's copy, or a copy after the original is deleted, is read."""
    png = leaflet_png()
    original = keyed_client.post("/v1/documents", files={"file": ("l.png", png, "image/png")}, headers=auth(KEY_A))
    first = original.json()
    img = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    smaller = img.resize((round(img.width * 0.8), round(img.height * 0.8)), Image.Resampling.LANCZOS)
    smaller.save(out, "JPEG", quality=70)
    copy = out.getvalue()
    r = keyed_client.post("/v1/documents", files={"file": ("c.jpg", copy, "image/jpeg")}, headers=auth(KEY_A))
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["id"] != first["id"] and doc["near_duplicate"] is True and "cache" in doc["timings_ms"]
    assert (doc["width"], doc["height"]) == (round(img.width * 0.8), round(img.height * 0.8))
    assert [line["text"] for line in doc["lines"]] == [line["text"] for line in first["lines"]]
    (x0, y0), (x1, y1) = doc["lines"][0]["bbox"][0], first["lines"][0]["bbox"][0]
    assert abs(x0 - 0.8 * x1) < 1 and abs(y0 - 0.8 * y1) < 1
    other = keyed_client.post("/v1/documents", files={"file": ("c.jpg", copy, "image/jpeg")}, headers=auth(KEY_B))
    assert other.status_code == 201 and other.json()["near_duplicate"] is False
    for d in (doc, first):
        assert keyed_client.delete(f"/v1/documents/{d['id']}", headers=auth(KEY_A)).status_code == 204
    again = keyed_client.post("/v1/documents", files={"file": ("c.jpg", copy, "image/jpeg")}, headers=auth(KEY_A))
    assert again.status_code == 201 and again.json()["near_duplicate"] is False


def test_another_owner_cannot_see_or_delete_a_document(keyed_client: TestClient) -> None:
    r = keyed_client.post("/v1/documents", files={"file": ("l.png", leaflet_png(), "image/png")}, headers=auth(KEY_A))
    doc_id = r.json()["id"]
    for method, url in (
        ("GET", f"/v1/documents/{doc_id}"),
        ("GET", f"/v1/documents/{doc_id}/image"),
        ("DELETE", f"/v1/documents/{doc_id}"),
    ):
        assert keyed_client.request(method, url, headers=auth(KEY_B)).status_code == 404
    assert keyed_client.get("/v1/documents", headers=auth(KEY_B)).json()["total"] == 0
    chat = {"messages": [{"role": "user", "content": "这药怎么吃？"}], "rxlens": {"document_ids": [doc_id]}}
    assert keyed_client.post("/v1/chat/completions", json=chat, headers=auth(KEY_B)).status_code == 404
    assert keyed_client.get(f"/v1/documents/{doc_id}", headers=auth(KEY_A)).status_code == 200


def test_a_question_about_a_stored_document_cites_its_box(client: TestClient) -> None:
    doc_id = client.post("/v1/documents", files={"file": ("l.png", leaflet_png(), "image/png")}).json()["id"]
    chat = {"messages": [{"role": "user", "content": "能和辛伐他汀一起吃吗"}], "rxlens": {"document_ids": [doc_id]}}
    result = client.post("/v1/chat/completions", json=chat).json()["rxlens"]
    assert result["documents"][0]["id"] == doc_id
    boxed = [c for c in result["citations"] if c.get("document_id") == doc_id]
    assert boxed and len(boxed[0]["bbox"]) == 4


def test_ocr_endpoint_plain_and_parsed(client: TestClient) -> None:
    image = base64.b64encode(leaflet_png()).decode()
    plain = client.post("/v1/ocr", json={"image": image, "task_type": "plain_ocr"}).json()
    assert "辛伐他汀" in plain["text"] and plain["fields"] is None
    parsed = client.post("/v1/ocr", json={"image": image, "task_type": "doc_parser"}).json()
    assert parsed["doc_type"] and parsed["fields"] is not None and parsed["drugs"]
    assert client.get("/v1/documents").json()["total"] == 0  # /v1/ocr stores nothing


def test_bad_uploads_get_clear_errors(client: TestClient) -> None:
    not_image = client.post("/v1/documents", files={"file": ("notes.txt", b"hello there", "text/plain")})
    assert not_image.status_code == 415 and "JPEG" in not_image.json()["error"]["message"]
    truncated = client.post("/v1/documents", files={"file": ("l.png", leaflet_png()[:200], "image/png")})
    assert truncated.status_code in (415, 422) and truncated.json()["error"]["message"]
    wrong_field = client.post("/v1/documents", files={"photo": ("l.png", leaflet_png(), "image/png")})
    assert wrong_field.status_code == 400 and "'file'" in wrong_field.json()["error"]["message"]
    assert client.post("/v1/documents", content=b"raw", headers={"content-type": "text/plain"}).status_code == 415
