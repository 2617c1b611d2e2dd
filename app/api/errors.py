"""The one place where errors become HTTP responses: each RxLensError class has its status here, and every
error body is OpenAI's `{"error": {"message", "type", "param", "code"}}`, including FastAPI's own validation and
routing errors, so the OpenAI SDK raises its typed exceptions with `.type`, `.param` and `.code` set.

`code` is RxLens' stable machine-readable reason (the caregiver page translates by it); `type` is OpenAI's
category (invalid_request_error, authentication_error, permission_error, rate_limit_error, server_error);
`param` names the request field at fault where one is known. Statuses are those the SDK maps to its exception
classes (400, 401, 404, 422, 429, 5xx), except 413 and 415, kept for HTTP's sake: a body over the limit is
refused with 413 before it is parsed (as a reverse proxy would), so every "too large" reaches a client the same
way; the SDK raises them as `openai.APIStatusError` with `.status_code`, `.code` and `.type` set.
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
    (errors.MaxTokensTooSmall, 400),
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


# The request field an error is about, where the error class says it.
PARAM: dict[type[knowledge_errors.RxLensError], str] = {
    errors.ModelNotFound: "model",
    errors.MaxTokensTooSmall: "max_tokens",
}


def status_of(error: knowledge_errors.RxLensError) -> int:
    return next((status for cls, status in STATUS if isinstance(error, cls)), 400)


def type_of(status: int) -> str:
    """OpenAI's error category for a status."""
    if status == 401:
        return "authentication_error"
    if status == 403:
        return "permission_error"
    if status == 429:
        return "rate_limit_error"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def error_body(status: int, code: str, message: str, param: str | None = None) -> dict[str, dict[str, str | None]]:
    return {"error": {"message": message, "type": type_of(status), "param": param, "code": code}}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, param: str | None = None
) -> JSONResponse:
    return JSONResponse(error_body(status, code, message, param), status_code=status, headers=headers)


def body_of(error: knowledge_errors.RxLensError) -> dict[str, dict[str, str | None]]:
    """The error body of an RxLens error (also sent as a stream's last event when a stream fails)."""
    param = next((p for cls, p in PARAM.items() if isinstance(error, cls)), None)
    return error_body(status_of(error), error.code, error.message, param)


async def _rxlens_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, knowledge_errors.RxLensError)
    status = status_of(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, errors.RateLimited | errors.Busy):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, errors.Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body_of(exc), status_code=status, headers=headers)


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
    problems, params = [], []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        problems.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
        params.append(".".join(str(p) for p in err.get("loc", ()) if _is_field(p)))
    # OpenAI's `param` is the path of the first field at fault, e.g. "messages.0.content".
    return error_response(
        422, "invalid_input", "The request is not valid: " + "; ".join(problems), param=next(iter(params), "") or None
    )


_NOT_FIELDS = frozenset({"body", "query", "path", "header", "str", "int", "float", "bool", "list", "dict", "none"})


def _is_field(part: object) -> bool:
    """A part of a validation error's location that names a field or an index, not where the field came from or
    which member of a union was tried ("str", "list[...]", "function-after[...]")."""
    return isinstance(part, int) or (str(part) not in _NOT_FIELDS and "[" not in str(part))


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    # The exception type only: its message could quote user data.
    log.error("unhandled %s", type(exc).__name__)
    return error_response(500, "internal_error", "Something went wrong on the server; try again later.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(knowledge_errors.RxLensError, _rxlens_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
