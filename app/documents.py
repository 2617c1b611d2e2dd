"""A freshly read document (`ingestion.document.ParsedDocument`) as the answer chain's context: its drugs, and
each non-empty field as citable evidence with the box around its lines on the photo."""

from __future__ import annotations

from collections.abc import Sequence

from app.answer import Evidence
from app.chain import DocumentContext
from app.retrieval import enclosing_box
from ingestion.document import ParsedDocument
from knowledge.lexicon import Lexicon


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


def document_context(document_id: str, doc: ParsedDocument, lexicon: Lexicon) -> DocumentContext:
    mentions = [d.mention for d in doc.drugs if d.mention.recognized]
    fields = [
        field_evidence(document_id, name, f.value, f.boxes, lexicon)
        for name, f in doc.fields.items()
        if f.value.strip()
    ]
    return DocumentContext(document_id=document_id, mentions=mentions, fields=fields)
