"""API keys and owner scoping: a missing or wrong key is 401; another owner's conversation or document is 404
for every verb, exactly as if it did not exist; rate limits answer 429 with Retry-After."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.api.deps import owner_for_key
from app.config import Settings
from tests.app.api.conftest import KEY_A, KEY_B, AppFactory, auth

QUESTION = {"messages": [{"role": "user", "content": "Can I take ibuprofen with warfarin?"}]}


def test_keys_are_required_when_configured(keyed_client: TestClient) -> None:
    r = keyed_client.post("/v1/chat/completions", json=QUESTION)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in r.json()["error"]["message"]
    assert keyed_client.post("/v1/chat/completions", json=QUESTION, headers=auth("wrong-key")).status_code == 401
    assert keyed_client.get("/v1/documents", headers={"X-API-Key": KEY_A}).status_code == 200
    assert keyed_client.get("/healthz").status_code == 200  # probes need no key


def test_keys_are_kept_only_as_hashes() -> None:
    settings = Settings(api_keys=f"alice:{KEY_A}")  # type: ignore[call-arg]
    assert KEY_A not in repr(settings)
    assert KEY_A not in str(settings.api_key_hashes)
    assert owner_for_key(KEY_A, settings.api_key_hashes) == "alice"
    assert owner_for_key(KEY_A[:-1], settings.api_key_hashes) is None
    assert owner_for_key(None, settings.api_key_hashes) is None


def test_one_owner_cannot_see_or_delete_anothers_conversation(keyed_client: TestClient) -> None:
    r = keyed_client.post("/v1/chat/completions", json=QUESTION, headers=auth(KEY_A))
    conversation_id = r.json()["rxlens"]["conversation_id"]
    url = f"/v1/conversations/{conversation_id}"
    for response in (keyed_client.get(url, headers=auth(KEY_B)), keyed_client.delete(url, headers=auth(KEY_B))):
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    cont = {**QUESTION, "rxlens": {"conversation_id": conversation_id}}
    assert keyed_client.post("/v1/chat/completions", json=cont, headers=auth(KEY_B)).status_code == 404
    assert keyed_client.get(url, headers=auth(KEY_A)).status_code == 200  # still there for its owner
    assert keyed_client.get("/v1/documents/some-id", headers=auth(KEY_B)).status_code == 404


def test_rate_limit_answers_429_with_retry_after(make_app: AppFactory) -> None:
    with TestClient(make_app(rate_limit_per_minute=3)) as client:
        codes = [client.get("/v1/drugs/search", params={"q": "aspirin"}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = client.get("/v1/drugs/search", params={"q": "aspirin"})
        assert r.json()["error"]["code"] == "rate_limited" and int(r.headers["retry-after"]) >= 1


def test_rate_limit_state_is_kept_only_for_configured_owners(keyed_client: TestClient) -> None:
    """Buckets are per owner, and only a valid key names an owner: a flood of made-up keys leaves nothing behind."""
    for i in range(300):
        keyed_client.get("/v1/documents", headers=auth(f"made-up-key-{i:020d}"))
    limiter = keyed_client.app.state.components.rate_limiter  # type: ignore[attr-defined]
    assert len(limiter._buckets) == 0
    for key in (KEY_A, KEY_B, KEY_A):
        assert keyed_client.get("/v1/documents", headers=auth(key)).status_code == 200
    assert set(limiter._buckets) == {"alice", "bob"}
