"""`POST /v1/ocr`: read one image and return lines (plain_ocr) or lines, fields and drugs (doc_parser), the
interface of the seed OCR systems. Nothing is stored."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import ComponentsDep, OwnerDep
from app.api.images import decode_base64
from app.api.schemas import ErrorResponse, OcrRequest, OcrResponse

router = APIRouter(prefix="/v1", tags=["ocr"])


@router.post(
    "/ocr",
    response_model=OcrResponse,
    responses={s: {"model": ErrorResponse} for s in (413, 415, 422, 503)},
)
async def ocr(body: OcrRequest, components: ComponentsDep, _owner: OwnerDep) -> OcrResponse:
    data = decode_base64(body.image, components.settings.max_body_bytes)
    doc = await components.library.read(data, None)
    out = OcrResponse(
        task_type=body.task_type,
        text="\n".join(line.text for line in doc.lines),
        lines=doc.lines,
        width=doc.width,
        height=doc.height,
        warnings=doc.warnings,
        timings_ms=doc.timings_ms,
    )
    if body.task_type == "doc_parser":
        out.doc_type, out.fields, out.medications, out.drugs = doc.doc_type, doc.fields, doc.medications, doc.drugs
    return out
