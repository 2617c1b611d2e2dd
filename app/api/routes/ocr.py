"""`POST /v1/ocr`: read one image and return lines (plain_ocr) or lines, fields, medications and drugs
(doc_parser), with HunyuanOCR's request shape (`image` base64, `task_type`). Nothing is stored; the reading is
`ParsedDocument.to_json()`, the one `rxlens ocr --json` prints, and it shares the chat path's cache: the same
owner sending the same bytes again (here or as a chat photo) is answered without a second OCR."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import ComponentsDep, OwnerDep
from app.api.images import decode_base64
from app.api.schemas import ErrorResponse, OcrRequest, OcrResponse

router = APIRouter(prefix="/v1", tags=["ocr"])


@router.post(
    "/ocr",
    response_model=OcrResponse,
    responses={s: {"model": ErrorResponse} for s in (400, 401, 413, 415, 422, 429, 503)},
)
async def ocr(body: OcrRequest, components: ComponentsDep, owner: OwnerDep) -> OcrResponse:
    data = decode_base64(body.image, components.settings.max_body_bytes)
    doc = await components.library.read(owner, data, None)
    text = "\n".join(line.text for line in doc.lines)
    if body.task_type == "plain_ocr":
        return OcrResponse(
            task_type=body.task_type,
            text=text,
            **doc.model_dump(
                include={"lines", "width", "height", "pages", "rotation", "engine", "warnings", "timings_ms"}
            ),
        )
    return OcrResponse(task_type=body.task_type, text=text, **doc.model_dump())
