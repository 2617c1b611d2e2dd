"""A freshly read document (`ingestion.document.ParsedDocument`) as the answer chain's context: its drugs, and
each non-empty field as citable evidence with the box around its lines on the photo."""

from __future__ import annotations

from app.answer import Evidence
from app.chain import DocumentContext
from app.retrieval import enclosing_box
from ingestion.document import ParsedDocument
from knowledge.lexicon import Lexicon


def document_context(document_id: str, doc: ParsedDocument, lexicon: Lexicon) -> DocumentContext:
    mentions = [d.mention for d in doc.drugs if d.mention.recognized]
    fields = []
    for name, f in doc.fields.items():
        if not f.value.strip():
            continue
        refs = tuple(dict.fromkeys(f"drug:{i}" for m in lexicon.find_mentions(f.value) for i in m.ingredients))
        fields.append(
            Evidence(
                text=f.value,
                source="uploaded document",
                refs=refs,
                document_id=document_id,
                field=name,
                bbox=enclosing_box([[list(p) for p in box] for box in f.boxes]),
            )
        )
    return DocumentContext(document_id=document_id, mentions=mentions, fields=fields)
