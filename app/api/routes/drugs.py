"""`GET /v1/drugs/search?q=`: drug and class names in Chinese or English, for a type-ahead box."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import ComponentsDep, OwnerDep
from app.api.schemas import DrugHitOut, DrugSearchResponse

router = APIRouter(prefix="/v1/drugs", tags=["drugs"])


@router.get("/search", response_model=DrugSearchResponse)
def search(
    q: Annotated[str, Query(min_length=1, max_length=100, description="A name or its beginning: 阿司匹林, warf")],
    components: ComponentsDep,
    _owner: OwnerDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> DrugSearchResponse:
    hits = components.names.search(q, limit)
    return DrugSearchResponse(
        query=q,
        results=[DrugHitOut.model_validate(h, from_attributes=True) for h in hits],
    )
