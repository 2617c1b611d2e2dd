"""Owner isolation across every route: with B's key, nothing of A's (documents, images, conversations, their
medication lists, retrieved passages, citations) can be read, changed or inferred. The routes are listed from
the app itself, so a new route without a probe here fails the test instead of being forgotten.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from tests.app.api.conftest import KEY_A, KEY_B, AppFactory, auth, leaflet_png

A, B = auth(KEY_A), auth(KEY_B)
LEAFLET = ("苯磺酸氨氯地平片说明书", "【药物相互作用】", "与辛伐他汀合用时，辛伐他汀的剂量不应超过每日20mg。")
SECRET_FILENAME = "alice-private-leaflet.png"


@pytest.mark.slow
def test_owner_b_reaches_nothing_of_owner_a_through_any_route(make_app: AppFactory) -> None:
    app = make_app(api_keys=f"alice:{KEY_A},bob:{KEY_B}", rate_limit_per_minute=0)
    with TestClient(app) as c:
        photo = leaflet_png(LEAFLET)
        up = c.post("/v1/documents", files={"file": (SECRET_FILENAME, photo, "image/png")}, headers=A)
        assert up.status_code == 201
        doc = up.json()["id"]
        asked = c.post(
            "/v1/chat/completions",
            json={
                "messages": [{"role": "user", "content": "这个药和辛伐他汀能一起吃吗？"}],
                "rxlens": {"document_ids": [doc], "medications": ["华法林"]},
            },
            headers=A,
        ).json()
        conv = asked["rxlens"]["conversation_id"]
        queued = c.post("/v1/documents?wait=false", files={"file": ("a2.png", photo, "image/png")}, headers=A)
        assert queued.status_code == 202
        job = queued.json()["job_id"]
        assert any(ci.get("document_id") == doc for ci in asked["rxlens"]["citations"])
        secrets = (doc, conv, SECRET_FILENAME)

        def clean(r: Any, echoed: str = "") -> None:
            """A's ids, filename and medication list appear nowhere in what B gets back (except an id B sent
            itself, which a 404 may quote)."""
            for s in (*secrets, "华法林"):
                assert s == echoed or s not in r.text, (r.request.url.path, s)

        def not_found(r: Any) -> None:
            assert r.status_code == 404, r.text
            assert r.json()["error"]["code"] == "not_found"
            sent = doc if doc in str(r.request.url) or doc.encode() in r.request.content else conv
            clean(r, echoed=sent)

        def chat_as_b(**rxlens: Any) -> Any:
            question = "与辛伐他汀合用时，辛伐他汀的剂量不应超过每日20mg。这药能和辛伐他汀一起吃吗？"
            return c.post(
                "/v1/chat/completions",
                json={"messages": [{"role": "user", "content": question}], "rxlens": rxlens},
                headers=B,
            )

        def probe_chat() -> None:
            not_found(chat_as_b(document_ids=[doc]))
            not_found(chat_as_b(conversation_id=conv))
            # A question quoting A's leaflet word for word retrieves nothing of A's and inherits no medication list.
            r = chat_as_b()
            assert r.status_code == 200
            clean(r)
            result = r.json()["rxlens"]
            assert not any(ci.get("document_id") for ci in result["citations"])
            assert "华法林" not in result["medications"] and not result["documents"]

        def probe_upload() -> None:
            # The same bytes make B a document of B's own: readings are never shared between owners.
            r = c.post("/v1/documents", files={"file": ("b.png", photo, "image/png")}, headers=B)
            assert r.status_code == 201 and r.json()["id"] != doc
            clean(r)
            assert c.delete(f"/v1/documents/{r.json()['id']}", headers=B).status_code == 204

        def probe_list() -> None:
            r = c.get("/v1/documents", headers=B)
            assert r.status_code == 200 and r.json()["total"] == 0
            clean(r)

        def anonymous(method: str, path: str, **kw: Any) -> Callable[[], None]:
            def run() -> None:
                r = c.request(method, path, headers=B, **kw)
                assert r.status_code < 500
                clean(r)

            return run

        image_b64 = base64.b64encode(photo).decode()

        def probe_ocr() -> None:
            # A's photo is stored (A's reading cache); B's request for the same bytes is read anew, so B cannot
            # tell from a fast answer that A uploaded it.
            r = c.post("/v1/ocr", json={"image": image_b64}, headers=B)
            assert r.status_code == 200 and "cache" not in r.json()["timings_ms"]
            clean(r)

        probes: dict[tuple[str, str], Callable[[], None]] = {
            ("POST", "/v1/chat/completions"): probe_chat,
            ("POST", "/v1/documents"): probe_upload,
            ("GET", "/v1/documents"): probe_list,
            ("GET", "/v1/documents/{document_id}"): lambda: not_found(c.get(f"/v1/documents/{doc}", headers=B)),
            ("GET", "/v1/documents/{document_id}/image"): lambda: not_found(
                c.get(f"/v1/documents/{doc}/image", headers=B)
            ),
            ("DELETE", "/v1/documents/{document_id}"): lambda: not_found(c.delete(f"/v1/documents/{doc}", headers=B)),
            ("GET", "/v1/documents/{document_id}/drugs"): lambda: not_found(
                c.get(f"/v1/documents/{doc}/drugs", headers=B)
            ),
            ("PUT", "/v1/documents/{document_id}/drugs"): lambda: not_found(
                c.put(f"/v1/documents/{doc}/drugs", json={"drugs": [{"name": "华法林"}]}, headers=B)
            ),
            ("GET", "/v1/conversations/{conversation_id}"): lambda: not_found(
                c.get(f"/v1/conversations/{conv}", headers=B)
            ),
            ("DELETE", "/v1/conversations/{conversation_id}"): lambda: not_found(
                c.delete(f"/v1/conversations/{conv}", headers=B)
            ),
            ("POST", "/v1/ocr"): probe_ocr,
            # A's upload job: B gets the 404 of a job that never existed, not its state or document id
            ("GET", "/v1/jobs/{job_id}"): lambda: not_found(c.get(f"/v1/jobs/{job}", headers=B)),
            ("GET", "/v1/models"): anonymous("GET", "/v1/models"),
            ("GET", "/v1/models/{model_id}"): anonymous("GET", "/v1/models/rxlens"),
            ("POST", "/v1/interactions/check"): anonymous(
                "POST", "/v1/interactions/check", json={"drugs": ["氨氯地平", "辛伐他汀"]}
            ),
            ("GET", "/v1/drugs/search"): anonymous("GET", "/v1/drugs/search", params={"q": "氨氯"}),
            ("GET", "/healthz"): anonymous("GET", "/healthz"),
            ("GET", "/readyz"): anonymous("GET", "/readyz"),
            ("GET", "/metrics"): anonymous("GET", "/metrics"),
        }
        # Every operation the app serves (FastAPI builds its OpenAPI document from its routes; a route hidden
        # from the schema would be caught by the count of plain routes below).
        routes = {(m.upper(), path) for path, ops in app.openapi()["paths"].items() for m in ops}
        assert routes == set(probes), f"routes without an isolation probe: {routes - set(probes)}"
        plain = {r.path for r in app.routes if isinstance(r, Route)}
        assert plain <= {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
        # The docs' own scripts (offline Swagger UI and ReDoc), and the static web page.
        assert [r.path for r in app.routes if isinstance(r, Mount)] == ["/static-offline-docs", ""]
        for probe in probes.values():
            probe()

        # Nothing B did touched A's data.
        assert c.get(f"/v1/documents/{doc}", headers=A).json()["confirmed"] is None
        assert c.get(f"/v1/documents/{doc}/image", headers=A).content == photo
        stored = c.get(f"/v1/conversations/{conv}", headers=A).json()
        assert stored["medications"] == ["华法林"] and len(stored["messages"]) == 2
        assert c.get("/v1/documents", headers=A).json()["total"] == 1
