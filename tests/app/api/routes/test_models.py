"""GET /v1/models and /v1/models/{id} in OpenAI's shapes, and OpenAI's error shape on every kind of error."""

from __future__ import annotations

import httpx


def test_the_one_served_model_is_listed(shared_client: httpx.Client) -> None:
    listed = shared_client.get("/v1/models").json()
    assert listed["object"] == "list" and [m["id"] for m in listed["data"]] == ["rxlens"]
    model = shared_client.get("/v1/models/rxlens").json()
    assert model == listed["data"][0] and model["object"] == "model" and isinstance(model["created"], int)


def test_errors_have_openais_shape(shared_client: httpx.Client) -> None:
    unknown = shared_client.get("/v1/models/gpt-4o")
    assert unknown.status_code == 404
    assert unknown.json() == {
        "error": {
            "message": unknown.json()["error"]["message"],
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }
    assert "'rxlens'" in unknown.json()["error"]["message"]
    chat = shared_client.post(
        "/v1/chat/completions", json={"model": "llama3", "messages": [{"role": "user", "content": "x"}]}
    )
    assert chat.status_code == 404 and chat.json()["error"]["code"] == "model_not_found"
    invalid = shared_client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": 3}]}).json()
    assert invalid["error"]["param"] == "messages.0.content"
    assert invalid["error"]["type"] == "invalid_request_error" and invalid["error"]["code"] == "invalid_input"
    no_route = shared_client.get("/v1/nothing").json()["error"]
    assert no_route["type"] == "invalid_request_error" and no_route["code"] == "not_found" and no_route["param"] is None
    limit = shared_client.post(
        "/v1/chat/completions", json={"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}
    )
    assert limit.status_code == 422 and limit.json()["error"]["param"] == "max_tokens"
