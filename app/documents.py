"""A read document (`ingestion.document.ParsedDocument`) as the answer chain's context: the drugs it is about (its
subjects), the drugs it merely names in a section, the prescription rows we could not resolve, and its text as
citable evidence, each field and each sentence with the box around its lines on the photo.

This is the one converter from a document to the chain's context; the CLI, the API and the evals all use it
(a stored document is first turned back into a ParsedDocument by `ParsedDocument.from_json`).

A document's drug list is what it was read to be about (a prescription's rows, a box's product), each entry
flagged `needs_confirmation` where the reading was unsure, until the user confirms or corrects it; the confirmed
list is stored with the document (the "confirmed" key of its stored reading) and from then on it, not the reading,
decides the document's subjects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

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


def document_context(
    document_id: str, doc: ParsedDocument, lexicon: Lexicon, confirmed: Sequence[ListedDrug] | None = None
) -> DocumentContext:
    """The chain's context of one document.

    Args:
        document_id: the stored document's id (or a name for a file read by the CLI).
        doc: the reading.
        lexicon: name resolution.
        confirmed: the drug list the user confirmed or corrected (`confirmed_drugs`); when given, its entries are
            the document's subjects (a drug the user removed is not one, a name the lexicon does not know is
            unrecognised) and the reading's subjects are not used.
    """
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
    if confirmed is not None:
        subjects, unrecognized = resolve_listed(confirmed, lexicon)
    return DocumentContext(
        document_id=document_id,
        mentions=subjects,
        fields=fields,
        doc_type=doc.doc_type,
        mentioned=mentioned,
        sentences=sentences,
        unrecognized=unrecognized,
    )


# ---- the document's drug list, as read and as confirmed ------------------------------------------------------

CONFIRMED_KEY = "confirmed"  # where the user's list is kept in a stored reading: {"drugs": [...], "at": iso time}
MAX_LISTED_DRUGS = 30
MAX_NAME_CHARS = 200


@dataclass(frozen=True)
class ListedDrug:
    """One entry of a document's drug list: as read (with the reading's confidence and whether a person should
    check it) or as the user confirmed or typed it.

    Attributes:
        name: the drug as written on the document or typed by the user.
        strength, dose, frequency: as written ("5mg", "1片", "qd"); empty where unknown.
        confidence: the reading's confidence (None for an entry the user typed).
        needs_confirmation: the reading was unsure of this entry (absent from older readings: False).
    """

    name: str
    strength: str = ""
    dose: str = ""
    frequency: str = ""
    confidence: float | None = None
    needs_confirmation: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "strength": self.strength, "dose": self.dose, "frequency": self.frequency}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ListedDrug:
        return cls(
            name=str(data.get("name", "")),
            strength=str(data.get("strength") or ""),
            dose=str(data.get("dose") or ""),
            frequency=str(data.get("frequency") or ""),
        )


def confirmed_drugs(parsed: Mapping[str, Any]) -> list[ListedDrug] | None:
    """The list the user confirmed for a stored reading, or None where they have not (yet)."""
    confirmed = parsed.get(CONFIRMED_KEY)
    if not isinstance(confirmed, Mapping):
        return None
    return [ListedDrug.from_json(d) for d in confirmed.get("drugs", ()) if isinstance(d, Mapping)]


def read_drug_list(parsed: Mapping[str, Any]) -> list[ListedDrug]:
    """What a stored reading (`ParsedDocument.to_json()`) says the document is about: each prescribed row, each
    subject drug outside the rows (a box's product), or, where no drug was recognised, the product name read.
    An entry needs confirmation where the reading flagged the row or a drug read on its lines."""
    rows = [m for m in parsed.get("medications", ()) if str(m.get("name", "")).strip()]
    subjects = [d for d in parsed.get("drugs", ()) if d.get("role", "subject") == "subject"]
    out: list[ListedDrug] = []
    for m in rows:
        on_row = [d for d in subjects if set(d.get("lines", ())) & set(m.get("lines", ()))]
        out.append(
            ListedDrug(
                name=str(m["name"]).strip(),
                strength=m.get("strength") or "",
                dose=m.get("dose") or "",
                frequency=m.get("frequency") or m.get("frequency_text") or "",  # the code (qd, tid) where read
                confidence=_confidence(m),
                # A row whose name matched no drug is as unsure as a row read with low confidence.
                needs_confirmation=bool(m.get("needs_confirmation")) or not on_row or any(_flagged(d) for d in on_row),
            )
        )
    row_lines = {i for m in rows for i in m.get("lines", ())}
    seen = {e.name.casefold() for e in out}
    for d in subjects:
        name = str(d.get("text", "")).strip()
        if not name or name.casefold() in seen or set(d.get("lines", ())) & row_lines:
            continue
        seen.add(name.casefold())
        out.append(ListedDrug(name=name, confidence=_confidence(d), needs_confirmation=_flagged(d)))
    if not out:
        fields = parsed.get("fields", {})
        for key in _PRODUCT_FIELDS:
            f = fields.get(key)
            value = _LABEL.sub("", f.get("value", "")).strip() if isinstance(f, Mapping) else ""
            if value and not _HEADING.match(value):
                out.append(ListedDrug(name=value[:MAX_NAME_CHARS], confidence=_confidence(f), needs_confirmation=True))
                break
    return out


def needs_confirmation(parsed: Mapping[str, Any]) -> bool:
    """Whether a stored reading's drug list holds an entry the reading was unsure of and the user has not
    confirmed the list."""
    return confirmed_drugs(parsed) is None and any(e.needs_confirmation for e in read_drug_list(parsed))


def resolve_listed(entries: Sequence[ListedDrug], lexicon: Lexicon) -> tuple[list[DrugMention], list[str]]:
    """The drugs a list names (an entry may name several: a combination product) and the names that resolve to
    no drug, which are reported, never dropped."""
    mentions: list[DrugMention] = []
    unrecognized: list[str] = []
    for entry in entries:
        found = resolve_entry(entry, lexicon)
        if found:
            mentions += found
        elif entry.name.strip():
            unrecognized.append(entry.name.strip())
    return mentions, unrecognized


def resolve_entry(entry: ListedDrug, lexicon: Lexicon) -> list[DrugMention]:
    """The drugs one entry names, as a medication list's entry is resolved; empty where it names none we know."""
    return [m for m in lexicon.resolve_many(entry.name) if m.recognized] if entry.name.strip() else []


def _flagged(entry: Mapping[str, Any]) -> bool:
    """The reading flagged the entry, or the lexicon resolved it only by correcting the name read (安禄地平 to
    氨氯地平): the correction is a guess a person should confirm."""
    return bool(entry.get("needs_confirmation", False)) or bool(entry.get("corrected_from"))


def _confidence(entry: Mapping[str, Any]) -> float | None:
    value = entry.get("confidence")
    return float(value) if isinstance(value, int | float) else None
