"""What the chain returns: a verdict, the findings the engine made, and the citations every statement points to."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from knowledge.models import DrugMention, Duplicate, Interaction

if TYPE_CHECKING:
    from app.assessment import PairAssessment, Topic

QUOTE_CHARS = 220
DELETED_SOURCE = "deleted document"
_DELETED_QUOTE = {"zh": "（所引用的文档已被删除）", "en": "(quoted from a document that has been deleted)"}
_DELETED_ANSWER = {
    "zh": "这条回答引用了一份已被删除的文档，内容已移除。如需要，请重新提问。",
    "en": "This answer quoted a document that has since been deleted, so its text was removed. Ask again if needed.",
}


class Verdict(StrEnum):
    """The answer's headline. There is deliberately no "safe"."""

    AVOID = "avoid"  # a contraindicated or major interaction, or the same ingredient twice
    CAUTION = "caution"  # a moderate, minor or ungraded interaction, or duplicate therapy within a class
    NO_KNOWN_INTERACTION = "no_known_interaction"  # every drug recognised and nothing found in our sources
    INSUFFICIENT_DATA = "insufficient_data"  # a drug not recognised, or nothing to compare
    INFO = "info"  # the question is not about a combination


@dataclass(frozen=True)
class Citation:
    """One citable thing: a knowledge-base record or passage, or a field of the user's own document."""

    id: int
    kind: str  # "interaction" | "passage" | "document" | "knowledge_base"
    source: str
    text: str
    license: str | None = None
    record: str | None = None
    document_id: str | None = None
    field: str | None = None
    bbox: list[list[float]] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "source": self.source, "text": self.text}
        for key in ("license", "record", "document_id", "field", "bbox"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass
class Answer:
    answer: str
    verdict: Verdict
    language: str
    intent: str
    mentions: list[DrugMention] = field(default_factory=list)
    findings: list[Interaction] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    unrecognized: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    urgent: bool = False
    composer: str = "template"
    asked: list[PairAssessment] = field(default_factory=list)
    topic: Topic | None = None
    asked_findings: int = 0  # how many of `findings` (the first ones) are about the asked pairs

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "verdict": self.verdict.value,
            "language": self.language,
            "intent": self.intent,
            "urgent": self.urgent,
            "drugs": [
                {
                    "input": m.text,
                    "recognized": m.recognized,
                    "ingredients": list(m.ingredients),
                    "classes": list(m.class_ids),
                    **({"corrected_from": m.corrected_from} if m.corrected_from else {}),
                }
                for m in self.mentions
            ],
            "asked": [p.to_json() for p in self.asked],
            "findings": [{**f.to_json(), "asked": n < self.asked_findings} for n, f in enumerate(self.findings)],
            **({"topic": self.topic.to_json()} if self.topic is not None else {}),
            "duplicates": [d.to_json() for d in self.duplicates],
            "unrecognized": self.unrecognized,
            "citations": [c.to_json() for c in self.citations],
            "composer": self.composer,
        }


@dataclass(frozen=True)
class Evidence:
    """A retrieved passage the composer may cite: from the knowledge base or from the user's own document."""

    text: str
    source: str
    title: str = ""
    license: str | None = None
    record: str | None = None
    refs: tuple[str, ...] = ()  # "drug:<inn>" / "class:<id>" the passage is about
    document_id: str | None = None
    field: str | None = None
    bbox: list[list[float]] | None = None
    score: float = 0.0


def quoted(text: str) -> str:
    """How an answer quotes evidence: whole, or its first QUOTE_CHARS characters and an ellipsis."""
    return text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS].rstrip() + "…"


def without_document(answer: str, result: dict[str, Any], document_id: str) -> tuple[str, dict[str, Any]]:
    """A stored answer (`Answer.to_json()` and its text) with what it quoted from a deleted document taken out.

    Each quote in the text becomes a notice, and each citation of the document keeps its number (so the [n]
    markers still resolve) but loses its text and box. An answer an LLM rephrased may quote in other words, so
    its text is replaced whole. Returns the inputs unchanged when the answer did not cite the document.
    """
    cited = [c for c in result.get("citations", []) if c.get("document_id") == document_id]
    stated = [
        s
        for pair in result.get("asked", [])
        for s in pair.get("document_statements", [])
        if s.get("document_id") == document_id
    ]
    if not cited and not stated:
        return answer, result
    lang = "zh" if result.get("language") == "zh" else "en"
    text = answer
    verbatim = str(result.get("composer", "")).startswith("template")
    for citation in cited:
        quote = quoted(str(citation.get("text", "")))
        if quote and quote in text:
            text = text.replace(quote, _DELETED_QUOTE[lang])
        elif quote:
            verbatim = False
    if not verbatim:
        text = _DELETED_ANSWER[lang]
    redacted = copy.deepcopy(result)
    redacted["answer"] = text
    for citation in redacted["citations"]:
        if citation.get("document_id") == document_id:
            citation.update(source=DELETED_SOURCE, text="")
            citation.pop("bbox", None)
    for pair in redacted.get("asked", []):  # the assessment's own copy of the document's sentences
        for statement in pair.get("document_statements", []):
            if statement.get("document_id") == document_id:
                statement.update(text="", bbox=None)
    return text, redacted
