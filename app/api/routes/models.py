"""`GET /v1/models` and `GET /v1/models/{id}` in OpenAI's shapes: the one model this service serves, `rxlens`.
A chat request naming any other model is refused with 404 `model_not_found` (the OpenAI SDK's NotFoundError), so
a client configured for another server learns it at once instead of getting RxLens' answer under a borrowed name.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import OwnerDep
from app.api.schemas import ErrorResponse, ModelList, ModelOut
from app.errors import ModelNotFound

router = APIRouter(prefix="/v1", tags=["models"])

SERVED_MODEL = ModelOut(id="rxlens", created=1767225600, owned_by="rxlens")  # 2026-01-01


def served_model(name: str) -> ModelOut:
    """The served model a request names, or ModelNotFound listing the ones there are."""
    if name == SERVED_MODEL.id:
        return SERVED_MODEL
    shown = name if len(name) <= 80 else name[:80] + "..."
    raise ModelNotFound(
        f"The model {shown!r} is not served here; this server serves {SERVED_MODEL.id!r} (GET /v1/models): "
        f"send model={SERVED_MODEL.id!r}."
    )


@router.get("/models", response_model=ModelList, responses={401: {"model": ErrorResponse}})
def list_models(_owner: OwnerDep) -> ModelList:
    return ModelList(data=[SERVED_MODEL])


@router.get("/models/{model_id:path}", response_model=ModelOut, responses={404: {"model": ErrorResponse}})
def retrieve_model(model_id: str, _owner: OwnerDep) -> ModelOut:
    return served_model(model_id)
