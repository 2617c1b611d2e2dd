"""`POST /v1/chat/completions`, OpenAI-compatible: a JSON completion, or with `stream: true` server-sent events
in OpenAI's chunk format (role, content pieces, a last chunk carrying `rxlens`, then `data: [DONE]`).

The answer is decided before the first byte is sent, so a stream never ends in an error halfway through a
sentence: every error is an ordinary JSON error response.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.responses import Response

from app.api.assistant import answer_turn
from app.api.deps import ComponentsDep, OwnerDep
from app.api.schemas import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    Delta,
    ErrorResponse,
    RxLensResult,
    Usage,
)

router = APIRouter(prefix="/v1", tags=["chat"])

# Sentence-sized pieces: the client shows progress, and no piece splits a citation marker like "[12]".
_PIECE = re.compile(r".+?(?:[。！？；\n]|[.!?;](?=\s)|$)", re.S)


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={
        200: {"content": {"text/event-stream": {}}},
        **{s: {"model": ErrorResponse} for s in (400, 401, 404, 413, 415, 422, 429, 503)},
    },
)
async def chat_completions(body: ChatCompletionRequest, components: ComponentsDep, owner: OwnerDep) -> Response:
    turn = await answer_turn(body, owner, components)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    text = turn.answer.answer
    if body.stream:
        return StreamingResponse(
            _events(completion_id, created, body.model, text, turn.result),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    prompt_tokens = sum(len(m.text) for m in body.messages) // 2 + 1
    completion_tokens = len(text) // 2 + 1
    completion = ChatCompletion(
        id=completion_id,
        created=created,
        model=body.model,
        choices=[Choice(message=AssistantMessage(content=text))],
        usage=Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        ),
        rxlens=turn.result,
    )
    return Response(completion.model_dump_json(exclude_none=True), media_type="application/json")


async def _events(completion_id: str, created: int, model: str, text: str, result: RxLensResult) -> AsyncIterator[str]:
    def chunk(delta: Delta, finish: bool = False, rxlens: RxLensResult | None = None) -> str:
        body = ChatCompletionChunk(
            id=completion_id,
            created=created,
            model=model,
            choices=[ChunkChoice(delta=delta, finish_reason="stop" if finish else None)],
            rxlens=rxlens,
        )
        return f"data: {body.model_dump_json(exclude_none=True)}\n\n"

    yield chunk(Delta(role="assistant", content=""))
    for piece in _PIECE.findall(text):
        if piece:
            yield chunk(Delta(content=piece))
    yield chunk(Delta(), finish=True, rxlens=result)
    yield "data: [DONE]\n\n"
