"""The pipeline's answer for one upload: document type, lines in reading order, fields, medications, drugs.

Modelled on the structured output of document-understanding OCR (HunyuanOCR, MinerU): every field carries
its text, a confidence and the boxes it was read from, so a person can check any value against the photo.
Field names are English snake_case; values stay in the document's language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ingestion.ocr.base import OcrLine, Quad
from ingestion.roles import assign_roles
from knowledge.models import DrugMention


def _boxes_json(boxes: tuple[Quad, ...]) -> list[list[list[float]]]:
    return [[list(p) for p in b] for b in boxes]


def _quad(points: Sequence[Sequence[float]]) -> Quad:
    """A box read back from JSON, exactly as written (no rounding: the inverse of `_boxes_json`)."""
    if len(points) != 4:
        raise ValueError(f"a box needs 4 points, got {len(points)}")
    p = [(float(x), float(y)) for x, y in points]
    return (p[0], p[1], p[2], p[3])


def _boxes(data: Sequence[Sequence[Sequence[float]]]) -> tuple[Quad, ...]:
    return tuple(_quad(b) for b in data)


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

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> Field:
        """The inverse of `to_json`; the name is the key the field is stored under."""
        return cls(
            name=name,
            value=data["value"],
            confidence=float(data["confidence"]),
            boxes=_boxes(data.get("bbox", ())),
            line_indices=tuple(data.get("lines", ())),
        )


@dataclass(frozen=True)
class Medication:
    """One medication row of a prescription (or the single product of a package).

    `frequency_text` is as written ("每日三次", "tid"); `frequency` is its normalised code ("tid", "q8h",
    "qn", "prn"); `times_per_day` is the count it implies (None where it cannot be known, e.g. prn).
    `field_confidence` holds a confidence per field read ("name", "strength", "dose", "frequency": OCR confidence
    lowered where the medical checks of `ingestion.confirmation` doubt the value); `needs_confirmation` is true when
    any of them is below `ingestion.confirmation.CONFIRM_BELOW`: a person should check the row on the photo.
    `repaired` names the fields read only by putting a likely misread right ("121U" read as 12 IU), which are
    always shown to be confirmed.
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
    needs_confirmation: bool = False
    field_confidence: dict[str, float] = field(default_factory=dict)
    repaired: tuple[str, ...] = ()

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
            "needs_confirmation": self.needs_confirmation,
            "field_confidence": {k: round(v, 4) for k, v in self.field_confidence.items()},
            "repaired": list(self.repaired),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Medication:
        """The inverse of `to_json` (JSON stored before confirmation flags existed reads as not flagged)."""
        return cls(
            name=data["name"],
            strength=data.get("strength", ""),
            dose=data.get("dose", ""),
            route=data.get("route", ""),
            frequency_text=data.get("frequency_text", ""),
            frequency=data.get("frequency", ""),
            times_per_day=data.get("times_per_day"),
            as_needed=bool(data.get("as_needed", False)),
            at_night=bool(data.get("at_night", False)),
            duration=data.get("duration", ""),
            quantity=data.get("quantity", ""),
            confidence=float(data.get("confidence", 0.0)),
            boxes=_boxes(data.get("bbox", ())),
            line_indices=tuple(data.get("lines", ())),
            needs_confirmation=bool(data.get("needs_confirmation", False)),
            field_confidence={k: float(v) for k, v in data.get("field_confidence", {}).items()},
            repaired=tuple(data.get("repaired", ())),
        )


@dataclass(frozen=True)
class DrugOnPage:
    """A drug name found on the page: the lexicon's resolution plus where it stands in the photo.

    One entry per distinct drug (same ingredients): `boxes`/`line_indices` list every place it occurs.
    `role` says whether the document is about it ("subject": the leaflet's or box's product, a prescribed row) or
    only names it ("mentioned": in an interactions or contraindications section, a diagnosis); for a mentioned
    drug `section` is the field it is first named in (None when it stands outside every field). Roles are
    decided by `ingestion.roles.assign_roles`. `needs_confirmation`: the name was corrected or read with low
    confidence, or a medication row of this drug needs confirmation (`ingestion.confirmation`).
    """

    mention: DrugMention
    boxes: tuple[Quad, ...]
    line_indices: tuple[int, ...]
    role: str = "subject"
    section: str | None = None
    needs_confirmation: bool = False

    @property
    def text(self) -> str:
        return self.mention.text

    @property
    def ingredients(self) -> tuple[str, ...]:
        return self.mention.ingredients

    @property
    def is_subject(self) -> bool:
        return self.role == "subject"

    def to_json(self) -> dict[str, Any]:
        """Everything needed to rebuild it: `span` is the mention's [start, end) in `ParsedDocument.text`."""
        m = self.mention
        out: dict[str, Any] = {
            "text": m.text,
            "ingredients": list(m.ingredients),
            "bbox": _boxes_json(self.boxes),
            "lines": list(self.line_indices),
            "role": self.role,
            "section": self.section,
            "class_ids": list(m.class_ids),
            "kind": m.kind,
            "matched": m.matched,
            "confidence": round(m.confidence, 4),
            "span": [m.start, m.end],
            "needs_confirmation": self.needs_confirmation,
        }
        if m.corrected_from is not None:
            out["corrected_from"] = m.corrected_from
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any], lines: Sequence[OcrLine] = ()) -> DrugOnPage:
        """The inverse of `to_json`.

        JSON written before roles existed has neither "lines" nor "role": the line indices are then found from
        the boxes (each is the box of a line in `lines`) and the role is left at its default, for
        `ParsedDocument.from_json` to decide.
        """
        boxes = _boxes(data.get("bbox", ()))
        if "lines" in data:
            indices = tuple(int(i) for i in data["lines"])
        else:
            where: dict[Quad, int] = {}
            for i, line in enumerate(lines):
                where.setdefault(line.box, i)
            indices = tuple(where[b] for b in boxes if b in where)
        start, end = data.get("span", (0, 0))
        mention = DrugMention(
            text=data["text"],
            recognized=True,
            ingredients=tuple(data.get("ingredients", ())),
            class_ids=tuple(data.get("class_ids", ())),
            kind=data.get("kind", "unknown"),
            confidence=float(data.get("confidence", 0.0)),
            corrected_from=data.get("corrected_from"),
            matched=data.get("matched", ""),
            start=int(start),
            end=int(end),
        )
        return cls(
            mention=mention,
            boxes=boxes,
            line_indices=indices,
            role=data.get("role", "subject"),
            section=data.get("section"),
            needs_confirmation=bool(data.get("needs_confirmation", False)),
        )


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
        near_duplicate: true when it came from the reading of another upload of the same photo at another size or
            compression (a forwarded copy, see `ingestion.fingerprint`), its boxes scaled to this image.
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
    near_duplicate: bool = False

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
            "rows": [list(r) for r in self.rows],
            "skew_degrees": round(self.skew_degrees, 2),
            "from_cache": self.from_cache,
            "near_duplicate": self.near_duplicate,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ParsedDocument:
        """The inverse of `to_json`: a stored document becomes a `ParsedDocument` again.

        Documents stored before drugs had roles get them now (`ingestion.roles.assign_roles`), from the fields and
        medications stored with them.
        """
        lines = tuple(OcrLine.from_json(line) for line in data.get("lines", ()))
        fields = {name: Field.from_json(name, f) for name, f in data.get("fields", {}).items()}
        medications = tuple(Medication.from_json(m) for m in data.get("medications", ()))
        stored = data.get("drugs", ())
        drugs = tuple(DrugOnPage.from_json(d, lines) for d in stored)
        if any("role" not in d for d in stored):
            drugs = assign_roles(data["doc_type"], fields, medications, drugs, lines=lines)
        return cls(
            doc_type=data["doc_type"],
            lines=lines,
            fields=fields,
            medications=medications,
            drugs=drugs,
            warnings=tuple(data.get("warnings", ())),
            timings_ms={k: float(v) for k, v in data.get("timings_ms", {}).items()},
            sha256=data.get("sha256", ""),
            width=int(data.get("width", 0)),
            height=int(data.get("height", 0)),
            pages=int(data.get("pages", 1)),
            rotation=int(data.get("rotation", 0)),
            skew_degrees=float(data.get("skew_degrees", 0.0)),
            engine=data.get("engine", ""),
            rows=tuple(tuple(int(i) for i in r) for r in data.get("rows", ())),
            from_cache=bool(data.get("from_cache", False)),
            near_duplicate=bool(data.get("near_duplicate", False)),
        )

    def scaled_to(self, width: int, height: int) -> ParsedDocument:
        """The same reading in the frame of the same image at another size (a resized copy): every box of the
        lines, fields, medications and drugs scaled, the size replaced; text, indices and angles unchanged."""
        if not self.width or not self.height or (width, height) == (self.width, self.height):
            return replace(self, width=width or self.width, height=height or self.height)
        sx, sy = width / self.width, height / self.height

        def box(q: Quad) -> Quad:
            p = [(round(x * sx, 1), round(y * sy, 1)) for x, y in q]
            return (p[0], p[1], p[2], p[3])

        def boxes(qs: tuple[Quad, ...]) -> tuple[Quad, ...]:
            return tuple(box(q) for q in qs)

        return replace(
            self,
            lines=tuple(replace(ln, box=box(ln.box)) for ln in self.lines),
            fields={name: replace(f, boxes=boxes(f.boxes)) for name, f in self.fields.items()},
            medications=tuple(replace(m, boxes=boxes(m.boxes)) for m in self.medications),
            drugs=tuple(replace(d, boxes=boxes(d.boxes)) for d in self.drugs),
            width=width,
            height=height,
        )
