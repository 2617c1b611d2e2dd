"""`POST /v1/interactions/check`: every pair of the given drugs against the knowledge base."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from app.api.deps import ComponentsDep, OwnerDep
from app.api.schemas import CheckRequest, CheckResponse, ErrorResponse

router = APIRouter(prefix="/v1/interactions", tags=["interactions"])


@router.post("/check", response_model=CheckResponse, responses={422: {"model": ErrorResponse}})
async def check(body: CheckRequest, components: ComponentsDep, _owner: OwnerDep) -> CheckResponse:
    result = await run_in_threadpool(components.engine.check, body.drugs)
    return CheckResponse.model_validate(result.to_json())
