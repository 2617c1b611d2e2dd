"""One chat turn: an OpenAI-style message list in, an answer and its stored conversation out.

The last user message is the question (its text) and its photos. A follow-up keeps its conversation: the
conversation is the one named by `rxlens.conversation_id`, or the one whose last answer the re-sent history ends
with; its documents stay the subject of a question that attaches none ("那和阿司匹林呢？"), and the drugs named
in its earlier questions (or in the re-sent history) are the ones a follow-up is asked against. The medication list
is the one sent in `rxlens.medications` plus the one stored with the conversation. Photos are read and stored as
the owner's documents, so the answer can cite their boxes and the page can show them. Another conversation's
documents are never used. The exchange is committed before the reply is sent.

A streamed reply follows the turn through `progress`, called with each stage as it starts (reading, recognising,
checking, writing); the request's own checks (roles, lengths, image data) are done before the first stage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from app.answer import Answer
from app.api.images import image_from_url
from app.api.library import document_out
from app.api.schemas import ChatCompletionRequest, ChatMessage, DocumentOut, ProgressStage, RxLensResult
from app.components import Components
from app.errors import Busy, InvalidInput, RequestTooLarge
from app.persistence.tables import DocumentRow

# What a photo sent without a question is taken to ask.
_DEFAULT_QUESTION = {"zh": "这是什么药？需要注意什么？", "en": "What is this medicine and what should I watch out for?"}
MAX_MEDICATIONS = 30
MAX_CONVERSATION_DOCUMENTS = 4  # the most recent documents of a conversation a follow-up is about


@dataclass
class Turn:
    answer: Answer
    result: RxLensResult


def _silent(_stage: ProgressStage) -> None:
    return None


async def answer_turn(
    request: ChatCompletionRequest,
    owner: str,
    components: Components,
    progress: Callable[[ProgressStage], None] = _silent,
) -> Turn:
    settings = components.settings
    users = [m for m in request.messages if m.role == "user"]
    if not users or request.messages[-1].role != "user":
        raise InvalidInput("The last message must be the user's question (role 'user').")
    last = users[-1]
    question = last.text.strip()
    if len(question) > settings.max_question_chars:
        raise RequestTooLarge(
            f"The question is {len(question):,} characters; the limit is {settings.max_question_chars:,}."
        )
    # Earlier messages are read for drug names too, so the whole history is bounded, not only the question.
    total = sum(len(m.text) for m in request.messages)
    if total > settings.max_conversation_chars:
        raise RequestTooLarge(
            f"The messages hold {total:,} characters in all; the limit is {settings.max_conversation_chars:,}. "
            "Start a new conversation (its medication list is kept with rxlens.conversation_id)."
        )
    images = [img for m in users for img in m.images]
    if len(images) > settings.max_images_per_request:
        raise RequestTooLarge(f"At most {settings.max_images_per_request} images per request.")
    if not question and not images:
        raise InvalidInput("The last user message has no text and no image: ask a question or attach a photo.")

    rows: list[DocumentRow] = []
    photos = [await image_from_url(image.url, settings) for image in images]  # a bad data: URI fails here, at once
    if photos:
        progress("reading")
    for data in photos:
        row, _ = await components.jobs.ingest(owner, data, None)
        rows.append(row)
    if request.rxlens.document_ids:
        rows += await run_in_threadpool(components.documents.get_many, owner, request.rxlens.document_ids)

    conversation_id = request.rxlens.conversation_id
    earlier = [m.text for m in users[:-1]]
    if conversation_id is None and any(m.role == "assistant" for m in request.messages):
        last_answer = next(m.text for m in reversed(request.messages) if m.role == "assistant")
        conversation_id = await run_in_threadpool(components.conversations.find_by_answer, owner, last_answer)
    stored: list[str] = []
    if conversation_id is not None:
        conversation = await run_in_threadpool(components.conversations.get, owner, conversation_id)
        stored = conversation.medications
        asked_before = [m for m in conversation.messages if m.role == "user"]
        earlier = [m.content for m in asked_before] + earlier
        if not rows:  # a follow-up without a photo is still about the conversation's documents
            ids = list(dict.fromkeys(d for m in reversed(asked_before) for d in m.document_ids))
            rows = await run_in_threadpool(components.documents.get_many, owner, ids[:MAX_CONVERSATION_DOCUMENTS])
    rows = list({r.id: r for r in rows}.values())
    progress("recognising")
    medications = _medication_list(stored, request.rxlens.medications)
    discussed = [
        m for text in earlier for m in components.lexicon.find_mentions(text) if m.recognized and not m.is_class
    ]

    if not question:
        question = _DEFAULT_QUESTION["zh" if _prefers_chinese(request.messages) else "en"]
    contexts = [components.library.context(r) for r in rows]
    progress("checking")
    try:
        answer = await asyncio.wait_for(
            run_in_threadpool(components.chain.ask, question, contexts, medications, owner, discussed),
            settings.answer_timeout_s,
        )
    except TimeoutError as e:
        raise Busy("Answering took too long; try again in a moment.", retry_after=5) from e

    progress("writing")
    documents: list[DocumentOut] = [document_out(r) for r in rows]
    payload = answer.to_json()
    # Merged with the list stored at commit time (a turn running alongside keeps its drugs), and without what the
    # answer quoted from a document deleted meanwhile.
    recorded = await run_in_threadpool(
        lambda: components.conversations.record_exchange(
            owner,
            conversation_id,
            question=question,
            document_ids=[r.id for r in rows],
            answer=answer.answer,
            result=payload,
            medications=medications,
            max_medications=MAX_MEDICATIONS,
        )
    )
    payload, answer.answer = recorded.result, recorded.answer
    result = RxLensResult.model_validate(
        {
            **payload,
            "conversation_id": recorded.conversation_id,
            "medications": recorded.medications,
            "documents": documents,
        }
    )
    return Turn(answer=answer, result=result)


def _medication_list(stored: list[str], given: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in [*stored, *given]:
        clean = name.strip()
        if clean and clean.casefold() not in seen:
            seen[clean.casefold()] = clean
    return list(seen.values())[:MAX_MEDICATIONS]


def _prefers_chinese(messages: list[ChatMessage]) -> bool:
    from knowledge.normalize import has_cjk

    return any(has_cjk(m.text) for m in messages)
