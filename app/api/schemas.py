"""The API's request and response shapes. Chat follows OpenAI's Chat Completions format (so every OpenAI client
works) and adds one top-level `rxlens` object with the structured result; everything else is RxLens' own.

Responses are validated from the library's `to_json()` output, so a change there that breaks the contract fails
loudly here rather than silently in a client.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from app.documents import MAX_LISTED_DRUGS, needs_confirmation

Point = list[float]
Quad = list[Point]

# ---- errors -----------------------------------------------------------------------------------------


class ErrorBody(BaseModel):
    """OpenAI's error shape; `code` is RxLens' stable reason, the one a client should branch on."""

    message: str = Field(description="What went wrong and what to do about it.")
    type: str = Field(
        examples=["invalid_request_error"],
        description="OpenAI's category: invalid_request_error, authentication_error, permission_error, "
        "rate_limit_error or server_error.",
    )
    param: str | None = Field(None, description="The request field at fault, e.g. 'messages.0.content', 'model'.")
    code: str = Field(examples=["not_found"])


class ErrorResponse(BaseModel):
    error: ErrorBody


# ---- knowledge: drugs, findings, citations -------------------------------------------------------------


class DrugOut(BaseModel):
    input: str
    recognized: bool
    ingredients: list[str]
    classes: list[str]
    corrected_from: str | None = None


class SourceOut(BaseModel):
    name: str
    record: str
    license: str
    severity: str = ""


class FindingOut(BaseModel):
    a: str
    b: str
    severity: str
    summary: str
    mechanism: str
    management: str
    via_class: str | None = None
    sources: list[SourceOut]
    asked: bool = Field(
        True,
        description="About a pair the user asked about; false for the other findings among the user's own medicines.",
    )
    evidence: Literal["label", "regulator_thesaurus", "consensus", "literature", "database"] = Field(
        "database", description="The kind of the strongest source asserting the pair."
    )
    agreeing: list[str] = Field([], description="The kinds of sources whose own grade is `severity`.")
    explained: bool = Field(False, description="Whether a source gives a mechanism or advice.")


class AssessedDrugOut(BaseModel):
    input: str
    ingredients: list[str]
    classes: list[str]
    origin: Literal["document", "question", "medications", "conversation"]


class DocumentStatementOut(BaseModel):
    document_id: str | None
    field: str | None
    text: str
    bbox: Quad | None = None
    level: Literal["avoid", "caution"]


class AskedPairOut(BaseModel):
    """One pair the user asked about: the verdict for it, how well our sources cover it, and what the user's own
    document says of it."""

    a: AssessedDrugOut
    b: AssessedDrugOut
    verdict: Literal["avoid", "caution", "no_known_interaction", "insufficient_data"]
    severity: str | None
    coverage: Literal["covered", "no_interaction_data", "unrecognized"]
    document_statements: list[DocumentStatementOut]


class TopicOut(BaseModel):
    """A question about one drug (its dose, side effects ...): which label sections answer it and whether our
    sources or the user's document hold them."""

    intent: str
    drug: str | None
    sections: list[str]
    found: bool


class DuplicateOut(BaseModel):
    kind: str
    what: str
    inputs: list[str]


class CitationOut(BaseModel):
    id: int
    source: str
    text: str
    license: str | None = None
    record: str | None = None
    document_id: str | None = None
    field: str | None = None
    bbox: Quad | None = Field(None, description="Where on the document's image the cited text stands.")


class CheckRequest(BaseModel):
    drugs: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(min_length=1, max_length=30)


class CheckResponse(BaseModel):
    drugs: list[DrugOut]
    interactions: list[FindingOut]
    duplicates: list[DuplicateOut]
    unrecognized: list[str]


class DrugHitOut(BaseModel):
    id: str
    kind: Literal["ingredient", "class"]
    name_en: str
    name_zh: str | None
    matched: str
    corrected_from: str | None = None


class DrugSearchResponse(BaseModel):
    query: str
    results: list[DrugHitOut]


# ---- documents ----------------------------------------------------------------------------------------


class LineOut(BaseModel):
    text: str
    confidence: float
    bbox: Quad
    page: int = 0


class FieldOut(BaseModel):
    value: str
    confidence: float
    bbox: list[Quad]
    lines: list[int]


class MedicationOut(BaseModel):
    name: str
    strength: str = ""
    dose: str = ""
    route: str = ""
    frequency_text: str = ""
    frequency: str = ""
    times_per_day: float | None = None
    as_needed: bool = False
    at_night: bool = False
    duration: str = ""
    quantity: str = ""
    confidence: float = 0.0
    needs_confirmation: bool | None = Field(
        None, description="Read with a confidence below the threshold: ask the user (null: the reading says nothing)."
    )
    field_confidence: dict[str, float] | None = Field(
        None, description="A confidence per field read (name, strength, dose, frequency), where the reading gives one."
    )
    repaired: list[str] = Field(
        [], description="Fields read only by putting a likely misread right ('121U' read as 12 IU): confirm them."
    )
    bbox: list[Quad] = []
    lines: list[int] = []


class DrugOnPageOut(BaseModel):
    text: str
    ingredients: list[str]
    bbox: list[Quad]
    corrected_from: str | None = None
    role: str = Field(
        "subject",
        description="subject: what the document is about (its product, a prescribed row); "
        "mentioned: only named inside a section (interactions, contraindications ...).",
    )
    section: str | None = Field(None, description="For a mentioned drug: the section it is named in.")
    lines: list[int] = []
    class_ids: list[str] = []
    kind: str = "unknown"
    matched: str = ""
    confidence: float = 0.0
    needs_confirmation: bool | None = Field(
        None, description="Read with a confidence below the threshold: ask the user (null: the reading says nothing)."
    )
    span: list[int] = []


class ParsedDocumentOut(BaseModel):
    """What the OCR pipeline read from one image: boxes are pixels of the image as served by /image."""

    doc_type: str
    lines: list[LineOut]
    fields: dict[str, FieldOut]
    medications: list[MedicationOut] = []
    drugs: list[DrugOnPageOut] = []
    warnings: list[str] = []
    width: int = 0
    height: int = 0
    pages: int = 1
    rotation: int = 0
    engine: str = ""
    timings_ms: dict[str, float] = {}
    near_duplicate: bool = Field(
        False,
        description="Not read by OCR: a resized or recompressed copy of a photo read before (a forwarded photo), "
        "answered with that reading scaled to this image.",
    )


class DocumentOut(ParsedDocumentOut):
    id: str
    sha256: str
    filename: str | None
    byte_size: int
    created_at: datetime
    image_url: str
    confirmed: ConfirmedListOut | None = Field(
        None,
        description="The drug list the user confirmed (PUT /v1/documents/{id}/drugs); it, not the reading, "
        "decides what the document is about.",
    )
    needs_confirmation: bool = Field(
        False,
        description="The drug list read holds an entry read with low confidence (or a name matching no drug) and "
        "the user has not confirmed the list: show it to them (GET /v1/documents/{id}/drugs).",
    )

    @model_validator(mode="before")
    @classmethod
    def _flag(cls, data: object) -> object:
        # Decided from the stored reading by the one function the drug list uses too.
        if isinstance(data, dict) and "lines" in data:
            return {**data, "needs_confirmation": needs_confirmation(data)}
        return data


class DocumentSummary(BaseModel):
    id: str
    doc_type: str
    filename: str | None
    byte_size: int
    created_at: datetime
    drugs: list[str]


class DocumentList(BaseModel):
    data: list[DocumentSummary]
    total: int


class DocumentUpload(BaseModel):
    """The JSON form of an upload, for clients that cannot send multipart."""

    image: str = Field(description="The image or PDF, base64-encoded (a data: URI is accepted too).")
    filename: str | None = Field(None, max_length=255)


class OcrRequest(BaseModel):
    image: str = Field(description="The image, base64-encoded (a data: URI is accepted too).")
    task_type: Literal["plain_ocr", "doc_parser"] = "doc_parser"


class OcrResponse(BaseModel):
    """A reading: with task_type doc_parser, the ParsedDocument JSON `rxlens ocr --json` prints (doc_type,
    lines, fields, medications, drugs, ...) plus the text; with plain_ocr, the lines and the text only."""

    task_type: Literal["plain_ocr", "doc_parser"]
    text: str = Field(description="The lines in reading order, one per line.")
    lines: list[LineOut]
    width: int
    height: int
    pages: int = 1
    rotation: int = 0
    engine: str = ""
    doc_type: str | None = None
    fields: dict[str, FieldOut] | None = None
    medications: list[MedicationOut] | None = None
    drugs: list[DrugOnPageOut] | None = None
    warnings: list[str] = []
    timings_ms: dict[str, float] = {}


# ---- chat (OpenAI Chat Completions) --------------------------------------------------------------------


class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class ImageUrl(BaseModel):
    url: str = Field(description="A data: URI (data:image/jpeg;base64,...), or http(s) when the server allows it.")
    detail: str | None = None


class ImagePart(BaseModel):
    type: Literal["image_url"]
    image_url: ImageUrl


ContentPart = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    @property
    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(p.text for p in self.content if isinstance(p, TextPart))

    @property
    def images(self) -> list[ImageUrl]:
        if not isinstance(self.content, list):
            return []
        return [p.image_url for p in self.content if isinstance(p, ImagePart)]


class RxLensOptions(BaseModel):
    """RxLens' extension of the request (the openai client sends it with `extra_body={"rxlens": {...}}`)."""

    conversation_id: str | None = Field(default=None, description="Continue a stored conversation; omit to start one.")
    document_ids: list[str] = Field(default=[], max_length=10, description="Stored documents the question is about.")
    medications: list[Annotated[str, Field(max_length=200)]] = Field(
        default=[], max_length=50, description="The user's medication list."
    )


class ChatCompletionRequest(BaseModel):
    # Sampling parameters (temperature, top_p, seed, ...) are accepted and ignored: the answer is decided by rules,
    # not sampled. The length limits are honoured (see routes/chat.py).
    model_config = ConfigDict(extra="ignore")

    model: str = Field("rxlens", description="The served model's id (GET /v1/models).")
    messages: list[ChatMessage] = Field(min_length=1, max_length=100)
    stream: bool = False
    max_tokens: int | None = Field(
        None,
        ge=1,
        description="Cut the answer at the last whole sentence within this many tokens (finish_reason "
        "'length'); below the answer's first line (its verdict and advice) the request is refused.",
    )
    max_completion_tokens: int | None = Field(None, ge=1, description="The same as max_tokens (OpenAI's new name).")
    rxlens: RxLensOptions = Field(default_factory=RxLensOptions)

    @property
    def token_limit(self) -> int | None:
        limits = [n for n in (self.max_tokens, self.max_completion_tokens) if n is not None]
        return min(limits) if limits else None


FinishReason = Literal["stop", "length"]


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class RxLensLogprobs(BaseModel):
    """A choice's `logprobs`: RxLens samples no tokens (`content` is null); it carries the structured result for
    clients that copy nothing else of a response, such as LangChain's ChatOpenAI (which puts a choice's
    `logprobs` into `AIMessage.response_metadata["logprobs"]`). The documents are left out (they are in the
    top-level `rxlens` object); everything else is the same."""

    content: None = None
    refusal: None = None
    rxlens: dict[str, object]


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: FinishReason = "stop"
    logprobs: RxLensLogprobs | None = None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class RxLensResult(BaseModel):
    """The structured answer: the verdict decided by rules, what it rests on, and the documents it read."""

    conversation_id: str
    verdict: Literal["avoid", "caution", "no_known_interaction", "insufficient_data", "info"]
    language: str
    intent: str
    urgent: bool
    drugs: list[DrugOut]
    asked: list[AskedPairOut] = Field(description="The pairs the question asked about, worst first.")
    findings: list[FindingOut]
    duplicates: list[DuplicateOut]
    unrecognized: list[str]
    citations: list[CitationOut]
    composer: str
    topic: TopicOut | None = None
    medications: list[str] = Field(description="The medication list the answer took into account.")
    documents: list[DocumentOut] = Field(description="The documents the answer read (attached or referenced).")

    @computed_field(  # type: ignore[prop-decorator]
        description="Ids of the documents read whose drug list the user should confirm before relying on the "
        "answer (GET, then PUT /v1/documents/{id}/drugs; the next question uses the confirmed list)."
    )
    @property
    def needs_confirmation(self) -> list[str]:
        return [d.id for d in self.documents if d.needs_confirmation]


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    rxlens: RxLensResult


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: FinishReason | None = None
    logprobs: RxLensLogprobs | None = None


ProgressStage = Literal["reading", "recognising", "checking", "writing"]


class Progress(BaseModel):
    """Where a streamed answer is while it is prepared (each stage once, in this order; a turn without a photo
    skips reading)."""

    stage: ProgressStage = Field(
        description="reading: the photos are read (OCR); recognising: the drugs on them and in the question are "
        "recognised; checking: the pairs are checked against the knowledge base; writing: the answer is worded."
    )


class RxLensProgress(BaseModel):
    progress: Progress


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    rxlens: RxLensResult | RxLensProgress | None = Field(
        None, description="{'progress': {'stage'}} on a progress chunk (empty delta); the result on the last chunk."
    )


# ---- models (OpenAI Models API) ----------------------------------------------------------------------------


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


# ---- health ---------------------------------------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok", "starting", "failed"]
    detail: str | None = None


# ---- conversations --------------------------------------------------------------------------------------


class MessageOut(BaseModel):
    role: str
    content: str
    document_ids: list[str]
    created_at: datetime


class ConversationOut(BaseModel):
    id: str
    medications: list[str]
    created_at: datetime
    updated_at: datetime
    messages: list[MessageOut]


# ---- a document's drug list: confirmation ---------------------------------------------------------------------


class ConfirmedDrugIn(BaseModel):
    """One drug as the user confirms or types it. Limits are checked by the route (400 with what to change)."""

    name: str = Field(description="The drug's name as the user confirms or corrects it (Chinese or English).")
    strength: str = Field("", description="e.g. '5mg'; optional.")
    dose: str = Field("", description="e.g. '1片'; optional.")
    frequency: str = Field("", description="e.g. 'qd', '每日一次'; optional.")


class ConfirmDrugsRequest(BaseModel):
    drugs: list[ConfirmedDrugIn] = Field(
        description=f"The whole list, 1 to {MAX_LISTED_DRUGS} entries: a drug left out is no longer one of the "
        "document's drugs, a drug added becomes one."
    )


class ListedDrugOut(BaseModel):
    name: str
    strength: str = ""
    dose: str = ""
    frequency: str = ""
    recognized: bool = Field(description="Whether the name resolves to a drug we know.")
    ingredients: list[str] = Field(description="Lower-case English INNs the name resolves to.")
    ingredient_names: dict[str, list[str]] = Field(
        {}, description="The ingredients as people know them, by language: {'zh': [...], 'en': [...]}."
    )
    corrected_from: str | None = None
    confidence: float | None = Field(None, description="The reading's confidence; null for a confirmed entry.")
    needs_confirmation: bool = Field(False, description="The reading was unsure of this entry.")


class ConfirmedListOut(BaseModel):
    """The stored confirmation: the list as the user sent it, and when."""

    drugs: list[ConfirmedDrugIn]
    at: datetime


class DrugListOut(BaseModel):
    """A document's drug list: as read (status read or needs_confirmation) or as the user confirmed it."""

    document_id: str
    doc_type: str
    status: Literal["read", "needs_confirmation", "confirmed"]
    confirmed_at: datetime | None = None
    drugs: list[ListedDrugOut]
    unrecognized: list[str] = Field(description="Names of the list that resolve to no drug: answered as unknown.")


class JobError(BaseModel):
    """Why a job failed: `code` is the API's error code (`no_text`, `bad_image`, `job_failed` ...)."""

    code: str
    message: str


class JobOut(BaseModel):
    """An upload's job (`POST /v1/documents?wait=false`, `GET /v1/jobs/{id}`)."""

    job_id: str
    status: Literal["queued", "running", "done", "failed"]
    document_id: str | None = Field(None, description="The stored document, once done.")
    created: bool | None = Field(None, description="Once done: false when the same bytes were stored before.")
    error: JobError | None = Field(None, description="Once failed: why, in the API's error codes.")
    attempts: int = Field(0, description="Runs started (more than one after a retry or a worker lost mid-job).")
