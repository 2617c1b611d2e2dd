"""Chunks: the unit that is embedded, indexed, retrieved and cited.

A chunk is either a knowledge-base passage (already split by label section when the knowledge base was built) or
one field of an uploaded document (with its owner, document id, field name and the boxes of its OCR lines, so an
answer can point at the photo). Over-long texts are split on sentence ends, Chinese or English, so every piece
stays citable on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from knowledge.store import KnowledgeBase

# About 300 English tokens: the MiniLM window is 256 word pieces, e5's and USE's are larger. KB label passages were
# cut at 1,200 characters by the build, so only the few longest rule texts are split further.
MAX_CHUNK_CHARS = 1200
PART_SEPARATOR = "#"

# A sentence ends after Chinese 。！？； (no space needed) or after English .!? followed by white space.
_SENTENCE_END = re.compile(r"(?<=[。！？；])|(?<=[.!?])\s+")

Box = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Chunk:
    """One retrievable, citable piece of text.

    `refs` are "drug:<inn>" / "class:<id>" entities the text is about. Knowledge-base chunks have `owner` None;
    document chunks carry the `owner` whose index they live in, the `document_id`, the `field` they came from
    ("usage", "contraindications" ...) and the `boxes` (polygons in image pixels) of their lines.
    """

    id: str
    text: str
    lang: str
    title: str
    section: str
    source: str
    license: str
    refs: tuple[str, ...]
    owner: str | None = None
    document_id: str | None = None
    field: str | None = None
    boxes: tuple[Box, ...] = ()

    @property
    def passage_id(self) -> str:
        """The knowledge-base passage (or document field) this chunk was cut from."""
        return self.id.split(PART_SEPARATOR, 1)[0]

    @property
    def index_text(self) -> str:
        """What is embedded and BM25-indexed: the title names the drug and section the text often leaves implicit."""
        return f"{self.title}\n{self.text}" if self.title else self.text

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "text": self.text,
            "lang": self.lang,
            "title": self.title,
            "section": self.section,
            "source": self.source,
            "license": self.license,
            "refs": list(self.refs),
            "owner": self.owner,
            "document_id": self.document_id,
            "field": self.field,
            "boxes": [[list(point) for point in box] for box in self.boxes],
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Chunk:
        boxes = data.get("boxes") or []
        refs = data.get("refs") or []
        assert isinstance(boxes, list) and isinstance(refs, list)
        return cls(
            id=str(data["id"]),
            text=str(data["text"]),
            lang=str(data["lang"]),
            title=str(data["title"]),
            section=str(data["section"]),
            source=str(data["source"]),
            license=str(data["license"]),
            refs=tuple(str(r) for r in refs),
            owner=None if data.get("owner") is None else str(data["owner"]),
            document_id=None if data.get("document_id") is None else str(data["document_id"]),
            field=None if data.get("field") is None else str(data["field"]),
            boxes=tuple(tuple((float(x), float(y)) for x, y in box) for box in boxes),
        )


def split_text(text: str, max_chars: int = MAX_CHUNK_CHARS) -> list[str]:
    """Split `text` into pieces of at most `max_chars`, cutting only at sentence ends where possible.

    A single sentence longer than `max_chars` (a run-on adverse-reaction list) is cut hard: a piece must fit the
    embedder's window, and such lists have no better boundary.
    """
    text = text.strip()
    if len(text) <= max_chars:
        return [text] if text else []
    pieces: list[str] = []
    current = ""
    for sentence in (s.strip() for s in _SENTENCE_END.split(text)):
        if not sentence:
            continue
        while len(sentence) > max_chars:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:max_chars])
            sentence = sentence[max_chars:].strip()
        joiner = "" if not current or _is_cjk_end(current) else " "
        if len(current) + len(joiner) + len(sentence) <= max_chars:
            current = f"{current}{joiner}{sentence}"
        else:
            pieces.append(current)
            current = sentence
    if current:
        pieces.append(current)
    return pieces


def _is_cjk_end(text: str) -> bool:
    return "\u3000" <= text[-1] <= "\u9fff" or "\uff00" <= text[-1] <= "\uffef"


def kb_chunks(kb: KnowledgeBase, max_chars: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """Every knowledge-base passage as chunks; a passage longer than `max_chars` becomes "<id>#0", "<id>#1" ..."""
    out: list[Chunk] = []
    for p in kb.passages():
        parts = split_text(p.text, max_chars)
        for i, part in enumerate(parts):
            out.append(
                Chunk(
                    id=p.id if len(parts) == 1 else f"{p.id}{PART_SEPARATOR}{i}",
                    text=part,
                    lang=p.lang,
                    title=p.title,
                    section=p.section,
                    source=p.source,
                    license=p.license,
                    refs=p.refs,
                )
            )
    return out


def document_chunks(
    *,
    owner: str,
    document_id: str,
    field: str,
    text: str,
    lang: str,
    title: str = "",
    refs: tuple[str, ...] = (),
    boxes: tuple[Box, ...] = (),
    source: str = "upload",
    license: str = "user-provided",
    max_chars: int = MAX_CHUNK_CHARS,
) -> list[Chunk]:
    """Chunks for one field of an uploaded document, ids "doc:<document_id>:<field>[#i]".

    Every piece keeps the field's boxes: OCR lines are not mapped to sentence pieces, and highlighting the whole
    field is the honest citation.
    """
    if not owner or not document_id:
        raise ValueError("a document chunk needs an owner and a document id")
    parts = split_text(text, max_chars)
    base = f"doc:{document_id}:{field}"
    return [
        Chunk(
            id=base if len(parts) == 1 else f"{base}{PART_SEPARATOR}{i}",
            text=part,
            lang=lang,
            title=title,
            section=field,
            source=source,
            license=license,
            refs=refs,
            owner=owner,
            document_id=document_id,
            field=field,
            boxes=boxes,
        )
        for i, part in enumerate(parts)
    ]
