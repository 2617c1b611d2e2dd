"""The assessment: the one place a verdict is decided.

It takes the understood question and the user's documents and decides which pairs were asked (each subject of the
documents and each drug of the user's list against each drug or class the question names; for "do these go
together?", every pair among them), what the knowledge base and the user's own document say about each, how well
our sources cover each drug, and the other findings among the user's own medicines, kept apart. Composers, template
or LLM, only word an assessment.

Drugs a document merely names in a section are evidence, never the patient's medicines: they are never paired.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations

from app.answer import Evidence, Verdict
from app.documents import DocumentContext, split_sentences
from app.understanding import Query
from knowledge.interactions import InteractionEngine
from knowledge.models import DrugMention, Duplicate, Interaction, Severity
from knowledge.store import Passage

# How bad each verdict is, for the overall verdict of several asked pairs: a missing answer outranks a caution.
_VERDICT_ORDER = {
    Verdict.AVOID: 4,
    Verdict.INSUFFICIENT_DATA: 3,
    Verdict.CAUTION: 2,
    Verdict.NO_KNOWN_INTERACTION: 1,
    Verdict.INFO: 0,
}

# A sentence of the user's document that names the asked drug: what it says of taking them together.
_STATES_AVOID = re.compile(
    r"禁用|禁止|禁忌|不宜|不得|不应|不可|不能|避免|切勿|严禁|忌与|contraindicat|do not (use|take|give|combine)|"
    r"must not|should not be (used|taken|given|combined)|avoid",
    re.I,
)
_STATES_CAUTION = re.compile(
    r"降低|减弱|增强|增加|升高|减少|加重|慎用|注意|监测|调整|影响|合用|同用|同服|"
    r"reduce|increase|decrease|enhance|potentiat|diminish|caution|monitor|adjust|may|interact",
    re.I,
)
# Contraindications that are about the patient's history, not about taking two drugs together.
_HISTORY = re.compile(r"过敏|诱发|病史|allerg|hypersensitiv|history of", re.I)
_PAIR_OF_OTHERS = re.compile(r"^\s*(与|和|跟|同|及|with\b|and\b)", re.I)
_STATEMENT_SECTIONS = {
    "interactions",
    "drug_interactions",
    "contraindications",
    "precautions",
    "warnings",
    "warnings_and_precautions",
    "warnings_and_cautions",
    "boxed_warning",
}
_AVOID_SECTIONS = {"contraindications", "boxed_warning"}

# The label sections that answer each kind of question that is not about a combination.
TOPIC_SECTIONS: dict[str, tuple[str, ...]] = {
    "dosage": ("dosage_and_administration", "dosage"),
    "how_to_take": ("dosage_and_administration", "dosage", "information_for_patients", "precautions"),
    "side_effects": ("adverse_reactions", "warnings_and_cautions", "warnings"),
    "contraindication": ("contraindications", "warnings_and_cautions", "warnings", "boxed_warning"),
    "pregnancy": (
        "pregnancy",
        "use_in_specific_populations",
        "warnings_and_cautions",
        "precautions",
        "contraindications",
    ),
    "overdose": ("overdosage", "overdose"),
    "precautions": ("warnings_and_cautions", "warnings", "precautions", "information_for_patients", "boxed_warning"),
    "storage": ("storage", "how_supplied"),
    "other": ("indications_and_usage", "indications"),
}
# Within a section, the sentences that answer a topic (the whole section's first sentences otherwise).
_TOPIC_WORDS: dict[str, re.Pattern[str]] = {
    "pregnancy": re.compile(r"孕|哺乳|乳汁|pregnan|breast|nursing|lactat|fetal", re.I),
    "how_to_take": re.compile(r"饭|餐|空腹|睡前|酒|嚼|掰|food|meal|stomach|alcohol|chew|crush|swallow|bedtime", re.I),
    "overdose": re.compile(r"过量|解毒|拮抗|overdos|antidote|revers|neutraliz", re.I),
}


@dataclass(frozen=True)
class AssessedDrug:
    """A drug in the conversation and where it came from: document | question | medications | conversation."""

    mention: DrugMention
    origin: str
    document_id: str | None = None

    @property
    def text(self) -> str:
        return self.mention.text

    def to_json(self) -> dict[str, object]:
        return {
            "input": self.mention.text,
            "ingredients": list(self.mention.ingredients),
            "classes": list(self.mention.class_ids),
            "origin": self.origin,
        }


@dataclass(frozen=True)
class DocumentStatement:
    """A sentence of the user's own document about taking its subject with the asked drug."""

    evidence: Evidence
    level: Verdict  # AVOID or CAUTION
    exact: bool = True  # it names the asked drug or class itself, not a member or a class of it

    def to_json(self) -> dict[str, object]:
        ev = self.evidence
        return {
            "document_id": ev.document_id,
            "field": ev.field,
            "text": ev.text,
            "bbox": ev.bbox,
            "level": self.level.value,
        }


@dataclass
class PairAssessment:
    """One asked pair: what our sources and the user's document say, and the verdict that follows."""

    a: AssessedDrug
    b: AssessedDrug
    verdict: Verdict
    findings: list[Interaction] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    statements: list[DocumentStatement] = field(default_factory=list)
    coverage: str = "covered"  # covered | no_interaction_data | unrecognized
    missing: list[AssessedDrug] = field(default_factory=list)  # the side(s) without data or not recognised

    @property
    def severity(self) -> Severity | None:
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)

    def to_json(self) -> dict[str, object]:
        return {
            "a": self.a.to_json(),
            "b": self.b.to_json(),
            "verdict": self.verdict.value,
            "severity": self.severity.value if self.severity else None,
            "coverage": self.coverage,
            "document_statements": [s.to_json() for s in self.statements],
        }


@dataclass
class Topic:
    """A question about one drug (its dose, side effects ...): the sections that answer it, found or not."""

    intent: str
    drug: AssessedDrug | None
    sections: tuple[str, ...]
    passages: list[Evidence] = field(default_factory=list)  # the answering sentences, the user's document first

    @property
    def found(self) -> bool:
        return bool(self.passages)

    def to_json(self) -> dict[str, object]:
        return {
            "intent": self.intent,
            "drug": self.drug.mention.ingredients[0] if self.drug and self.drug.mention.ingredients else None,
            "sections": list(self.sections),
            "found": self.found,
        }


@dataclass
class Assessment:
    """Everything decided about one question; the composer words it and adds nothing."""

    query: Query
    verdict: Verdict
    asked: list[PairAssessment] = field(default_factory=list)
    other_findings: list[Interaction] = field(default_factory=list)
    other_duplicates: list[Duplicate] = field(default_factory=list)
    drugs: list[AssessedDrug] = field(default_factory=list)
    unrecognized: list[AssessedDrug] = field(default_factory=list)
    topic: Topic | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Interaction]:
        """Asked findings first (in the order of the asked pairs), then the others."""
        out: list[Interaction] = []
        for pair in self.asked:
            out += [f for f in pair.findings if f not in out]
        return out + [f for f in self.other_findings if f not in out]

    @property
    def no_data(self) -> list[AssessedDrug]:
        seen: dict[str, AssessedDrug] = {}
        for pair in self.asked:
            if pair.coverage == "no_interaction_data":
                for d in pair.missing:
                    seen.setdefault(d.text, d)
        return list(seen.values())


class Assessor:
    """Decides the asked pairs, their verdicts, the coverage and the topic of one question."""

    def __init__(self, engine: InteractionEngine) -> None:
        self.engine = engine
        self.kb = engine.kb
        self.lexicon = engine.lexicon

    def assess(self, query: Query, documents: Sequence[DocumentContext]) -> Assessment:
        subjects = [AssessedDrug(m, "document", d.document_id) for d in documents for m in d.mentions if m.recognized]
        subjects += [
            AssessedDrug(DrugMention(text=name, recognized=False), "document", d.document_id)
            for d in documents
            for name in d.unrecognized
        ]
        subjects = _distinct(subjects)
        listed = _distinct([AssessedDrug(m, "medications") for m in query.medication_mentions])
        asked_drugs = _distinct([AssessedDrug(m, "question") for m in query.question_mentions])
        discussed = _distinct([AssessedDrug(m, "conversation") for m in query.discussed])
        anchors = _distinct((subjects if query.refers_to_document else []) + listed)
        if not anchors and not query.refers_to_document:
            anchors = [d for d in discussed if not _same(d, asked_drugs)]
        own = _distinct(subjects + listed)
        everyone = _distinct(own + asked_drugs + (anchors if not subjects else []))
        assessment = Assessment(query=query, verdict=Verdict.INFO, drugs=everyone)
        assessment.unrecognized = [d for d in everyone if not d.mention.recognized]
        if query.missing_document:  # "this" with nothing to point at: ask for the photo, judge nothing
            assessment.verdict = Verdict.INSUFFICIENT_DATA
            return assessment
        if query.is_combination:
            pairs = self._asked_pairs(anchors, asked_drugs)
            statements_from = [d for d in documents if d.document_id in {a.document_id for a in subjects}]
            assessed = [self._assess_pair(a, b, statements_from) for a, b in pairs]
            # The worst pair first: the first sentence of the answer is about it.
            assessment.asked = sorted(assessed, key=lambda p: -_VERDICT_ORDER[p.verdict])
            assessment.verdict = self._overall(assessment)
        else:
            assessment.topic = self._topic(query, asked_drugs or subjects or listed, documents)
        asked_keys = {_key(f) for p in assessment.asked for f in p.findings}
        mine = [d.mention for d in own if d.mention.recognized and not d.mention.is_class]
        if len(mine) >= 2:
            others = self.engine.check(mine)
            assessment.other_findings = [f for f in others.interactions if _key(f) not in asked_keys]
            asked_dupes = {d.what for p in assessment.asked for d in p.duplicates}
            assessment.other_duplicates = [d for d in others.duplicates if d.what not in asked_dupes]
        return assessment

    # ---- pairs -------------------------------------------------------------------------------------

    @staticmethod
    def _asked_pairs(anchors: list[AssessedDrug], asked: list[AssessedDrug]) -> list[tuple[AssessedDrug, AssessedDrug]]:
        """Anchors (the documents' subjects, the user's list) against the drugs the question names, and the
        question's own drugs with each other. A question that names one of the anchors picks it ("the Plavix on
        this prescription ... with omeprazole")."""
        picked = [a for a in anchors if _same(a, asked)]
        others = [b for b in asked if not _same(b, anchors)]
        among_asked = list(combinations(others, 2))
        if picked:
            if others:
                return [(a, b) for a in picked for b in others] + among_asked
            if len(picked) >= 2:
                return list(combinations(picked, 2))
            return [(picked[0], b) for b in anchors if b is not picked[0]]
        if asked:
            return [(a, b) for a in anchors for b in asked] + among_asked
        return list(combinations(anchors, 2))

    def _assess_pair(self, a: AssessedDrug, b: AssessedDrug, documents: Sequence[DocumentContext]) -> PairAssessment:
        pair = PairAssessment(a=a, b=b, verdict=Verdict.NO_KNOWN_INTERACTION)
        unknown = [d for d in (a, b) if not d.mention.recognized]
        if unknown:
            pair.verdict, pair.coverage, pair.missing = Verdict.INSUFFICIENT_DATA, "unrecognized", unknown
            return pair
        result = self.engine.check([a.mention, b.mention])
        pair.findings = list(result.interactions)
        significant = [f for f in pair.findings if not _bare_minor(f)]
        pair.duplicates = list(result.duplicates)
        pair.statements = self._statements(a, b, documents)
        worst = max((f.severity.rank for f in pair.findings), default=-1)
        if (
            worst >= Severity.MAJOR.rank
            or any(d.kind == "ingredient" for d in pair.duplicates)
            or any(s.level is Verdict.AVOID for s in pair.statements)
        ):
            pair.verdict = Verdict.AVOID
        elif significant or pair.duplicates or pair.statements:
            pair.verdict = Verdict.CAUTION
        else:
            missing = [d for d in (a, b) if not self._covered(d.mention)]
            if missing:
                pair.verdict, pair.coverage, pair.missing = Verdict.INSUFFICIENT_DATA, "no_interaction_data", missing
        return pair

    def _covered(self, mention: DrugMention) -> bool:
        """Whether some source could have told us about this drug: a class always can (its members are checked
        one by one); an ingredient only when a source holds interaction records for it or its classes."""
        if mention.is_class:
            return True
        return all(self.kb.has_interaction_data(i) for i in mention.ingredients)

    def _statements(
        self, subject: AssessedDrug, asked: AssessedDrug, documents: Sequence[DocumentContext]
    ) -> list[DocumentStatement]:
        """Sentences of the subject's own document that name the asked drug or its class in an interaction,
        contraindication or warning section. Only the subject's document speaks for the subject."""
        docs = [d for d in documents if d.document_id in (subject.document_id, asked.document_id)]
        if not docs:
            return []
        targets = self._targets(asked.mention)
        own = self._targets(subject.mention) if subject.document_id else set()
        out: list[DocumentStatement] = []
        for doc in docs:
            for ev in doc.citable_sentences():
                if (ev.field or "") not in _STATEMENT_SECTIONS or _HISTORY.search(ev.text):
                    continue
                named = self.lexicon.find_mentions(ev.text)
                hit = next((m for m in named if self._entities(m) & targets), None)
                if hit is None:
                    continue
                first = named[0]
                # "阿司匹林与肝素合用..." in an ibuprofen leaflet is about two other drugs, not the subject.
                if (
                    first is not hit
                    and not self._entities(first) & (own | targets)
                    and _PAIR_OF_OTHERS.match(ev.text[first.end :])
                ):
                    continue
                if (ev.field in _AVOID_SECTIONS and not _STATES_CAUTION.search(ev.text)) or _STATES_AVOID.search(
                    ev.text
                ):
                    level = Verdict.AVOID
                elif _STATES_CAUTION.search(ev.text):
                    level = Verdict.CAUTION
                else:
                    continue
                exact = bool(self._entities(hit) & self._entities(asked.mention))
                out.append(DocumentStatement(ev, level, exact))
        # The strongest statement first, then one that names the asked word itself ("抗高血压药" for "降压片")
        # before one that names a member of its class ("呋塞米").
        out.sort(key=lambda s: (s.level is not Verdict.AVOID, not s.exact))
        return out[:2]

    def _targets(self, mention: DrugMention) -> set[str]:
        """The entities a sentence may name to speak of this drug: its ingredients, its classes and theirs."""
        if mention.is_class:
            out = {f"class:{x}" for c in mention.class_ids for x in self._descendants(c)}
            return out | {f"drug:{m}" for c in mention.class_ids for m in self.kb.members(c)}
        out = {f"drug:{i}" for i in mention.ingredients}
        for ingredient in mention.ingredients:
            for c in self.kb.classes_of.get(ingredient, ()):
                out |= {f"class:{x}" for x in self._ancestors(c)}
        return out

    @staticmethod
    def _entities(mention: DrugMention) -> set[str]:
        """What a mention names: a class word its class, a drug its ingredients (not the classes they are in)."""
        if mention.is_class:
            return {f"class:{c}" for c in mention.class_ids}
        return {f"drug:{i}" for i in mention.ingredients}

    def _ancestors(self, class_id: str) -> set[str]:
        out = {class_id}
        for parent, children in self.kb.class_children.items():
            if class_id in children and parent not in out:
                out |= self._ancestors(parent)
        return out

    def _descendants(self, class_id: str) -> set[str]:
        out = {class_id}
        for child in self.kb.class_children.get(class_id, ()):
            out |= self._descendants(child)
        return out

    @staticmethod
    def _overall(assessment: Assessment) -> Verdict:
        if not assessment.asked:
            return Verdict.INSUFFICIENT_DATA  # nothing to compare: "we need two drugs"
        return max((p.verdict for p in assessment.asked), key=lambda v: _VERDICT_ORDER[v])

    # ---- a question about one drug -------------------------------------------------------------------

    def _topic(self, query: Query, candidates: list[AssessedDrug], documents: Sequence[DocumentContext]) -> Topic:
        sections = TOPIC_SECTIONS.get(query.intent, TOPIC_SECTIONS["other"])
        drug = next((d for d in candidates if d.mention.recognized and d.mention.ingredients), None)
        topic = Topic(intent=query.intent, drug=drug, sections=sections)
        if drug is None:
            return topic
        words = _TOPIC_WORDS.get(query.intent)
        # The user's own document first (when it is about this drug), then our label passages.
        for doc in documents:
            if doc.document_id != drug.document_id and drug.origin == "document":
                continue
            if not any(set(m.ingredients) & set(drug.mention.ingredients) for m in doc.mentions):
                continue
            own = [ev for ev in doc.citable_sentences() if (ev.field or "") in sections]
            topic.passages += _answering(own, words)[:2]
        if not topic.passages:
            refs = [f"drug:{i}" for i in drug.mention.ingredients]
            found = [p for p in self.kb.passages(refs) if p.section in sections and p.kind != "interaction"]
            found.sort(key=lambda p: (sections.index(p.section), p.lang != query.language, p.id))
            evidence = [_passage_evidence(p) for p in found[:6]]
            topic.passages += _answering(evidence, words)[: 2 - len(topic.passages)]
        return topic


def _answering(evidence: list[Evidence], words: re.Pattern[str] | None) -> list[Evidence]:
    """The sentences that answer a topic, at most two per piece of evidence: those with the topic's words when it
    has some (none of them is an honest "not found"), else the section's opening sentences."""
    out = []
    for ev in evidence:
        sentences = split_sentences(ev.text) or [ev.text]
        chosen = [s for s in sentences if words.search(s)] if words is not None else sentences
        if chosen:
            text = " ".join(chosen[:2]) if ev.document_id is None else chosen[0]
            out.append(replace(ev, text=text) if text != ev.text else ev)
    return out


def _passage_evidence(p: Passage) -> Evidence:
    return Evidence(
        text=p.text,
        source=p.source,
        title=p.title,
        license=p.license,
        record=p.id,
        refs=p.refs,
        field=p.section,
    )


def _bare_minor(f: Interaction) -> bool:
    """A finding that is no reason for "caution" by itself, only listed as what it is: graded minor (by any source,
    after reconciliation), or passive (an ungraded line no source explains, from a database or consensus list)."""
    return f.severity is Severity.MINOR or f.passive


def _key(f: Interaction) -> tuple[str, str]:
    return (f.a, f.b) if f.a <= f.b else (f.b, f.a)


def _identity(d: AssessedDrug) -> tuple[str, ...]:
    m = d.mention
    return m.ingredients or tuple(f"class:{c}" for c in m.class_ids) or (m.text.casefold(),)


def _same(d: AssessedDrug, others: Sequence[AssessedDrug]) -> bool:
    return any(_identity(d) == _identity(o) for o in others)


def _distinct(drugs: Sequence[AssessedDrug]) -> list[AssessedDrug]:
    out: list[AssessedDrug] = []
    for d in drugs:
        if not _same(d, out):
            out.append(d)
    return out
