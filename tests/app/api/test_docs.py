"""/docs and /redoc work offline: their pages load Swagger UI and ReDoc from the app itself, never from a CDN."""

from __future__ import annotations

import re

import httpx


def test_docs_and_redoc_are_served_from_local_assets(shared_client: httpx.Client) -> None:
    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = shared_client.get(page)
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        sources = re.findall(r'(?:src|href)="([^"]+)"', html.text)
        assert sources and not [s for s in sources if s.startswith(("http:", "https:", "//"))], sources
        script = next(s for s in sources if s.endswith(asset))
        js = shared_client.get(script)
        assert js.status_code == 200 and "javascript" in js.headers["content-type"] and len(js.content) > 100_000
    css = shared_client.get("/static-offline-docs/swagger-ui.css")
    assert css.status_code == 200 and "swagger-ui" in css.text
    assert "/v1/models" in shared_client.get("/openapi.json").json()["paths"]
