"""A read document (`ingestion.document.ParsedDocument`) as the answer chain's context: the drugs it is about (its
subjects), the drugs it merely names in a section, the prescription rows we could not resolve, and its text as
citable evidence, each field and each sentence with the box around its lines on the photo.

This is the one converter from a document to the chain's context; the CLI, the API and the evals all use it
(a stored document is first turned back into a ParsedDocument by `ParsedDocument.from_json`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from app.answer import Evidence
from app.retrieval import enclosing_box
from ingestion.document import Field, ParsedDocument
from ingestion.ocr.base import OcrLine
from knowledge.lexicon import Lexicon
from knowledge.models import DrugMention

# Where a sentence ends: Chinese and English full stops, semicolons, and the numbered items of a leaflet list.
_SENTENCE_END = re.compile(r"(?<=[。；;！？!?])|(?<=\.)\s+|\s*(?=(?:\d{1,2}[\.、．]|[（(]\d{1,2}[）)])\D)")
_SPACE = re.compile(r"\s+")
# Where a leaflet or box names its product, most specific first.
_PRODUCT_FIELDS = ("generic_name", "drug_name", "brand_name", "trade_name", "product_name", "english_name")
_HEADING = re.compile(r"^[\d.\s]*[A-Z][A-Z &]+$")  # "1 INDICATIONS AND USAGE" read where a name was expected
_LABEL = re.compile(r"^[^：:]{1,8}[：:]")  # "通用名称：" before a product name
SHORT_SENTENCE = 6  # characters: shorter pieces are not sentences of their own


@dataclass
class MentionedDrug:
    """A drug the document names inside a section (interactions, contraindications ...) without being about it:
    evidence, never one of the patient's medicines."""

    mention: DrugMention
    section: str | None


@dataclass
class DocumentContext:
    """What the chain knows of one of the user's documents.

    Attributes:
        document_id: the stored document's id (or a name for a file read by the CLI).
        mentions: the document's subjects: what a leaflet, box or label is about, or each prescribed row.
        fields: each non-empty field as citable evidence, boxed.
        doc_type: leaflet | prescription | package | label | other.
        mentioned: drugs the document only names in a section.
        sentences: each sentence of each field, boxed by the lines it stands on.
        unrecognized: names in a drug slot (a prescription row) that did not resolve to a drug.
    """

    document_id: str
    mentions: list[DrugMention]
    fields: list[Evidence] = field(default_factory=list)
    doc_type: str = "other"
    mentioned: list[MentionedDrug] = field(default_factory=list)
    sentences: list[Evidence] = field(default_factory=list)
    unrecognized: list[str] = field(default_factory=list)

    def citable_sentences(self) -> list[Evidence]:
        """Each sentence with its box; a context built without them (by hand, from fields only) is split here,
        each sentence boxed by its whole field."""
        if self.sentences:
            return self.sentences
        return [replace(ev, text=s) for ev in self.fields for s in split_sentences(ev.text)]


def field_evidence(
    document_id: str, name: str, value: str, boxes: Sequence[Sequence[Sequence[float]]], lexicon: Lexicon
) -> Evidence:
    """One field of the user's document as citable evidence: the drugs it names, the box around its lines."""
    refs = tuple(dict.fromkeys(f"drug:{i}" for m in lexicon.find_mentions(value) for i in m.ingredients))
    return Evidence(
        text=value,
        source="uploaded document",
        refs=refs,
        document_id=document_id,
        field=name,
        bbox=enclosing_box(boxes),
    )


def split_sentences(text: str) -> list[str]:
    """A field's text as sentences (Chinese or English), blank pieces dropped and a fragment of a few characters
    ("口服。") kept with the sentence after it."""
    out: list[str] = []
    carry = ""
    for piece in _SENTENCE_END.split(text.replace("\n", " ")):
        piece = (piece or "").strip()
        if not piece:
            continue
        if len(piece) < SHORT_SENTENCE:
            carry += piece
            continue
        out.append(carry + piece)
        carry = ""
    if carry and out:
        out[-1] += carry
    elif len(carry) > 1:
        out.append(carry)
    return out


def _sentence_evidence(
    document_id: str, name: str, value: Field, lines: Sequence[OcrLine], lexicon: Lexicon
) -> list[Evidence]:
    """Each sentence of a field, boxed by the OCR lines it was read from (a sentence wraps over lines; a line
    may hold the end of one sentence and the start of the next)."""
    own = [i for i in value.line_indices if 0 <= i < len(lines)]
    joined, owner = "", []
    for i in own:
        text = _SPACE.sub("", lines[i].text)
        joined += text
        owner += [i] * len(text)
    out = []
    for sentence in split_sentences(value.value):
        key = _SPACE.sub("", sentence)
        start = joined.find(key)
        if start < 0 and len(key) >= 12:  # the field's value dropped its label or a character: match the ends
            head, tail = joined.find(key[:8]), joined.find(key[-8:])
            start, end = (head, tail + 8) if 0 <= head <= tail else (-1, -1)
        else:
            end = start + len(key)
        on = sorted(set(owner[start:end])) if start >= 0 else list(own)
        boxes = [lines[i].box for i in on] or list(value.boxes)
        out.append(field_evidence(document_id, name, sentence, boxes, lexicon))
    return out


def document_context(document_id: str, doc: ParsedDocument, lexicon: Lexicon) -> DocumentContext:
    recognized = [d for d in doc.drugs if d.mention.recognized]
    subjects = [d.mention for d in recognized if d.role == "subject"]
    mentioned = [MentionedDrug(d.mention, d.section) for d in recognized if d.role != "subject"]
    fields = [
        field_evidence(document_id, name, f.value, f.boxes, lexicon)
        for name, f in doc.fields.items()
        if f.value.strip()
    ]
    sentences = [
        ev
        for name, f in doc.fields.items()
        if f.value.strip()
        for ev in _sentence_evidence(document_id, name, f, doc.lines, lexicon)
    ]
    # A prescribed row whose name matched no drug must not vanish: it is a drug we do not recognise. So is the
    # product of a leaflet or box whose name we could not resolve.
    unrecognized = [
        m.name
        for m in doc.medications
        if m.name.strip() and not any(set(d.line_indices) & set(m.line_indices) for d in recognized)
    ]
    if not subjects and not doc.medications:
        names = (doc.fields.get(n) for n in _PRODUCT_FIELDS)
        values = [_LABEL.sub("", f.value).strip() for f in names if f is not None]
        unrecognized += [v for v in values if v and not _HEADING.match(v)][:1]
    return DocumentContext(
        document_id=document_id,
        mentions=subjects,
        fields=fields,
        doc_type=doc.doc_type,
        mentioned=mentioned,
        sentences=sentences,
        unrecognized=unrecognized,
    )
