"""The question-answering chain, as a LangChain runnable: understand -> (check interactions || retrieve evidence)
-> compose.

The engine decides the verdict; retrieval only finds passages to cite; the composer only words it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from langchain_core.runnables import Runnable, RunnableLambda, RunnableParallel

from app.answer import Answer, Evidence
from app.composer import Composer
from app.understanding import Query, understand
from knowledge.interactions import InteractionEngine
from knowledge.models import CheckResult, DrugMention

# Which fields of the user's own document support which intent.
_FIELDS_FOR_INTENT = {
    "combination": ("interactions", "drug_interactions", "contraindications", "precautions", "warnings"),
    "dosage": ("dosage", "dosage_and_administration", "strength", "medications"),
    "contraindication": ("contraindications", "precautions", "warnings_and_precautions", "warnings"),
    "side_effects": ("adverse_reactions", "precautions"),
    "other": ("indications", "indications_and_usage", "drug_name", "ingredients"),
}


@dataclass
class DocumentContext:
    """What the chain knows of one of the user's documents: its drugs and its citable fields (with boxes)."""

    document_id: str
    mentions: list[DrugMention]
    fields: list[Evidence] = field(default_factory=list)


class EvidenceRetriever(Protocol):
    def search(
        self, query: str, k: int, boost_refs: set[str], owner: str | None, document_ids: set[str] | None
    ) -> list[Evidence]: ...


class AnswerChain:
    def __init__(
        self, engine: InteractionEngine, composer: Composer, retriever: EvidenceRetriever | None = None, k: int = 6
    ) -> None:
        self.engine = engine
        self.composer = composer
        self.retriever = retriever
        self.k = k
        self.runnable: Runnable[dict[str, Any], Answer] = (
            RunnableLambda(self._understand)
            | RunnableParallel(
                query=RunnableLambda(lambda s: s["query"]),
                state=RunnableLambda(lambda s: s),
                result=RunnableLambda(self._check),
                evidence=RunnableLambda(self._retrieve),
            )
            | RunnableLambda(self._compose)
        )

    def ask(
        self,
        question: str,
        documents: Sequence[DocumentContext] = (),
        medications: Sequence[str] = (),
        owner: str | None = None,
    ) -> Answer:
        return self.runnable.invoke(
            {"question": question, "documents": list(documents), "medications": list(medications), "owner": owner}
        )

    # ---- steps -------------------------------------------------------------------------------------

    def _understand(self, state: dict[str, Any]) -> dict[str, Any]:
        documents: list[DocumentContext] = state["documents"]
        doc_mentions = [m for d in documents for m in d.mentions if m.recognized]
        query = understand(state["question"], self.engine.lexicon, doc_mentions, state["medications"])
        return {**state, "query": query}

    def _check(self, state: dict[str, Any]) -> CheckResult:
        query: Query = state["query"]
        drugs = query.drugs
        return self.engine.check(drugs) if drugs else CheckResult(mentions=[])

    def _retrieve(self, state: dict[str, Any]) -> list[Evidence]:
        query: Query = state["query"]
        documents: list[DocumentContext] = state["documents"]
        refs = {f"drug:{i}" for m in query.drugs for i in m.ingredients}
        refs |= {f"class:{c}" for m in query.drugs if m.is_class for c in m.class_ids}
        wanted = _FIELDS_FOR_INTENT.get(query.intent, ())
        own = [ev for d in documents for ev in d.fields if (ev.field or "") in wanted]
        found: list[Evidence] = []
        if self.retriever is not None:
            found = self.retriever.search(
                query.text, self.k, refs, state["owner"], {d.document_id for d in documents} or None
            )
        seen = {(ev.document_id, ev.field, ev.text) for ev in own}
        return own + [ev for ev in found if (ev.document_id, ev.field, ev.text) not in seen]

    def _compose(self, parts: dict[str, Any]) -> Answer:
        return self.composer.compose(parts["query"], parts["result"], parts["evidence"])
