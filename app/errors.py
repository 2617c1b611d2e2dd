"""What a caller of the service can get wrong (a malformed request, a missing record, a wrong key, too many
requests) and when the service is at capacity.

Part of the one hierarchy (`knowledge.errors.RxLensError`); `app.api.errors` maps each to an HTTP status.
"""

from __future__ import annotations

from knowledge.errors import RxLensError


class InvalidInput(RxLensError):
    """A request is malformed: empty, too long, wrong type."""

    code = "invalid_input"


class NotFound(RxLensError):
    """A document, conversation or other record does not exist for this owner."""

    code = "not_found"


class Unauthorized(RxLensError):
    """A missing or wrong API key."""

    code = "unauthorized"


class RequestTooLarge(RxLensError):
    """A request body or a question is longer than the configured limit."""

    code = "request_too_large"


class UnsupportedMediaType(RxLensError):
    """The request's content type, or an image_url's scheme, is not one the service accepts."""

    code = "unsupported_media_type"


class RateLimited(RxLensError):
    """Too many requests from one owner in a short time; `retry_after` says when to try again (seconds)."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Busy(RxLensError):
    """The service is at capacity (the OCR queue is full or a step timed out); retry after `retry_after` s."""

    code = "busy"

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ModelNotFound(NotFound):
    """A chat request names a model this service does not serve."""

    code = "model_not_found"


class MaxTokensTooSmall(InvalidInput):
    """`max_tokens` is below the answer's first line (its verdict and advice), which is never cut."""

    code = "max_tokens_too_small"
