"""The one place where errors become HTTP responses: each RxLensError class has its status here, and every
error body is `{"error": {"code", "message"}}`, including FastAPI's own validation and routing errors.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from app import errors
from ingestion import errors as image_errors
from knowledge import errors as knowledge_errors

log = logging.getLogger(__name__)

# Most specific first: the first class an error is an instance of decides.
STATUS: list[tuple[type[knowledge_errors.RxLensError], int]] = [
    (errors.Unauthorized, 401),
    (errors.NotFound, 404),
    (knowledge_errors.UnknownDrug, 404),
    (errors.RequestTooLarge, 413),
    (image_errors.ImageTooLarge, 413),
    (errors.UnsupportedMediaType, 415),
    (image_errors.BadImage, 415),
    (image_errors.ImageTooSmall, 422),
    (image_errors.NoTextFound, 422),
    (errors.InvalidInput, 400),
    (errors.RateLimited, 429),
    (errors.Busy, 503),
    (image_errors.UpstreamError, 503),
    (image_errors.OcrUnavailable, 503),
    (knowledge_errors.KnowledgeBaseMissing, 503),
]

_HTTP_CODES = {
    400: "invalid_input",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    503: "busy",
}


def status_of(error: knowledge_errors.RxLensError) -> int:
    return next((status for cls, status in STATUS if isinstance(error, cls)), 400)


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


async def _rxlens_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, knowledge_errors.RxLensError)
    status = status_of(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, errors.RateLimited | errors.Busy):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, errors.Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    return error_response(status, exc.code, exc.message, headers)


# Starlette's and FastAPI's own terse details, said so that a person knows what to do.
_CLEARER = {
    (404, "Not Found"): "There is no such endpoint or resource; the API is described at /docs.",
    (405, "Method Not Allowed"): "Method Not Allowed: this endpoint does not take that HTTP method; see /docs.",
    (400, "There was an error parsing the body"): "The request body could not be parsed: send UTF-8 JSON "
    "(or multipart/form-data for uploads).",
}


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "The request could not be handled."
    message = _CLEARER.get((exc.status_code, message), message)
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"), message, headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        problems.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
    return error_response(422, "invalid_input", "The request is not valid: " + "; ".join(problems))


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    # The exception type only: its message could quote user data.
    log.error("unhandled %s", type(exc).__name__)
    return error_response(500, "internal_error", "Something went wrong on the server; try again later.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(knowledge_errors.RxLensError, _rxlens_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
