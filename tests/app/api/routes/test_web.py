"""The caregiver page is served by the app itself, with its script and style, next to the API."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def client(shared_client: httpx.Client) -> httpx.Client:
    """The session's shared, warmed server: these tests need no fresh state of their own."""
    return shared_client


def test_the_page_and_its_assets_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'accept="image/*"' in page.text and "app.js" in page.text
    script = client.get("/app.js")
    assert script.status_code == 200 and "/v1/chat/completions" in script.text and "speechSynthesis" in script.text
    assert client.get("/style.css").status_code == 200
    missing = client.get("/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
