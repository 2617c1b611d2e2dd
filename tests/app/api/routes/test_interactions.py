"""POST /v1/interactions/check and GET /v1/drugs/search against the real knowledge base."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from knowledge.interactions import InteractionEngine


@pytest.fixture
def client(shared_client: httpx.Client) -> httpx.Client:
    """The session's shared, warmed server: these tests need no fresh state of their own."""
    return shared_client


def test_check_returns_the_engines_result(client: TestClient, engine: InteractionEngine) -> None:
    drugs = ["华法林", "aspirin", "notadrugxyz"]
    r = client.post("/v1/interactions/check", json={"drugs": drugs})
    assert r.status_code == 200
    body = r.json()
    # The knowledge base's grade, whatever the sources say today (contraindicated since ANSM's thesaurus).
    assert body["interactions"][0]["severity"] == engine.check(drugs).to_json()["interactions"][0]["severity"]
    assert body["interactions"][0]["severity"] in ("major", "contraindicated")
    assert {body["interactions"][0]["a"], body["interactions"][0]["b"]} == {"aspirin", "warfarin"}
    assert body["interactions"][0]["sources"]
    assert body["unrecognized"] == ["notadrugxyz"]


def test_check_refuses_an_empty_list(client: TestClient) -> None:
    r = client.post("/v1/interactions/check", json={"drugs": []})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input"


def test_drug_search_finds_names_in_both_languages(client: TestClient) -> None:
    zh = client.get("/v1/drugs/search", params={"q": "阿司匹"}).json()["results"]
    assert zh[0]["id"] == "aspirin" and zh[0]["name_zh"] == "阿司匹林"
    en = client.get("/v1/drugs/search", params={"q": "warfar"}).json()["results"]
    assert "warfarin" in [h["id"] for h in en]
    misspelt = client.get("/v1/drugs/search", params={"q": "ibuprofne"}).json()["results"]
    assert misspelt and misspelt[0]["id"] == "ibuprofen"
    assert client.get("/v1/drugs/search", params={"q": ""}).status_code == 422
