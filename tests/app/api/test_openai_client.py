"""The official `openai` Python client against a real uvicorn server: plain, streamed, and with a photo attached
as a data-URI `image_url` part (the form IM platforms and pharmacy apps send)."""

from __future__ import annotations

import base64

import pytest
from openai import OpenAI

from tests.app.api.conftest import LiveServer, leaflet_png

pytestmark = pytest.mark.integration


def client_for(server: LiveServer) -> OpenAI:
    return OpenAI(base_url=f"{server.url}/v1", api_key="unused-in-local-mode", max_retries=0)


def test_the_openai_client_gets_an_answer(live_server: LiveServer) -> None:
    completion = client_for(live_server).chat.completions.create(
        model="rxlens", messages=[{"role": "user", "content": "布洛芬和华法林能一起吃吗？"}]
    )
    assert completion.choices[0].message.role == "assistant"
    assert "结论" in (completion.choices[0].message.content or "")
    extra = completion.model_extra or {}
    assert extra["rxlens"]["verdict"] == "avoid" and extra["rxlens"]["citations"]


def test_the_openai_client_streams(live_server: LiveServer) -> None:
    stream = client_for(live_server).chat.completions.create(
        model="rxlens",
        messages=[{"role": "user", "content": "Can I take ibuprofen with warfarin?"}],
        stream=True,
    )
    pieces, last = [], None
    for chunk in stream:
        pieces.append(chunk.choices[0].delta.content or "")
        last = chunk
    assert len(pieces) > 3 and "ibuprofen" in "".join(pieces)
    assert last is not None and last.choices[0].finish_reason == "stop"
    assert (last.model_extra or {})["rxlens"]["verdict"] == "avoid"


def test_the_openai_client_reports_errors_as_api_errors(live_server: LiveServer) -> None:
    import openai

    with pytest.raises(openai.BadRequestError) as raised:
        client_for(live_server).chat.completions.create(
            model="rxlens", messages=[{"role": "assistant", "content": "hello"}]
        )
    assert "last message" in str(raised.value)


@pytest.mark.slow
def test_the_openai_client_sends_a_photo(live_server: LiveServer) -> None:
    image = base64.b64encode(leaflet_png()).decode()
    completion = client_for(live_server).chat.completions.create(
        model="rxlens",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "这药能和辛伐他汀一起吃吗？"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{image}"}},
                ],
            }
        ],
    )
    rxlens = (completion.model_extra or {})["rxlens"]
    assert rxlens["documents"] and "amlodipine" in {
        i for d in rxlens["documents"][0]["drugs"] for i in d["ingredients"]
    }
    assert rxlens["verdict"] in ("avoid", "caution")
    boxed = [c for c in rxlens["citations"] if c.get("document_id")]
    assert boxed and boxed[0]["bbox"]  # a citation the page can highlight on the photo
