"""/v1/documents/{id}/drugs with the real OCR pipeline on a rendered prescription: the drug list read (a name the
lexicon only resolved by correcting it is marked for confirmation, in the list, the document and the chat's
`rxlens`), the user's correction stored with the document and used by the next question, and bad requests."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.persistence.repositories import DocumentRepository
from tests.app.api.conftest import KEY_A, KEY_B, AppFactory, auth, leaflet_png

pytestmark = [pytest.mark.slow]

# 氨氯地平 misread as 安禄地平 (the issue's own example): the lexicon resolves it to amlodipine, by a correction.
MISREAD_ROWS = (
    "安禄地平片 5mg 7片 用法：1片 口服 每日一次",
    "阿司匹林肠溶片 100mg 30片 用法：1片 口服 每日一次",
)
QUESTION = "这药能和辛伐他汀一起吃吗？"


def prescription_png(rows: tuple[str, ...] = MISREAD_ROWS) -> bytes:
    """A printed Chinese prescription as a clean photo: header, Rp, one line per drug (real OCR reads it)."""
    lines = (
        "第一人民医院",
        "处方笺",
        "姓名：王芳 性别：女 年龄：68岁",
        "科别：心内科 日期：2026-11-30",
        "Rp",
        *rows,
        "医师：李明",
    )
    return leaflet_png(lines)  # the same clean rendering as the API tests' leaflet


def _ask(client: httpx.Client | TestClient, document_id: str, **headers: str) -> dict[str, Any]:
    chat = {"messages": [{"role": "user", "content": QUESTION}], "rxlens": {"document_ids": [document_id]}}
    r = client.post("/v1/chat/completions", json=chat, headers=headers)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()["rxlens"]
    # Also where LangChain's ChatOpenAI finds it (the choice's logprobs).
    assert r.json()["choices"][0]["logprobs"]["rxlens"]["needs_confirmation"] == result["needs_confirmation"]
    return result


def _document_side(result: dict[str, Any]) -> list[tuple[str, ...]]:
    """The document's drugs in the asked pairs (each pair is a document drug against simvastatin)."""
    out = []
    for pair in result["asked"]:
        assert pair["b"]["ingredients"] == ["simvastatin"], pair
        out.append(tuple(pair["a"]["ingredients"]) or (pair["a"]["input"],))
    return sorted(out)


def test_a_confirmed_correction_is_used_by_the_next_question(shared_client: httpx.Client) -> None:
    r = shared_client.post("/v1/documents", files={"file": ("rx.png", prescription_png(), "image/png")})
    assert r.status_code in (200, 201), r.text
    doc = r.json()
    doc_id = doc["id"]
    assert doc["doc_type"] == "prescription" and doc["needs_confirmation"] is True and doc["confirmed"] is None

    read = shared_client.get(f"/v1/documents/{doc_id}/drugs").json()
    assert read["status"] == "needs_confirmation", read
    by_name = {d["name"]: d for d in read["drugs"]}
    assert set(by_name) == {"安禄地平片", "阿司匹林肠溶片"}, read
    # The corrected guess is marked, with what it was taken for; the row read plainly is not.
    assert by_name["安禄地平片"]["needs_confirmation"] and by_name["安禄地平片"]["ingredients"] == ["amlodipine"]
    assert by_name["安禄地平片"]["ingredient_names"]["zh"] == ["氨氯地平"]
    assert not by_name["阿司匹林肠溶片"]["needs_confirmation"]
    assert by_name["安禄地平片"]["strength"] == "5mg"

    # Before: the reading decides, and the chat says the list wants confirming.
    before = _ask(shared_client, doc_id)
    assert before["needs_confirmation"] == [doc_id]
    assert _document_side(before) == [("amlodipine",), ("aspirin",)]

    # The user corrects the first row (it was nifedipine), removes aspirin and adds a name we do not know.
    confirmed = shared_client.put(
        f"/v1/documents/{doc_id}/drugs",
        json={"drugs": [{"name": " 硝苯地平片 ", "strength": "20mg", "frequency": "qd"}, {"name": "康复灵胶囊"}]},
    )
    assert confirmed.status_code == 200, confirmed.text
    saved = confirmed.json()
    assert saved["status"] == "confirmed" and saved["confirmed_at"]
    assert [(d["name"], d["strength"], d["recognized"]) for d in saved["drugs"]] == [
        ("硝苯地平片", "20mg", True),
        ("康复灵胶囊", "", False),
    ]
    assert saved["unrecognized"] == ["康复灵胶囊"]
    assert shared_client.get(f"/v1/documents/{doc_id}/drugs").json() == saved  # stored, not only echoed

    after = _ask(shared_client, doc_id)
    assert after["needs_confirmation"] == []
    # The confirmed drugs are the document's subjects; the removed one is not; the unknown name is reported.
    assert _document_side(after) == [("nifedipine",), ("康复灵胶囊",)]
    unknown = next(p for p in after["asked"] if p["a"]["input"] == "康复灵胶囊")
    assert unknown["verdict"] == "insufficient_data" and unknown["coverage"] == "unrecognized"
    assert "康复灵胶囊" in after["unrecognized"]
    assert not {"amlodipine", "aspirin"} & {i for d in after["drugs"] for i in d["ingredients"]}
    stored = after["documents"][0]
    assert stored["confirmed"]["drugs"][0] == {"name": "硝苯地平片", "strength": "20mg", "dose": "", "frequency": "qd"}
    assert stored["needs_confirmation"] is False

    # The same photo again (a new question in a new conversation) is the stored document: the correction holds.
    again = shared_client.post(
        "/v1/chat/completions",
        json={"messages": [{"role": "user", "content": [{"type": "text", "text": QUESTION}, _image_part()]}]},
    )
    assert _document_side(again.json()["rxlens"]) == [("nifedipine",), ("康复灵胶囊",)]


def _image_part() -> dict[str, Any]:
    import base64

    data = base64.b64encode(prescription_png()).decode()
    return {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}


def test_bad_lists_are_refused_with_what_to_change(shared_client: httpx.Client) -> None:
    doc_id = shared_client.post("/v1/documents", files={"file": ("rx.png", prescription_png(), "image/png")}).json()[
        "id"
    ]
    before = shared_client.get(f"/v1/documents/{doc_id}/drugs").json()
    cases = [
        ({"drugs": []}, 400, "empty"),
        ({"drugs": [{"name": "   "}]}, 400, "drugs.0.name is empty"),
        ({"drugs": [{"name": "华法林"}, {"name": "阿" * 201}]}, 400, "drugs.1.name is 201 characters"),
        ({"drugs": [{"name": "华法林", "strength": "5" * 101}]}, 400, "drugs.0.strength"),
        ({"drugs": [{"name": f"药{i}"} for i in range(31)]}, 400, "at most 30"),
        ({"drugs": [{"name": "华法\u0000林"}]}, 400, "drugs.0.name holds a control character"),
        ({"drugs": "华法林"}, 422, "drugs"),
        ({}, 422, "drugs"),
    ]
    for body, status, said in cases:
        r = shared_client.put(f"/v1/documents/{doc_id}/drugs", json=body)
        assert r.status_code == status, (body, r.text)
        error = r.json()["error"]
        assert error["type"] == "invalid_request_error" and error["code"] == "invalid_input", error
        assert said in error["message"], error
    # Nothing was stored by a refused request.
    assert shared_client.get(f"/v1/documents/{doc_id}/drugs").json() == before

    for method in ("GET", "PUT"):
        r = shared_client.request(method, "/v1/documents/0123456789abcdef/drugs", json={"drugs": [{"name": "华法林"}]})
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text
        assert "GET /v1/documents" in r.json()["error"]["message"]


def test_another_owner_can_neither_read_nor_confirm_the_list(make_app: AppFactory, shared_client: httpx.Client) -> None:
    # Owner A's document holds a real reading (the shared app's); no OCR is needed to store it for this app.
    reading = shared_client.post("/v1/documents", files={"file": ("rx.png", prescription_png(), "image/png")}).json()
    app = make_app(api_keys=f"alice:{KEY_A},bob:{KEY_B}")
    repository: DocumentRepository = app.state.components.documents
    # As stored after a reading: without the API's own keys and without another test's confirmation of the photo.
    api_keys = {"id", "filename", "byte_size", "created_at", "image_url", "confirmed", "needs_confirmation"}
    parsed = {k: v for k, v in reading.items() if k not in api_keys}
    row, _ = repository.add(
        "alice",
        sha256=reading["sha256"],
        filename="rx.png",
        doc_type="prescription",
        parsed=parsed,
        data=b"x",
        content_type="image/png",
    )
    client = TestClient(app)  # no lifespan: nothing here needs the models warmed up
    url = f"/v1/documents/{row.id}/drugs"
    body = {"drugs": [{"name": "华法林"}]}
    assert client.get(url, headers=auth(KEY_B)).status_code == 404
    refused = client.put(url, json=body, headers=auth(KEY_B))
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    assert client.put(url, json=body).status_code == 401
    assert client.get(url, headers=auth(KEY_A)).json()["status"] == "needs_confirmation"  # B changed nothing
    assert client.put(url, json=body, headers=auth(KEY_A)).json()["drugs"][0]["ingredients"] == ["warfarin"]
