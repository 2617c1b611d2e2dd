"""The official `openai` Python client against a real uvicorn server: models, plain and streamed answers, a photo
attached as a data-URI `image_url` part (the form IM platforms and pharmacy apps send), `max_tokens`, and every
kind of error raised as the SDK's typed exception with `.type`, `.code` and `.param`."""

from __future__ import annotations

import base64
import io
import time
import uuid
from collections.abc import Iterator

import openai
import pytest
from openai import OpenAI
from PIL import Image

from tests.app.api.conftest import KEY_A, AppFactory, LiveServer, leaflet_png

pytestmark = pytest.mark.integration

QUESTION = "Can I take ibuprofen with warfarin?"


def client_for(server: LiveServer, key: str = "unused-in-local-mode") -> OpenAI:
    return OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)


@pytest.fixture(scope="module")
def sdk(shared_server: LiveServer) -> Iterator[OpenAI]:
    with client_for(shared_server) as client:
        yield client


def photo_message(text: str, png: bytes) -> dict:
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    return {
        "role": "user",
        "content": [{"type": "text", "text": text}, {"type": "image_url", "image_url": {"url": url}}],
    }


def test_the_served_model_is_listed_and_retrieved(sdk: OpenAI) -> None:
    assert [m.id for m in sdk.models.list()] == ["rxlens"]
    model = sdk.models.retrieve("rxlens")
    assert model.id == "rxlens" and model.object == "model" and model.owned_by == "rxlens"
    with pytest.raises(openai.NotFoundError) as raised:
        sdk.models.retrieve("gpt-4o")
    assert raised.value.code == "model_not_found" and raised.value.type == "invalid_request_error"


def test_an_unknown_model_is_refused_naming_the_served_one(sdk: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        sdk.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    error = raised.value
    assert error.code == "model_not_found" and error.param == "model" and "'rxlens'" in error.message


def test_the_openai_client_gets_an_answer(sdk: OpenAI) -> None:
    completion = sdk.chat.completions.create(
        model="rxlens", messages=[{"role": "user", "content": "布洛芬和华法林能一起吃吗？"}]
    )
    assert completion.model == "rxlens" and completion.choices[0].message.role == "assistant"
    assert (completion.choices[0].message.content or "").startswith("布洛芬和华法林：不建议")
    assert completion.choices[0].finish_reason == "stop"
    extra = completion.model_extra or {}
    assert extra["rxlens"]["verdict"] == "avoid" and extra["rxlens"]["citations"]


def test_max_tokens_cuts_at_a_sentence_or_is_refused_below_the_first_line(sdk: OpenAI) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    whole = sdk.chat.completions.create(model="rxlens", messages=messages)
    text = whole.choices[0].message.content or ""
    first_line = text.split("\n", 1)[0]
    limit = len(first_line) // 2 + 30
    cut = sdk.chat.completions.create(model="rxlens", messages=messages, max_tokens=limit)
    short = cut.choices[0].message.content or ""
    assert cut.choices[0].finish_reason == "length"
    assert short.startswith(first_line) and text.startswith(short) and len(short) < len(text)
    assert cut.usage is not None and cut.usage.completion_tokens <= limit
    assert (cut.model_extra or {})["rxlens"]["citations"]  # the structured result stays whole
    same = sdk.chat.completions.create(model="rxlens", messages=messages, max_completion_tokens=limit)
    assert same.choices[0].message.content == short
    roomy = sdk.chat.completions.create(model="rxlens", messages=messages, max_tokens=100_000)
    assert roomy.choices[0].message.content == text and roomy.choices[0].finish_reason == "stop"
    with pytest.raises(openai.BadRequestError) as raised:
        sdk.chat.completions.create(model="rxlens", messages=messages, max_tokens=3)
    error = raised.value
    assert error.code == "max_tokens_too_small" and error.param == "max_tokens"
    assert f"at least {len(first_line) // 2 + 1}" in error.message


def test_the_openai_client_streams_with_progress(sdk: OpenAI) -> None:
    stream = sdk.chat.completions.create(model="rxlens", messages=[{"role": "user", "content": QUESTION}], stream=True)
    chunks = list(stream)
    stages = [c.model_extra["rxlens"]["progress"]["stage"] for c in chunks if _progress(c)]
    assert stages == ["recognising", "checking", "writing"]  # no photo: nothing to read
    pieces = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert len(pieces) > 3 and "ibuprofen" in "".join(pieces)
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert (last.model_extra or {})["rxlens"]["verdict"] == "avoid"


def _progress(chunk: object) -> bool:
    extra = getattr(chunk, "model_extra", None) or {}
    return "progress" in (extra.get("rxlens") or {})


@pytest.mark.slow
def test_a_stream_with_a_new_photo_starts_at_once(sdk: OpenAI) -> None:
    # A line no other test renders: the photo is new to the server, so it is really read (seconds of OCR).
    png = leaflet_png(
        ("苯磺酸氨氯地平片说明书", f"批号 {uuid.uuid4().hex[:8]}", "【药物相互作用】与辛伐他汀合用时需注意。")
    )
    started = time.perf_counter()
    stream = sdk.chat.completions.create(
        model="rxlens", messages=[photo_message("这药能和辛伐他汀一起吃吗？", png)], stream=True
    )
    arrivals, chunks = [], []
    for chunk in stream:
        arrivals.append(time.perf_counter() - started)
        chunks.append(chunk)
    first_chunk_s, total_s = arrivals[0], arrivals[-1]
    print(f"new photo, streamed: first chunk {first_chunk_s * 1000:.0f} ms, last {total_s:.1f} s")
    assert chunks[0].choices[0].delta.role == "assistant"
    assert first_chunk_s < 1.0, arrivals
    stages = [c.model_extra["rxlens"]["progress"]["stage"] for c in chunks if _progress(c)]
    assert stages == ["reading", "recognising", "checking", "writing"]
    reading_done = arrivals[[_progress(c) for c in chunks].index(True) + 1]
    assert reading_done > 0.5 and total_s - first_chunk_s > 0.5  # the photo was read after the stream began
    assert sum(1 for c in chunks if c.choices[0].delta.content) > 1
    rxlens = chunks[-1].model_extra["rxlens"]
    assert rxlens["verdict"] in ("avoid", "caution") and rxlens["citations"] and rxlens["findings"]


@pytest.mark.slow
def test_the_openai_client_sends_a_photo(sdk: OpenAI) -> None:
    completion = sdk.chat.completions.create(
        model="rxlens", messages=[photo_message("这药能和辛伐他汀一起吃吗？", leaflet_png())]
    )
    rxlens = (completion.model_extra or {})["rxlens"]
    assert rxlens["documents"] and "amlodipine" in {
        i for d in rxlens["documents"][0]["drugs"] for i in d["ingredients"]
    }
    assert rxlens["verdict"] in ("avoid", "caution")
    boxed = [c for c in rxlens["citations"] if c.get("document_id")]
    assert boxed and boxed[0]["bbox"]  # a citation the page can highlight on the photo


def test_errors_are_the_sdks_typed_exceptions(sdk: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as bad:
        sdk.chat.completions.create(model="rxlens", messages=[{"role": "assistant", "content": "hello"}])
    assert "last message" in str(bad.value)
    assert bad.value.type == "invalid_request_error" and bad.value.code == "invalid_input"
    with pytest.raises(openai.UnprocessableEntityError) as invalid:
        sdk.chat.completions.create(model="rxlens", messages=[{"role": "wizard", "content": "x"}])  # type: ignore[misc,list-item]
    assert invalid.value.code == "invalid_input" and invalid.value.param == "messages.0.role"
    # 413 is kept for HTTP's sake (a proxy or the size limit says 413 too): the SDK's APIStatusError, typed by code.
    with pytest.raises(openai.APIStatusError) as too_long:
        sdk.chat.completions.create(model="rxlens", messages=[{"role": "user", "content": "aspirin? " * 400}])
    assert too_long.value.status_code == 413 and too_long.value.code == "request_too_large"
    assert too_long.value.type == "invalid_request_error"
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.chat.completions.create(
            model="rxlens",
            messages=[{"role": "user", "content": QUESTION}],
            extra_body={"rxlens": {"conversation_id": "x"}},
        )
    assert missing.value.code == "not_found"


def test_a_photo_without_text_fails_inside_the_stream_as_an_api_error(sdk: OpenAI) -> None:
    blank = Image.new("RGB", (400, 300), "white")
    out = io.BytesIO()
    blank.save(out, format="PNG")
    stream = sdk.chat.completions.create(
        model="rxlens", messages=[photo_message("这是什么药？", out.getvalue())], stream=True
    )
    with pytest.raises(openai.APIError) as raised:
        for _ in stream:
            pass
    assert raised.value.code in ("no_text", "image_too_small") and raised.value.type == "invalid_request_error"


def test_a_wrong_key_is_an_authentication_error(make_app: AppFactory) -> None:
    with LiveServer(make_app(api_keys=f"alice:{KEY_A}")) as server:
        with pytest.raises(openai.AuthenticationError) as raised:
            client_for(server, "not-a-key").models.list()
        assert raised.value.code == "unauthorized" and raised.value.type == "authentication_error"
        assert [m.id for m in client_for(server, KEY_A).models.list()] == ["rxlens"]
