"""What can be wrong with an upload or an OCR engine: errors raised while turning an image into text.

Part of the one hierarchy (`knowledge.errors.RxLensError`); `app.api.errors` maps each to an HTTP status.
"""

from __future__ import annotations

from knowledge.errors import RxLensError


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


class UpstreamError(RxLensError):
    """A configured remote service (VLM OCR server, LLM endpoint) failed or answered nonsense."""

    code = "upstream_error"


class OcrUnavailable(RxLensError):
    """The configured OCR device or engine cannot run here: an operator's setting, not the user's fault."""

    code = "ocr_unavailable"
