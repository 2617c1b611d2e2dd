"""The one error hierarchy for what a user (or an operator) can get wrong.

Every error carries a message a person can act on. `app` maps each class to an HTTP status in one place; the
CLI prints the message. Lower layers raise these; they never build HTTP responses themselves.
"""

from __future__ import annotations


class RxLensError(Exception):
    """Base class: something the caller can fix. `message` says what was wrong and what to do."""

    code = "rxlens_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class KnowledgeBaseMissing(RxLensError):
    """The compiled knowledge base file is absent or from an incompatible build."""

    code = "knowledge_base_missing"


class InvalidInput(RxLensError):
    """A request is malformed: empty, too long, wrong type."""

    code = "invalid_input"


class UnknownDrug(RxLensError):
    """A lookup by exact id found nothing (name resolution itself never raises: unknown text stays unknown)."""

    code = "unknown_drug"


class BadImage(RxLensError):
    """The upload is not a readable image or document: not an image, truncated, corrupt, unsupported."""

    code = "bad_image"


class ImageTooLarge(RxLensError):
    """The upload exceeds the configured byte size, pixel count or page count."""

    code = "image_too_large"


class ImageTooSmall(RxLensError):
    """The image is too small to contain readable text."""

    code = "image_too_small"


class NoTextFound(RxLensError):
    """The image decoded but no text could be read on it (a blank page, a photo of something else)."""

    code = "no_text"


class NotFound(RxLensError):
    """A document, conversation or other record does not exist for this owner."""

    code = "not_found"


class Unauthorized(RxLensError):
    """A missing or wrong API key."""

    code = "unauthorized"


class UpstreamError(RxLensError):
    """A configured remote service (VLM OCR server, LLM endpoint) failed or answered nonsense."""

    code = "upstream_error"


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
