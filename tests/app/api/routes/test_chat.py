"""POST /v1/chat/completions against the real app: answers, multi-turn context, streaming, stored conversations,
and the 4xx a client gets for each kind of bad request."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from fastapi.testclient import TestClient

from evals.render.pages import font_files
from tests.app.api.conftest import AppFactory
from tests.app.leaflets import IBUPROFEN_LEAFLET, render


@pytest.fixture
def client(shared_client: httpx.Client) -> httpx.Client:
    """The session's shared, warmed server: these tests need no fresh state of their own."""
    return shared_client


def ask(client: TestClient, *messages: dict, **extra: object) -> dict:
    r = client.post("/v1/chat/completions", json={"model": "rxlens", "messages": list(messages), **extra})
    assert r.status_code == 200, r.text
    return r.json()


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def test_a_question_gets_an_openai_shaped_answer_with_the_structured_result(client: TestClient) -> None:
    body = ask(client, user("Can I take ibuprofen with warfarin?"))
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    content = body["choices"][0]["message"]["content"]
    assert body["choices"][0]["finish_reason"] == "stop" and "ibuprofen" in content
    result = body["rxlens"]
    assert result["verdict"] == "avoid"
    assert {"ibuprofen", "warfarin"} <= {i for d in result["drugs"] for i in d["ingredients"]}
    assert result["findings"] and result["citations"]
    assert "[1]" in content  # the text points at the citations the structure lists


def test_chinese_question_is_answered_in_chinese(client: TestClient) -> None:
    body = ask(client, user("布洛芬和华法林能一起吃吗？"))
    assert body["rxlens"]["language"] == "zh" and body["rxlens"]["verdict"] == "avoid"
    assert body["choices"][0]["message"]["content"].startswith("布洛芬和华法林：不建议")


def test_drugs_named_in_earlier_user_messages_are_asked_against(client: TestClient) -> None:
    body = ask(
        client,
        {"role": "system", "content": "You are a helpful assistant."},
        user("My father takes warfarin every day."),
        {"role": "assistant", "content": "Noted."},
        user("Can he also take ibuprofen together with it?"),
    )
    assert body["rxlens"]["verdict"] == "avoid"
    pair = body["rxlens"]["asked"][0]
    assert pair["a"]["ingredients"] == ["warfarin"] and pair["a"]["origin"] == "conversation"
    assert pair["b"]["ingredients"] == ["ibuprofen"]


def test_a_stored_conversation_keeps_its_medication_list(client: TestClient) -> None:
    first = ask(client, user("What is aspirin for?"), rxlens={"medications": ["warfarin"]})
    conversation_id = first["rxlens"]["conversation_id"]
    second = ask(client, user("Can I take ibuprofen together?"), rxlens={"conversation_id": conversation_id})
    assert second["rxlens"]["conversation_id"] == conversation_id
    assert second["rxlens"]["medications"] == ["warfarin"] and second["rxlens"]["verdict"] == "avoid"
    stored = client.get(f"/v1/conversations/{conversation_id}").json()
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant", "user", "assistant"]
    assert stored["messages"][2]["content"] == "Can I take ibuprofen together?"
    assert client.delete(f"/v1/conversations/{conversation_id}").status_code == 204
    assert client.get(f"/v1/conversations/{conversation_id}").status_code == 404


def test_streaming_sends_openai_chunks_then_done(client: TestClient) -> None:
    question = user("Can I take ibuprofen with warfarin?")
    whole = ask(client, question)["choices"][0]["message"]["content"]
    with client.stream("POST", "/v1/chat/completions", json={"messages": [question], "stream": True}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = [line[len("data: ") :] for line in r.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert len(chunks) > 3  # really streamed in pieces, not one blob
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == whole
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["rxlens"]["verdict"] == "avoid"


def _error(client: TestClient, status: int, body: dict) -> dict:
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] and len(error["message"]) > 10
    return error


def test_bad_requests_get_the_right_status_and_a_clear_message(client: TestClient) -> None:
    assert "messages" in _error(client, 422, {"messages": []})["message"]
    assert "role" in _error(client, 422, {"messages": [{"role": "wizard", "content": "x"}]})["message"]
    last_not_user = {"messages": [user("hi"), {"role": "assistant", "content": "hello"}]}
    assert "last message" in _error(client, 400, last_not_user)["message"]
    assert "no text" in _error(client, 400, {"messages": [user("   ")]})["message"]
    too_long = _error(client, 413, {"messages": [user("aspirin? " * 400)]})
    assert too_long["code"] == "request_too_large" and "2,000" in too_long["message"]
    missing = _error(client, 404, {"messages": [user("aspirin?")], "rxlens": {"conversation_id": "nope"}})
    assert missing["code"] == "not_found"


def _image_message(url: str) -> dict:
    return {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": url}},
                ],
            }
        ]
    }


def test_image_urls_are_refused_unless_safe(client: TestClient, make_app: AppFactory) -> None:
    remote = _error(client, 415, _image_message("https://example.com/leaflet.jpg"))
    assert "data: URI" in remote["message"]
    not_base64 = _error(client, 415, _image_message("data:image/png;base64,@@@not-base64@@@"))
    assert not_base64["code"] == "bad_image"
    not_an_image = base64.b64encode(b"just some text, not a picture").decode()
    assert _error(client, 415, _image_message(f"data:image/png;base64,{not_an_image}"))["code"] in (
        "unsupported_media_type",
        "bad_image",
    )
    with TestClient(make_app(allow_remote_images=True)) as permissive:
        # Even when remote images are allowed, the server never fetches from itself or a private network.
        for url in ("http://127.0.0.1:9/x.png", "http://localhost/x.png", "http://10.0.0.1/x.png"):
            assert "private" in _error(permissive, 400, _image_message(url))["message"]


def photo(text: str, png: bytes) -> dict:
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    return {
        "role": "user",
        "content": [{"type": "text", "text": text}, {"type": "image_url", "image_url": {"url": url}}],
    }


def test_a_follow_up_keeps_the_conversations_photo(client: TestClient) -> None:
    """Real OCR of a leaflet, then follow-ups that do not re-send it: by conversation id, and by re-sending the
    history the way an OpenAI client keeps it (text only, no id). Another conversation never sees the photo."""
    png = render(IBUPROFEN_LEAFLET, *font_files()[0])
    first = ask(client, photo("这药能和降压片一起吃吗？", png))
    result = first["rxlens"]
    assert result["verdict"] == "caution" and result["asked"][0]["a"]["ingredients"] == ["ibuprofen"]
    conversation_id = result["conversation_id"]

    by_id = ask(client, user("那和阿司匹林呢？"), rxlens={"conversation_id": conversation_id})["rxlens"]
    assert [(p["a"]["ingredients"], p["b"]["ingredients"]) for p in by_id["asked"]] == [(["ibuprofen"], ["aspirin"])]
    assert by_id["verdict"] == "avoid" and [d["id"] for d in by_id["documents"]] == [result["documents"][0]["id"]]

    history = ask(
        client,
        user("这药能和降压片一起吃吗？"),
        {"role": "assistant", "content": first["choices"][0]["message"]["content"]},
        user("And with aspirin?"),
    )["rxlens"]
    assert history["conversation_id"] == conversation_id
    assert history["asked"][0]["a"]["ingredients"] == ["ibuprofen"] and history["verdict"] == "avoid"

    elsewhere = ask(client, user("那和阿司匹林呢？"))["rxlens"]
    assert elsewhere["conversation_id"] != conversation_id and not elsewhere["documents"]
    assert elsewhere["verdict"] == "insufficient_data"
