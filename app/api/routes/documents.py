"""`/v1/documents`: upload (multipart or JSON base64), list, read, fetch the image, delete. Every operation is
scoped to the caller's owner: another owner's document answers 404, exactly like one that never existed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.api.deps import ComponentsDep, OwnerDep
from app.api.images import decode_base64, sniff_content_type
from app.api.library import ACCEPTED_TYPES, document_out
from app.api.routes.jobs import job_out
from app.api.schemas import DocumentList, DocumentOut, DocumentSummary, DocumentUpload, ErrorResponse, JobOut
from app.errors import InvalidInput, UnsupportedMediaType

router = APIRouter(prefix="/v1/documents", tags=["documents"])

_UPLOAD_BODY = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
            },
            "application/json": {"schema": DocumentUpload.model_json_schema()},
        }
    }
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DocumentOut,
    responses={
        200: {"model": DocumentOut},
        202: {"model": JobOut, "description": "wait=false: the job, at the URL in Location"},
        **{s: {"model": ErrorResponse} for s in (400, 413, 415, 422, 503)},
    },
    openapi_extra=_UPLOAD_BODY,
)
async def upload(
    request: Request,
    response: Response,
    components: ComponentsDep,
    owner: OwnerDep,
    wait: Annotated[bool, Query(description="false: answer 202 with the job at once; poll /v1/jobs/{id}.")] = True,
) -> DocumentOut | JSONResponse:
    """Read a photo or PDF of a leaflet, prescription or package and store it. The same bytes again return the
    stored document (200) instead of a new one (201). With `wait=false` the upload is acknowledged at once (202,
    `{"job_id", "status"}`, `Location: /v1/jobs/{job_id}`) and read by a job; a full queue answers 503 with
    Retry-After."""
    data, filename = await _upload_bytes(request, components.settings.max_body_bytes)
    if not wait:
        _accept(data)  # refused at once, not as a failed job later
        job = await components.jobs.submit(owner, data, filename)
        body = job_out(job).model_dump(mode="json")
        return JSONResponse(body, status_code=status.HTTP_202_ACCEPTED, headers={"Location": f"/v1/jobs/{job.id}"})
    row, created = await components.jobs.ingest(owner, data, filename)
    if not created:
        response.status_code = status.HTTP_200_OK
    return document_out(row)


def _accept(data: bytes) -> None:
    if not data:
        raise InvalidInput("The upload is empty (0 bytes). Choose the photo again and re-send it.")
    if sniff_content_type(data) not in ACCEPTED_TYPES:
        raise UnsupportedMediaType("The upload is not an image or a PDF; send a JPEG, PNG, WebP, HEIC or PDF file.")


async def _upload_bytes(request: Request, max_bytes: int) -> tuple[bytes, str | None]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=5)
        file = form.get("file")
        if file is None or isinstance(file, str):
            raise InvalidInput("Send the photo in a multipart field named 'file'.")
        return await file.read(), file.filename
    if content_type == "application/json":
        try:
            body = DocumentUpload.model_validate_json(await request.body())
        except ValueError as e:
            raise InvalidInput("Send JSON {'image': '<base64>', 'filename': '...'}.") from e
        return decode_base64(body.image, max_bytes), body.filename
    raise UnsupportedMediaType("Upload as multipart/form-data (field 'file') or JSON with a base64 'image'.")


@router.get("", response_model=DocumentList)
async def list_documents(
    components: ComponentsDep,
    owner: OwnerDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    # Bounded: past SQLite's 64-bit integers an offset is not a slow page but an unhandled overflow.
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> DocumentList:
    rows, total = await run_in_threadpool(components.documents.list_owned, owner, limit, offset)
    return DocumentList(
        data=[
            DocumentSummary(
                id=r.id,
                doc_type=r.doc_type,
                filename=r.filename,
                byte_size=r.byte_size,
                created_at=r.created_at,
                drugs=[d.get("text", "") for d in r.parsed.get("drugs", [])],
            )
            for r in rows
        ],
        total=total,
    )


@router.get("/{document_id}", response_model=DocumentOut, responses={404: {"model": ErrorResponse}})
async def get_document(document_id: str, components: ComponentsDep, owner: OwnerDep) -> DocumentOut:
    return document_out(await run_in_threadpool(components.documents.get, owner, document_id))


@router.get(
    "/{document_id}/image",
    response_class=Response,
    responses={200: {"content": {"image/*": {}}}, 404: {"model": ErrorResponse}},
)
async def get_image(document_id: str, components: ComponentsDep, owner: OwnerDep) -> Response:
    data, media_type = await run_in_threadpool(components.documents.image, owner, document_id)
    # Private medical images: no shared caches, and never rendered as anything but the sniffed type.
    headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type=media_type, headers=headers)


@router.delete(
    "/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={404: {"model": ErrorResponse}},
)
async def delete_document(document_id: str, components: ComponentsDep, owner: OwnerDep) -> Response:
    row = await run_in_threadpool(components.documents.get, owner, document_id)
    await components.library.delete(owner, document_id)
    # Its reading in a shared cache goes too (another owner's copy of the photo is then read again).
    await run_in_threadpool(components.jobs.forget, row.sha256)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
