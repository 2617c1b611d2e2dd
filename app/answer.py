"""What the chain returns: a verdict, the findings the engine made, and the citations every statement points to."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from knowledge.models import DrugMention, Duplicate, Interaction


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
            "findings": [i.to_json() for i in self.findings],
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
