"""Query understanding: the question's language and intent, the drugs it names, and what "this / 这药 / 它" means.

Everything here is rules over the lexicon's output: deterministic, explainable, and fast (no model call).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from knowledge.lexicon import Lexicon
from knowledge.models import DrugMention
from knowledge.normalize import has_cjk

# Questions that are not about a combination, most specific first. Each names the label sections that answer it.
_TOPICS: list[tuple[str, re.Pattern[str]]] = [
    (
        "overdose",
        re.compile(r"过量|吃多了|多吃了|解毒|拮抗|中毒|overdos|too much|too many|antidote|revers(e|al)|poison", re.I),
    ),
    ("pregnancy", re.compile(r"孕|怀孕|哺乳|喂奶|pregnan|breastfeed|breast-feed|nursing", re.I)),
    ("storage", re.compile(r"保存|储存|贮藏|存放|冰箱|过期|store|storage|refrigerat|expire|shelf", re.I)),
    (
        "how_to_take",
        re.compile(
            r"饭前|饭后|空腹|睡前|掰开|嚼|喝酒|饮酒|with food|empty stomach|before (a )?meal|after (a )?meal|"
            r"crush|chew|split|alcohol|bedtime",
            re.I,
        ),
    ),
    (
        "dosage",
        re.compile(
            r"剂量|用量|怎么吃|怎么服|吃几|吃多少|一次几|一天几|一日几|几次|几片|dose|dosage|how much|"
            r"how many|how often|times a day|how (do|should) i take",
            re.I,
        ),
    ),
    (
        "contraindication",
        re.compile(
            r"禁忌|禁用|不能用|不能吃|哪些人|什么人|contraindicat|who should not|should not take|unsafe for|"
            r"who (can't|cannot)",
            re.I,
        ),
    ),
    (
        "side_effects",
        re.compile(r"副作用|不良反应|反应|引起|导致|side effect|adverse|reaction|cause|make me|swelling", re.I),
    ),
    (
        "precautions",
        re.compile(
            r"注意|慎用|警告|运动|锻炼|warning|precaution|before (taking|starting|i start)|tell my doctor|"
            r"patients? (should )?know|exercise|marathon|sport|watch out",
            re.I,
        ),
    ),
]
# A follow-up that asks about another drug ("那和阿司匹林呢？", "And with aspirin?"): a combination question even
# when nothing earlier is known to pair it with (the answer then asks for the other drug).
_FOLLOW_UP = re.compile(r"^\s*(那|那么)?(和|跟|与|加上?).{1,12}呢|^\s*(and|what about|how about)\b", re.I)
_COMBINATION = re.compile(
    r"一起|同服|合用|同用|同时|搭配|相互作用|能和|可以和|和.{0,12}(吃|服|用)|together|combin|interact|mix|"
    r"\bwith\b|\band\b.*\b(take|taking)\b|same time|那.{0,10}呢|\bwhat about\b|\bhow about\b|^\s*and\b",
    re.I,
)
_URGENT = re.compile(
    r"过量|吃多了|吃错|误服|中毒|昏迷|抽搐|呼吸困难|喘不上|胸痛|胸口痛|大出血|便血|吐血|晕倒|过敏性休克|"
    r"overdose|took too many|too many pills|poison|unconscious|can'?t breathe|trouble breathing|chest pain|seizure|"
    r"fainted|bleeding heavily|anaphyla",
    re.I,
)
# The user asks about the documents they saved before, not only this conversation's.
_SAVED = re.compile(
    r"我(之前|以前)?(上传|保存|存)的|我的(药单|处方|说明书|文档|资料)|my (saved |uploaded |earlier )?"
    r"(documents|leaflets|prescriptions|uploads)|(saved|uploaded) (documents|leaflets|prescriptions)",
    re.I,
)
# "is it safe", "it's fine": an "it" that points at nothing.
_DUMMY_IT = re.compile(r"\b(?:is|was|will|would|does|do)\s+it\b|\bit\s+(?:is|was)\b|\bit's\b", re.I)
_THIS = re.compile(
    r"这药|这个药|此药|该药|这种药|这些药|这两种药|它|这个|这张|这份|这盒|处方上|单子上|药单上|图上|图里|照片上|照片里|"
    r"上面的药|this|these|it\b|the leaflet|the box|the medicine|the prescription|my prescription",
    re.I,
)
# A slot that names the document rather than a drug: "这张处方上的药", "单子上的这些药", "the drugs on this
# prescription", "the medicines in the photo". It stands for the document's subjects, never for an unknown drug.
_DOCUMENT_WORDS_ZH = r"处方单?|药单|单子|说明书|药盒|盒子|包装|图片?|照片|相片"
_DOCUMENT_REFERENCE_ZH = re.compile(
    rf"(?:这|那|该|此)?(?:张|份|个|盒|瓶|些|几种|两种|种)?(?:{_DOCUMENT_WORDS_ZH})?(?:上面?|里面?|中)?"
    r"(?:的|开的|写的|列的)?(?:这些|那些)?(?:药品?|药物)?"
)
_DOCUMENT_REFERENCE_EN = re.compile(
    r"(?:(?:all )?(?:the|these|those|this|that|my) )?(?:drugs?|medicines?|medications?|pills?|tablets?|meds)?"
    r"(?:\s*(?:on|in|from|of) )?(?:(?:the|this|that|my) )?(?:prescription|photo|picture|image|leaflet|box|list)?",
    re.I,
)


def names_the_document(text: str) -> bool:
    """Whether a slot's words point at the document ("这张处方上的药", "the drugs on this prescription")."""
    text = text.strip()
    if has_cjk(text):
        pointed = re.search(rf"这|那|该|此|上面|{_DOCUMENT_WORDS_ZH}", text)
        return bool(pointed) and bool(_DOCUMENT_REFERENCE_ZH.fullmatch(text))
    pointed = re.search(r"\b(?:this|these|those|that|prescription|photo|picture|image|leaflet|box)\b", text, re.I)
    return bool(pointed) and bool(_DOCUMENT_REFERENCE_EN.fullmatch(text))


@dataclass
class Query:
    """A question, read.

    Attributes:
        intent: combination, or the topic of a question about one drug (dosage, side_effects, contraindication,
            overdose, pregnancy, storage, how_to_take), or other.
        question_mentions: the drugs and classes the question names (unrecognised slot words included).
        refers_to_document: "这药 / this / it", or a question naming at most one drug while a document is there.
        document_subjects: what the conversation's documents are about (never the drugs they merely name).
        medication_mentions: the user's own medication list.
        discussed: drugs named earlier in the conversation ("那和阿司匹林呢？" is asked against them).
    """

    text: str
    language: str  # "zh" | "en"
    intent: str
    urgent: bool
    question_mentions: list[DrugMention]
    refers_to_document: bool
    document_subjects: list[DrugMention] = field(default_factory=list)
    medication_mentions: list[DrugMention] = field(default_factory=list)
    discussed: list[DrugMention] = field(default_factory=list)
    saved_documents: bool = False  # "my saved prescriptions": retrieval may search all of the user's documents
    missing_document: bool = False  # "this" / "这张处方上的药" with nothing (photo, list, earlier drug) to point at

    @property
    def is_combination(self) -> bool:
        return self.intent == "combination"


# Where a combination question puts its drug names: "take X with Y", "X and Y together", "X和Y能一起吃吗".
_SLOTS_EN = [
    re.compile(r"\btake\s+(?P<a>[\w\-]+)\s+(?:with|and)\s+(?:my\s+|his\s+|her\s+)?(?P<b>[\w\-]+)", re.I),
    re.compile(r"\b(?P<a>[\w\-]+)\s+(?:and|with|plus)\s+(?P<b>[\w\-]+)\s+(?:together|at the same time)", re.I),
    re.compile(r"\b(?:mix|combine)\s+(?P<a>[\w\-]+)\s+(?:and|with)\s+(?P<b>[\w\-]+)", re.I),
]
_SLOTS_ZH = [
    re.compile(
        r"(?P<a>[\u3400-\u9fffA-Za-z0-9\-]{2,12}?)(?:和|与|跟|同|加)(?P<b>[\u3400-\u9fffA-Za-z0-9\-]{2,12}?)"
        r"(?:能|可以|可不可以|一起|同时|合用|同服|有没有|会不会|吗)"
    ),
    re.compile(r"(?:能|可以)(?:和|与|跟)(?P<b>[\u3400-\u9fffA-Za-z0-9\-]{2,12}?)(?:一起|同时|合用|同服)"),
]
# A list of names: "take X, Y and Z", "X、Y和Z能一起吃吗".
_LIST_EN = re.compile(
    r"\b(?:take|taking|with|mix|combine)\s+(?P<list>[\w\-]+(?:\s*,\s*[\w\-]+)+,?\s+(?:and|or)\s+[\w\-]+)", re.I
)
_LIST_ZH = re.compile(
    r"(?P<list>[\u3400-\u9fffA-Za-z0-9\-]{2,12}(?:、[\u3400-\u9fffA-Za-z0-9\-]{2,12})+(?:和|与|跟)[\u3400-\u9fffA-Za-z0-9\-]{2,12}?)(?=能|可以|一起|同时|合用|同服|吗)"
)
_LIST_SPLIT = re.compile(r"\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+|、|和|与|跟", re.I)
_SLOT_PREFIX_ZH = re.compile(r"^(?:请问|我|我爸|我妈|老人|正在|在|吃|服用|用|的|这药|这个药|它)+")
_SLOT_SUFFIX_ZH = re.compile(r"(?:能|可以|可不可以|是否|还能|还可以|不能)+$")
_NOT_DRUG_WORDS = re.compile(
    r"^(?:this|these|it|them|that|my|his|her|medicine|medicines|pill|pills|drug|drugs|tablet|tablets|food|alcohol|"
    r"together|other|father|mother|dad|mom|wife|husband|he|she|i|you|we|take|taking|药|这药|这个药|这个|这种|这种药|它|一起|饭|吃|酒)$",
    re.I,
)


def unresolved_slots(question: str, found: Sequence[DrugMention], lexicon: Lexicon) -> list[DrugMention]:
    """Names in a combination question's drug slots that the lexicon does not know: "Zorblax" in "Can I take
    Zorblax with aspirin?". They become unrecognised mentions, so the answer cannot be an all-clear."""
    candidates: list[tuple[str, int, int]] = []  # (words, start, end) in a drug slot
    for match in _LIST_EN.finditer(question):
        candidates += _list_items(match)
    for match in _LIST_ZH.finditer(question):
        candidates += _list_items(match)
    for pattern in (*_SLOTS_EN, *_SLOTS_ZH):
        for match in pattern.finditer(question):
            candidates += [(match.group(k), *match.span(k)) for k in ("a", "b") if match.groupdict().get(k)]
    out: list[DrugMention] = []
    spans = [(m.start, m.end) for m in found]
    for raw, start, end in candidates:
        text = _SLOT_SUFFIX_ZH.sub("", _SLOT_PREFIX_ZH.sub("", raw)) if has_cjk(raw) else raw
        if len(text) < 2 or _NOT_DRUG_WORDS.match(text) or names_the_document(text):
            continue
        if any(s < end and start < e for s, e in spans):
            continue
        if lexicon.resolve(text).recognized or any(m.text == text for m in out):
            continue
        out.append(DrugMention(text=text, recognized=False, start=start, end=end))
    return out


def _list_items(match: re.Match[str]) -> list[tuple[str, int, int]]:
    """The names of a listed "X, Y and Z" with their offsets in the question."""
    listed, offset, cursor = match.group("list"), match.start("list"), 0
    items = []
    for word in _LIST_SPLIT.split(listed):
        where = listed.find(word, cursor)
        cursor = where + len(word)
        items.append((word, offset + where, offset + where + len(word)))
    return items


def detect_language(text: str) -> str:
    cjk = sum(1 for ch in text if "\u3400" <= ch <= "\u9fff")
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return "zh" if cjk and cjk * 3 >= latin else "en"


def _dedupe(mentions: Sequence[DrugMention]) -> list[DrugMention]:
    """One mention per distinct drug or class: the same ingredient named twice is not a pair to check."""
    seen: set[tuple[str, ...]] = set()
    out = []
    for m in mentions:
        key = m.ingredients or m.class_ids or (m.text,)
        if key not in seen:
            seen.add(key)
            out.append(m)
    return out


def understand(
    question: str,
    lexicon: Lexicon,
    document_subjects: Sequence[DrugMention] = (),
    medications: Sequence[str] = (),
    discussed: Sequence[DrugMention] = (),
    has_documents: bool = False,
) -> Query:
    """Read a question.

    Args:
        question: the user's words.
        lexicon: name resolution.
        document_subjects: the subjects of the attached or discussed documents.
        medications: the user's medication list, as typed.
        discussed: drugs named in earlier turns of the conversation.
        has_documents: whether the question comes with a document (a photo, a stored document), drugs found on
            it or not.
    """
    mentions = lexicon.find_mentions(question)
    mentions += unresolved_slots(question, mentions, lexicon)
    meds: list[DrugMention] = []
    for text in medications:
        if text.strip():
            found = lexicon.resolve_many(text)
            # A name on the user's list that does not resolve is an unrecognised drug, never dropped.
            meds += found or [DrugMention(text=text.strip(), recognized=False)]
    refers = bool(document_subjects) and (bool(_THIS.search(question)) or len(mentions) <= 1)
    saved = bool(_SAVED.search(question))
    pointing = [m.group(0) for m in _THIS.finditer(_DUMMY_IT.sub(" ", question))]
    missing_document = (
        bool(pointing) and not (has_documents or discussed or meds or saved) and len(_dedupe(mentions)) <= 1
    )
    anchors = (len(document_subjects) if refers else 0) + len(meds) + (len(discussed) if not refers else 0)
    entities = len(mentions) + anchors
    if (_COMBINATION.search(question) and entities >= 2 and (mentions or anchors >= 2)) or (
        mentions and _FOLLOW_UP.search(question)
    ):
        intent = "combination"
    else:
        intent = next((name for name, pattern in _TOPICS if pattern.search(question)), "other")
        if (
            intent == "other"
            and entities >= 2
            and len(mentions) >= 1
            and re.search(r"吗|\?|？|can|may|should|ok|okay|safe", question, re.I)
        ):
            intent = "combination"
    return Query(
        text=question,
        language="zh" if has_cjk(question) and detect_language(question) == "zh" else "en",
        intent=intent,
        urgent=bool(_URGENT.search(question)),
        question_mentions=_dedupe(mentions),
        refers_to_document=refers,
        document_subjects=_dedupe(document_subjects),
        medication_mentions=_dedupe(meds),
        discussed=_dedupe(discussed),
        saved_documents=saved,
        missing_document=missing_document,
    )
