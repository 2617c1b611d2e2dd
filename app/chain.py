"""The question-answering chain: typed stages, understand -> assess -> retrieve -> compose, run as one LangChain
runnable.

Each stage takes and returns a typed object. The assessment (`app.assessment`) decides the asked pairs and the
verdict from the knowledge base and the user's own documents; retrieval only finds passages to cite; the composer
only words the assessment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from langchain_core.runnables import Runnable, RunnableLambda

from app.answer import Answer, Evidence
from app.assessment import Assessment, Assessor
from app.composer import Composer
from app.documents import DocumentContext, MentionedDrug
from app.understanding import Query, understand
from knowledge.interactions import InteractionEngine
from knowledge.models import DrugMention

__all__ = ["AnswerChain", "DocumentContext", "EvidenceRetriever", "MentionedDrug", "Question"]


class EvidenceRetriever(Protocol):
    def search(
        self, query: str, k: int, boost_refs: set[str], owner: str | None, document_ids: set[str] | None
    ) -> list[Evidence]: ...


@dataclass(frozen=True)
class Question:
    """What the chain is asked: the words, the conversation's documents, the user's list, earlier drugs."""

    text: str
    documents: tuple[DocumentContext, ...] = ()
    medications: tuple[str, ...] = ()
    owner: str | None = None
    discussed: tuple[DrugMention, ...] = ()


@dataclass(frozen=True)
class Understood:
    question: Question
    query: Query


@dataclass(frozen=True)
class Assessed:
    question: Question
    assessment: Assessment


@dataclass(frozen=True)
class Retrieved:
    assessment: Assessment
    evidence: list[Evidence] = field(default_factory=list)


class AnswerChain:
    def __init__(
        self, engine: InteractionEngine, composer: Composer, retriever: EvidenceRetriever | None = None, k: int = 6
    ) -> None:
        self.engine = engine
        self.assessor = Assessor(engine)
        self.composer = composer
        self.retriever = retriever
        self.k = k
        self.runnable: Runnable[Question, Answer] = (
            RunnableLambda(self.understand)
            | RunnableLambda(self.assess)
            | RunnableLambda(self.retrieve)
            | RunnableLambda(self.compose)
        )

    def ask(
        self,
        question: str,
        documents: Sequence[DocumentContext] = (),
        medications: Sequence[str] = (),
        owner: str | None = None,
        discussed: Sequence[DrugMention] = (),
    ) -> Answer:
        """Answer one question.

        Args:
            question: the user's words.
            documents: the conversation's documents (the attached photo, or the ones discussed before).
            medications: the user's own medication list, as typed.
            owner: whose uploaded documents retrieval may search (only `documents` of them).
            discussed: drugs named in earlier turns ("那和阿司匹林呢？" is asked against them).
        """
        return self.runnable.invoke(Question(question, tuple(documents), tuple(medications), owner, tuple(discussed)))

    # ---- stages ------------------------------------------------------------------------------------

    def understand(self, q: Question) -> Understood:
        subjects = [m for d in q.documents for m in d.mentions if m.recognized]
        subjects += [DrugMention(text=name, recognized=False) for d in q.documents for name in d.unrecognized]
        query = understand(
            q.text, self.engine.lexicon, subjects, q.medications, q.discussed, has_documents=bool(q.documents)
        )
        return Understood(q, query)

    def assess(self, u: Understood) -> Assessed:
        return Assessed(u.question, self.assessor.assess(u.query, u.question.documents))

    def retrieve(self, a: Assessed) -> Retrieved:
        """Label passages that support a finding, or answer a general question ("what is this medicine?"); a
        topic answer cites the sections the assessment chose. Of the user's documents only the conversation's
        are searched, unless the question asks about their saved documents."""
        assessment = a.assessment
        topic = assessment.topic
        if self.retriever is None or (topic is not None and topic.found):
            return Retrieved(assessment)
        refs = {f"drug:{i}" for d in assessment.drugs for i in d.mention.ingredients}
        refs |= {f"class:{c}" for d in assessment.drugs for c in d.mention.class_ids}
        documents = None if assessment.query.saved_documents else {d.document_id for d in a.question.documents}
        found = self.retriever.search(assessment.query.text, self.k, refs, a.question.owner, documents)
        return Retrieved(assessment, found)

    def compose(self, r: Retrieved) -> Answer:
        return self.composer.compose(r.assessment, r.evidence)
