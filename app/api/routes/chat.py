"""`POST /v1/chat/completions`, OpenAI-compatible: a JSON completion, or with `stream: true` server-sent events
in OpenAI's chunk format.

A stream starts as soon as the request's own checks pass (before a photo is read): the role chunk, then one
progress chunk per stage of the turn (an empty delta and `rxlens: {"progress": {"stage"}}`; the OpenAI SDK and
LangChain pass them on as empty chunks), the answer in sentence-sized pieces, and a last chunk with
`finish_reason` and the structured result in `rxlens`, then `data: [DONE]`. An error found before the stream
starts is an ordinary JSON error response; one found after (the photo has no text, OCR is busy) is the stream's
last event, `data: {"error": {...}}`, which the OpenAI SDK raises as `openai.APIError` with `.code` and `.type`.

The answer is decided, not sampled, so `max_tokens` (or `max_completion_tokens`) cuts it at the last whole
sentence that fits (`finish_reason: "length"`); the first line (the verdict and what to do) is never cut: a limit
below it is refused (400 `max_tokens_too_small`, saying the least limit that works). Tokens are counted as
characters / 2, the same count `usage` reports. The structured result is complete either way.

The result also rides in the choice's `logprobs` (see schemas.RxLensLogprobs), the one part of a response
LangChain's ChatOpenAI copies into `AIMessage.response_metadata`, in `invoke` and in `stream`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.responses import Response

from app.api.assistant import Turn, answer_turn
from app.api.deps import ComponentsDep, OwnerDep
from app.api.errors import body_of, error_body
from app.api.routes.models import served_model
from app.api.schemas import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    Delta,
    ErrorResponse,
    FinishReason,
    Progress,
    ProgressStage,
    RxLensLogprobs,
    RxLensProgress,
    RxLensResult,
    Usage,
)
from app.errors import MaxTokensTooSmall
from knowledge.errors import RxLensError

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["chat"])

# Sentence-sized pieces: the client shows progress, and no piece splits a citation marker like "[12]".
_PIECE = re.compile(r".+?(?:[。！？；\n]|[.!?;](?=\s)|$)", re.S)
_RUNNING: set[asyncio.Task[Turn]] = set()  # turns of streams whose client left: they still finish and are stored


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={
        200: {"content": {"text/event-stream": {}}},
        **{s: {"model": ErrorResponse} for s in (400, 401, 404, 413, 415, 422, 429, 503)},
    },
)
async def chat_completions(body: ChatCompletionRequest, components: ComponentsDep, owner: OwnerDep) -> Response:
    model = served_model(body.model).id
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        return await _stream(body, owner, components, completion_id, created, model)
    turn = await answer_turn(body, owner, components)
    text, finish = within_limit(turn.answer.answer, body.token_limit)
    prompt_tokens = sum(tokens(m.text) for m in body.messages)
    completion_tokens = tokens(text)
    completion = ChatCompletion(
        id=completion_id,
        created=created,
        model=model,
        choices=[Choice(message=AssistantMessage(content=text), finish_reason=finish, logprobs=_carrier(turn.result))],
        usage=Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        ),
        rxlens=turn.result,
    )
    return Response(completion.model_dump_json(exclude_none=True), media_type="application/json")


def tokens(text: str) -> int:
    """RxLens has no tokenizer: characters / 2 is near a BPE count for mixed Chinese and English."""
    return len(text) // 2 + 1


def within_limit(text: str, limit: int | None) -> tuple[str, FinishReason]:
    """The answer cut at the last whole sentence within `limit` tokens, and its finish_reason."""
    if limit is None or tokens(text) <= limit:
        return text, "stop"
    first_line = text.split("\n", 1)[0]
    if tokens(first_line) > limit:
        raise MaxTokensTooSmall(
            f"max_tokens is {limit}, but this answer's first line (its verdict and what to do) takes "
            f"{tokens(first_line)} tokens and is never cut: send at least {tokens(first_line)}, or leave "
            f"max_tokens out (the whole answer takes {tokens(text)})."
        )
    kept = first_line
    for piece in _PIECE.findall(text[len(first_line) :]):
        if tokens(kept + piece) > limit:
            break
        kept += piece
    return kept.rstrip(), "length"


def _carrier(result: RxLensResult) -> RxLensLogprobs:
    return RxLensLogprobs(rxlens=result.model_dump(mode="json", exclude={"documents"}, exclude_none=True))


async def _stream(
    body: ChatCompletionRequest, owner: str, components: ComponentsDep, completion_id: str, created: int, model: str
) -> Response:
    stages: asyncio.Queue[ProgressStage | None] = asyncio.Queue()

    async def run() -> Turn:
        try:
            return await answer_turn(body, owner, components, progress=stages.put_nowait)
        finally:
            stages.put_nowait(None)  # the turn is over, answered or not

    task = asyncio.create_task(run())
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    first = await stages.get()
    if first is None:  # refused before any stage began: an ordinary error response (or, rarely, already done)
        task.result()
    return StreamingResponse(
        _events(body, task, stages, first, completion_id, created, model),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    body: ChatCompletionRequest,
    task: asyncio.Task[Turn],
    stages: asyncio.Queue[ProgressStage | None],
    first: ProgressStage | None,
    completion_id: str,
    created: int,
    model: str,
) -> AsyncIterator[str]:
    def chunk(
        delta: Delta,
        finish: FinishReason | None = None,
        rxlens: RxLensResult | RxLensProgress | None = None,
        logprobs: RxLensLogprobs | None = None,
    ) -> str:
        out = ChatCompletionChunk(
            id=completion_id,
            created=created,
            model=model,
            choices=[ChunkChoice(delta=delta, finish_reason=finish, logprobs=logprobs)],
            rxlens=rxlens,
        )
        return f"data: {out.model_dump_json(exclude_none=True)}\n\n"

    yield chunk(Delta(role="assistant", content=""))
    stage = first
    while stage is not None:
        yield chunk(Delta(), rxlens=RxLensProgress(progress=Progress(stage=stage)))
        stage = await stages.get()
    try:
        turn = task.result()
        text, finish = within_limit(turn.answer.answer, body.token_limit)
    except RxLensError as e:
        yield f"data: {json.dumps(body_of(e), ensure_ascii=False)}\n\n"
        return
    except Exception as e:  # the type only: its message could quote user data
        log.error("stream failed: %s", type(e).__name__)
        failed = error_body(500, "internal_error", "Something went wrong on the server; try again later.")
        yield f"data: {json.dumps(failed)}\n\n"
        return
    for piece in _PIECE.findall(text):
        if piece:
            yield chunk(Delta(content=piece))
    yield chunk(Delta(), finish=finish, rxlens=turn.result, logprobs=_carrier(turn.result))
    yield "data: [DONE]\n\n"
