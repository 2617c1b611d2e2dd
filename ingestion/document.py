"""The pipeline's answer for one upload: document type, lines in reading order, fields, medications, drugs.

Modelled on the structured output of document-understanding OCR (HunyuanOCR, MinerU): every field carries
its text, a confidence and the boxes it was read from, so a person can check any value against the photo.
Field names are English snake_case; values stay in the document's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingestion.ocr.base import OcrLine, Quad
from knowledge.models import DrugMention


def _boxes_json(boxes: tuple[Quad, ...]) -> list[list[list[float]]]:
    return [[list(p) for p in b] for b in boxes]


@dataclass(frozen=True)
class Field:
    """One named value read from the page.

    Attributes:
        name: English snake_case ("indications", "patient_name").
        value: the text as written (Chinese stays Chinese).
        confidence: the lowest OCR confidence of the lines it came from (a value is as weak as its worst line).
        boxes: the boxes of those lines, in original image coordinates.
        line_indices: indices into `ParsedDocument.lines`.
    """

    name: str
    value: str
    confidence: float
    boxes: tuple[Quad, ...] = ()
    line_indices: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "confidence": round(self.confidence, 4),
            "bbox": _boxes_json(self.boxes),
            "lines": list(self.line_indices),
        }


@dataclass(frozen=True)
class Medication:
    """One medication row of a prescription (or the single product of a package).

    `frequency_text` is as written ("每日三次", "tid"); `frequency` is its normalised code ("tid", "q8h",
    "qn", "prn"); `times_per_day` is the count it implies (None where it cannot be known, e.g. prn).
    """

    name: str
    strength: str = ""
    dose: str = ""
    route: str = ""
    frequency_text: str = ""
    frequency: str = ""
    times_per_day: float | None = None
    as_needed: bool = False
    at_night: bool = False
    duration: str = ""
    quantity: str = ""
    confidence: float = 0.0
    boxes: tuple[Quad, ...] = ()
    line_indices: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "strength": self.strength,
            "dose": self.dose,
            "route": self.route,
            "frequency_text": self.frequency_text,
            "frequency": self.frequency,
            "times_per_day": self.times_per_day,
            "as_needed": self.as_needed,
            "at_night": self.at_night,
            "duration": self.duration,
            "quantity": self.quantity,
            "confidence": round(self.confidence, 4),
            "bbox": _boxes_json(self.boxes),
            "lines": list(self.line_indices),
        }


@dataclass(frozen=True)
class DrugOnPage:
    """A drug name found on the page: the lexicon's resolution plus where it stands in the photo.

    One entry per distinct drug (same ingredients): `boxes`/`line_indices` list every place it occurs.
    """

    mention: DrugMention
    boxes: tuple[Quad, ...]
    line_indices: tuple[int, ...]

    @property
    def text(self) -> str:
        return self.mention.text

    @property
    def ingredients(self) -> tuple[str, ...]:
        return self.mention.ingredients

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "text": self.mention.text,
            "ingredients": list(self.mention.ingredients),
            "bbox": _boxes_json(self.boxes),
        }
        if self.mention.corrected_from is not None:
            out["corrected_from"] = self.mention.corrected_from
        return out


@dataclass(frozen=True)
class ParsedDocument:
    """Everything read from one upload.

    Attributes:
        doc_type: leaflet | prescription | package | label | other.
        lines: OCR lines in reading order (two-column pages: left column, then right).
        fields: named values (leaflet sections, prescription header, package facts).
        medications: prescription rows (empty for other documents).
        drugs: distinct drug mentions with their boxes.
        warnings: things a person should check (implausible dose unit, low confidence, page rotated ...).
        timings_ms: time per stage: decode, orient, ocr, layout, fields, mentions, total.
        sha256: of the uploaded bytes (the cache key).
        width, height: of the decoded first page, the frame of every box.
        rotation: degrees (0/90/180/270, clockwise) the page was turned to read it upright.
        rows: indices into `lines` grouped by visual row (table cells side by side), in reading order.
        from_cache: true when this answer came from the result cache.
    """

    doc_type: str
    lines: tuple[OcrLine, ...]
    fields: dict[str, Field]
    medications: tuple[Medication, ...]
    drugs: tuple[DrugOnPage, ...]
    warnings: tuple[str, ...]
    timings_ms: dict[str, float]
    sha256: str
    width: int = 0
    height: int = 0
    pages: int = 1
    rotation: int = 0
    skew_degrees: float = 0.0
    engine: str = ""
    rows: tuple[tuple[int, ...], ...] = ()
    from_cache: bool = False

    @property
    def text(self) -> str:
        """All recognised text in reading order, one line per OCR line."""
        return "\n".join(line.text for line in self.lines)

    @property
    def row_text(self) -> str:
        """The text one visual row per line (table cells separated by two spaces): for people to read."""
        if not self.rows:
            return self.text
        return "\n".join("  ".join(self.lines[i].text for i in row) for row in self.rows)

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_type": self.doc_type,
            "lines": [line.to_json() for line in self.lines],
            "fields": {name: f.to_json() for name, f in self.fields.items()},
            "medications": [m.to_json() for m in self.medications],
            "drugs": [d.to_json() for d in self.drugs],
            "warnings": list(self.warnings),
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "sha256": self.sha256,
            "width": self.width,
            "height": self.height,
            "pages": self.pages,
            "rotation": self.rotation,
            "engine": self.engine,
            "from_cache": self.from_cache,
        }
