"""Text metrics shared by the OCR evaluations and tests."""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz.distance import Levenshtein


def normalise(text: str) -> str:
    """NFKC (full-width punctuation = half-width) without whitespace: Chinese has none, and the spacing of
    English as OCR returns it varies without changing what was read."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def cer(truth: str, read: str) -> float:
    """Character error rate: edit distance over the length of the truth, after `normalise`."""
    a, b = normalise(truth), normalise(read)
    return Levenshtein.distance(a, b) / max(1, len(a))
