"""LangChain's ChatOpenAI against a real uvicorn server: the verdict, findings and citations reach the programmer
on the AIMessage, in `invoke` and in `stream`. ChatOpenAI copies nothing of a response's top-level `rxlens`; it
does copy a choice's `logprobs` into `response_metadata`, where RxLens puts the result (schemas.RxLensLogprobs)."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessageChunk, HumanMessage
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from tests.app.api.conftest import LiveServer

pytestmark = pytest.mark.integration


def chat_model(server: LiveServer) -> ChatOpenAI:
    return ChatOpenAI(base_url=f"{server.url}/v1", api_key=SecretStr("local"), model="rxlens", max_retries=0)


def test_invoke_carries_the_verdict_findings_and_citations(shared_server: LiveServer) -> None:
    message = chat_model(shared_server).invoke([HumanMessage("Can I take ibuprofen with warfarin?")])
    assert "ibuprofen" in message.text
    rxlens = message.response_metadata["logprobs"]["rxlens"]
    assert rxlens["verdict"] == "avoid" and rxlens["asked"][0]["verdict"] == "avoid"
    assert rxlens["findings"] and rxlens["citations"] and rxlens["conversation_id"]
    assert message.response_metadata["finish_reason"] == "stop"


def test_stream_carries_them_on_the_last_chunk(shared_server: LiveServer) -> None:
    whole: AIMessageChunk | None = None
    pieces = 0
    for chunk in chat_model(shared_server).stream("布洛芬和华法林能一起吃吗？"):
        pieces += bool(chunk.text)
        whole = chunk if whole is None else whole + chunk
    assert whole is not None and pieces > 1
    assert whole.text.startswith("布洛芬和华法林：不建议")
    rxlens = whole.response_metadata["logprobs"]["rxlens"]
    assert rxlens["verdict"] == "avoid" and rxlens["findings"] and rxlens["citations"]
    assert whole.response_metadata["finish_reason"] == "stop"
