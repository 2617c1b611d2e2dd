"""The one entry point: `OcrPipeline.read(data, filename) -> ParsedDocument`.

Stages, each timed: decode (intake) -> ocr -> orient (re-read upright if the page was turned) -> layout
(reading order) -> fields (document type and its fields; prescription rows found by the lexicon's drug names) ->
mentions (drugs via the lexicon, each the document's subject or only mentioned in it, see `ingestion.roles`) ->
confirmation (a confidence per field, checked against the strengths each drug is made in; what falls below the
threshold is marked `needs_confirmation`, see `ingestion.confirmation`). Results are
cached by the SHA-256 of the bytes, and a resized or recompressed copy of a photo read is found too
(`ingestion.cache`). `build_pipeline` assembles a pipeline from plain settings (`OcrConfig`);
the app builds that from its own settings object.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image

from ingestion.cache import ResultCache
from ingestion.confirmation import review
from ingestion.document import DrugOnPage, Field, Medication, ParsedDocument
from ingestion.fields.classify import classify
from ingestion.fields.leaflet import parse_leaflet
from ingestion.fields.package import parse_package
from ingestion.fields.prescription import NameFinder, parse_prescription
from ingestion.fields.text import Row, make_rows
from ingestion.intake import Intake, IntakeLimits
from ingestion.layout import reading_order
from ingestion.mentions import MentionFinder, spot_drugs
from ingestion.ocr.base import OcrEngine, OcrLine, StripReader
from ingestion.ocr.rapid import RapidOcrConfig, RapidOcrEngine
from ingestion.ocr.vlm import VlmConfig, VlmOcrEngine
from ingestion.orientation import OrientationDetector, estimate_skew, rotate_clockwise, unrotate_quad
from ingestion.roles import assign_roles

log = logging.getLogger(__name__)

LOW_CONFIDENCE = 0.6


@dataclass(frozen=True)
class OcrConfig:
    """Everything needed to build a pipeline, as plain values.

    Attributes:
        engine: "rapid" (bundled RapidOCR) or "vlm" (an OpenAI-compatible vision-language model server).
        rapid: settings of the RapidOCR engine (device auto/cpu/cuda, threads).
        vlm: settings of the VLM engine; required when engine == "vlm".
        detect_orientation: find sideways / upside-down pages (RapidOCR only; a VLM reads them itself).
        limits: what an upload may be.
        cache_entries, cache_bytes: result cache bounds (0 entries disables it).
    """

    engine: str = "rapid"
    rapid: RapidOcrConfig = field(default_factory=RapidOcrConfig)
    vlm: VlmConfig | None = None
    detect_orientation: bool = True
    limits: IntakeLimits = field(default_factory=IntakeLimits)
    cache_entries: int = 256
    cache_bytes: int = 64 * 1024 * 1024


def build_pipeline(config: OcrConfig, mention_finder: MentionFinder | None = None) -> OcrPipeline:
    """The pipeline the settings describe. Cheap: the OCR model itself loads on first use."""
    engine: OcrEngine
    if config.engine == "rapid":
        engine = RapidOcrEngine(config.rapid)
    elif config.engine == "vlm":
        if config.vlm is None:
            raise ValueError(
                "OCR engine 'vlm' needs a VlmConfig (set RXLENS_OCR_VLM_BASE_URL and RXLENS_OCR_VLM_MODEL)."
            )
        engine = VlmOcrEngine(config.vlm)
    else:
        raise ValueError(f"Unknown OCR engine {config.engine!r}: use 'rapid' or 'vlm'.")
    return OcrPipeline(
        engine,
        intake=Intake(config.limits),
        detect_orientation=config.detect_orientation,
        mention_finder=mention_finder,
        cache=ResultCache(config.cache_entries, config.cache_bytes) if config.cache_entries > 0 else None,
    )


class OcrPipeline:
    """Reads uploads into `ParsedDocument`s. Thread-safe as long as the engine is (RapidOCR serialises)."""

    def __init__(
        self,
        engine: OcrEngine,
        *,
        intake: Intake | None = None,
        detect_orientation: bool = True,
        mention_finder: MentionFinder | None = None,
        cache: ResultCache | None = None,
    ) -> None:
        self.engine = engine
        self.intake = intake or Intake()
        self.orienter = OrientationDetector(engine) if detect_orientation and isinstance(engine, StripReader) else None
        self.mention_finder = mention_finder
        self.cache = cache

    def read(self, data: bytes, filename: str | None = None) -> ParsedDocument:
        """Read one upload (image or PDF bytes).

        Raises:
            BadImage, ImageTooLarge, ImageTooSmall: the upload is refused (see `ingestion.intake`).
            UpstreamError: a remote OCR engine failed.
        """
        started = time.perf_counter()
        digest = hashlib.sha256(data).hexdigest()
        if self.cache is not None:
            hit = self.cache.recall(digest, data, self.intake.limits.max_pixels)  # or a forwarded copy's
            if hit is not None:
                elapsed = _ms(started)
                return dataclasses.replace(hit, from_cache=True, timings_ms={"cache": elapsed, "total": elapsed})
        timings = {"decode": 0.0, "ocr": 0.0, "orient": 0.0, "layout": 0.0, "fields": 0.0, "mentions": 0.0}
        t = time.perf_counter()
        upload = self.intake.decode(data, filename)
        timings["decode"] = _ms(t)
        warnings = list(upload.notes)

        lines: list[OcrLine] = []
        rows: list[list[int]] = []
        rotation, skew = 0, 0.0
        for number, page in enumerate(upload.pages):
            page_lines, page_rows, page_rotation, page_skew = self._read_page(page, number, timings)
            rows += [[i + len(lines) for i in r] for r in page_rows]
            lines += page_lines
            if number == 0:
                rotation, skew = page_rotation, page_skew
        if rotation:
            warnings.append(f"the page was turned {rotation} degrees clockwise to be read")

        t = time.perf_counter()
        row_objs = make_rows(lines, rows)
        doc_type, fields, medications = self._fields(lines, row_objs, self._name_finder())
        timings["fields"] = _ms(t)

        t = time.perf_counter()
        drugs: list[DrugOnPage] = []
        if self.mention_finder is not None and lines:
            found, dose_warnings = spot_drugs(self.mention_finder, lines, medications)
            drugs = list(assign_roles(doc_type, fields, medications, found, lines=lines))
            warnings += dose_warnings
        timings["mentions"] = _ms(t)

        t = time.perf_counter()
        medications, drugs, checks = review(
            medications, drugs, self.mention_finder, doc_type, [ln.confidence for ln in lines]
        )
        warnings += checks
        timings["confirmation"] = _ms(t)

        weak = sum(1 for ln in lines if ln.confidence < LOW_CONFIDENCE)
        if weak:
            warnings.append(
                f"{weak} line(s) were read with low confidence (< {LOW_CONFIDENCE}): check them on the photo"
            )
        if not lines:
            warnings.append("no text was found: photograph the text closer, in focus and well lit")
        timings["total"] = _ms(started)
        first = upload.pages[0]
        doc = ParsedDocument(
            doc_type=doc_type,
            lines=tuple(lines),
            fields=fields,
            medications=tuple(medications),
            drugs=tuple(drugs),
            warnings=tuple(warnings),
            timings_ms=timings,
            sha256=digest,
            rows=tuple(tuple(r) for r in rows),
            width=first.width,
            height=first.height,
            pages=len(upload.pages),
            rotation=rotation,
            skew_degrees=skew,
            engine=self.engine.name,
        )
        log.info(
            "read %s upload: %d bytes, %d page(s), %d lines, type %s, %d drugs, %.0f ms",
            upload.format,
            len(data),
            len(upload.pages),
            len(lines),
            doc_type,
            len(drugs),
            timings["total"],
        )
        if self.cache is not None:
            self.cache.put(digest, doc)
        return doc

    def _read_page(
        self, page: Image.Image, number: int, timings: dict[str, float]
    ) -> tuple[list[OcrLine], list[list[int]], int, float]:
        """Lines of one page in reading order (boxes in the page's own coordinates), rows, rotation, skew."""
        t = time.perf_counter()
        result = self.engine.recognize(page)
        timings["ocr"] += _ms(t)
        _add_steps(timings, result.timings_ms)
        rotation = 0
        if self.orienter is not None and result.lines:
            t = time.perf_counter()
            rotation = self.orienter.detect(page, result.lines, result.upside_down).rotation
            timings["orient"] += _ms(t)
            if rotation:
                # Re-read upright: short lines on a sideways page are misread, and layout needs an upright frame.
                # Detected again too: the detector misses short lines upside down that it finds upright.
                t = time.perf_counter()
                result = self.engine.recognize(rotate_clockwise(page, rotation))
                timings["ocr"] += _ms(t)
                _add_steps(timings, result.timings_ms)
        t = time.perf_counter()
        skew = estimate_skew(result.lines)
        layout = reading_order(result.lines, skew)
        ordered = [result.lines[i] for i in layout.order]
        position = {index: k for k, index in enumerate(layout.order)}
        rows = [[position[i] for i in row] for row in layout.rows]
        lines = [
            OcrLine(ln.text, ln.confidence, unrotate_quad(ln.box, rotation, page.width, page.height), page=number)
            for ln in ordered
        ]
        timings["layout"] += _ms(t)
        return lines, rows, rotation, skew

    def _name_finder(self) -> NameFinder | None:
        finder = self.mention_finder
        if finder is None:
            return None

        def spans(text: str) -> list[tuple[int, int]]:
            return [(m.start, m.end) for m in finder.find_mentions(text) if m.recognized and m.ingredients]

        return spans

    @staticmethod
    def _fields(
        lines: Sequence[OcrLine], rows: Sequence[Row], find_names: NameFinder | None = None
    ) -> tuple[str, dict[str, Field], list[Medication]]:
        doc_type = classify("\n".join(r.text for r in rows))
        medications: list[Medication] = []
        if doc_type == "prescription":
            fields, medications = parse_prescription(lines, rows, find_names)
        elif doc_type in ("package", "label"):
            fields, medications = parse_package(lines, rows)
            # A box's back panel carries leaflet-style sections (成份：, 适应症：); keep those too.
            for name, value in parse_leaflet(lines, rows).items():
                fields.setdefault(name, value)
        else:
            fields = parse_leaflet(lines, rows)
        return doc_type, fields, medications


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _add_steps(timings: dict[str, float], steps: dict[str, float]) -> None:
    """The engine's own steps, inside "ocr", as "ocr.<step>" (summed over pages and the upright re-read)."""
    for step, ms in steps.items():
        timings[f"ocr.{step}"] = timings.get(f"ocr.{step}", 0.0) + ms
