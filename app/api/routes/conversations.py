"""`/v1/conversations/{id}`: a stored conversation with its messages and medication list, and its deletion."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from starlette.concurrency import run_in_threadpool

from app.api.deps import ComponentsDep, OwnerDep
from app.api.schemas import ConversationOut, ErrorResponse, MessageOut

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])


@router.get("/{conversation_id}", response_model=ConversationOut, responses={404: {"model": ErrorResponse}})
async def get_conversation(conversation_id: str, components: ComponentsDep, owner: OwnerDep) -> ConversationOut:
    row = await run_in_threadpool(components.conversations.get, owner, conversation_id)
    return ConversationOut(
        id=row.id,
        medications=row.medications,
        created_at=row.created_at,
        updated_at=row.updated_at,
        messages=[
            MessageOut(role=m.role, content=m.content, document_ids=m.document_ids, created_at=m.created_at)
            for m in row.messages
        ],
    )


@router.delete(
    "/{conversation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={404: {"model": ErrorResponse}},
)
async def delete_conversation(conversation_id: str, components: ComponentsDep, owner: OwnerDep) -> Response:
    await run_in_threadpool(components.conversations.delete, owner, conversation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
