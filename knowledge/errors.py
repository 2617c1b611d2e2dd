"""The root of the one error hierarchy for what a user (or an operator) can get wrong, and the knowledge
layer's own errors. Image and OCR errors live in `ingestion.errors`, request errors in `app.errors`.

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


class UnknownDrug(RxLensError):
    """A lookup by exact id found nothing (name resolution itself never raises: unknown text stays unknown)."""

    code = "unknown_drug"
