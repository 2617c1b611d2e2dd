"""Owner-scoped reads and writes of documents and conversations. Every method takes the owner and filters on it,
so a row of another owner is indistinguishable from a row that does not exist (both raise NotFound).

Each write is one transaction: when a method returns, the row is committed; when it raises, nothing is.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, cast, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.answer import without_document
from app.errors import NotFound
from app.persistence.database import Database
from app.persistence.tables import ConversationRow, DocumentImageRow, DocumentRow, MessageRow, utcnow


def new_id() -> str:
    return uuid.uuid4().hex


class DocumentRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def find_by_sha256(self, owner: str, sha256: str) -> DocumentRow | None:
        with self.db.transaction() as s:
            return s.scalars(
                select(DocumentRow).where(DocumentRow.owner == owner, DocumentRow.sha256 == sha256)
            ).first()

    def add(
        self,
        owner: str,
        *,
        sha256: str,
        filename: str | None,
        doc_type: str,
        parsed: dict[str, Any],
        data: bytes,
        content_type: str,
    ) -> tuple[DocumentRow, bool]:
        """Store a read document with its image; returns (row, created). The same bytes again return the
        existing row: two concurrent uploads of one photo end as one document."""
        row = DocumentRow(
            id=new_id(),
            owner=owner,
            sha256=sha256,
            filename=filename,
            doc_type=doc_type,
            parsed=parsed,
            byte_size=len(data),
            created_at=utcnow(),
        )
        try:
            with self.db.transaction() as s:
                s.add(row)
                s.flush()  # the document row first: the image's foreign key points at it
                s.add(DocumentImageRow(document_id=row.id, content_type=content_type, data=data))
        except IntegrityError:
            existing = self.find_by_sha256(owner, sha256)
            if existing is None:
                raise
            return existing, False
        return row, True

    def list_owned(self, owner: str, limit: int = 50, offset: int = 0) -> tuple[list[DocumentRow], int]:
        with self.db.transaction() as s:
            total = s.scalar(select(func.count()).select_from(DocumentRow).where(DocumentRow.owner == owner)) or 0
            rows = s.scalars(
                select(DocumentRow)
                .where(DocumentRow.owner == owner)
                .order_by(DocumentRow.created_at.desc(), DocumentRow.id)
                .limit(limit)
                .offset(offset)
            ).all()
            return list(rows), total

    def ids_by_owner(self) -> dict[str, set[str]]:
        """Every stored document id, by owner (start-up reconciliation of the owners' indexes)."""
        out: dict[str, set[str]] = {}
        with self.db.transaction() as s:
            for owner, document_id in s.execute(select(DocumentRow.owner, DocumentRow.id)):
                out.setdefault(owner, set()).add(document_id)
        return out

    def ids_of(self, owner: str) -> set[str]:
        with self.db.transaction() as s:
            return set(s.scalars(select(DocumentRow.id).where(DocumentRow.owner == owner)))

    def get(self, owner: str, document_id: str) -> DocumentRow:
        with self.db.transaction() as s:
            row = s.scalars(
                select(DocumentRow).where(DocumentRow.owner == owner, DocumentRow.id == document_id)
            ).first()
        if row is None:
            raise NotFound(f"No document {document_id!r}. List yours with GET /v1/documents.")
        return row

    def get_many(self, owner: str, document_ids: Sequence[str]) -> list[DocumentRow]:
        return [self.get(owner, d) for d in dict.fromkeys(document_ids)]

    def image(self, owner: str, document_id: str) -> tuple[bytes, str]:
        with self.db.transaction() as s:
            found = s.execute(
                select(DocumentImageRow.data, DocumentImageRow.content_type)
                .join(DocumentRow, DocumentRow.id == DocumentImageRow.document_id)
                .where(DocumentRow.owner == owner, DocumentRow.id == document_id)
            ).first()
        if found is None:
            raise NotFound(f"No document {document_id!r}. List yours with GET /v1/documents.")
        return found[0], found[1]

    def set_confirmed(self, owner: str, document_id: str, confirmed: dict[str, Any]) -> DocumentRow:
        """Store the user's confirmation of a document's drug list inside its stored reading (the "confirmed" key
        of `parsed`; the table is unchanged), replacing an earlier one; returns the updated row."""
        with self.db.transaction() as s:
            row = s.scalars(
                select(DocumentRow)
                .where(DocumentRow.owner == owner, DocumentRow.id == document_id)
                .with_for_update()  # two confirmations at once: the later one wins whole
            ).first()
            if row is None:
                raise NotFound(f"No document {document_id!r}. List yours with GET /v1/documents.")
            row.parsed = {**row.parsed, "confirmed": confirmed}  # a new dict: the JSON column sees the change
        return row

    def delete(self, owner: str, document_id: str) -> DocumentRow:
        """Remove the document, its image, and what the owner's conversations quoted from it, in one
        transaction; returns what was removed."""
        with self.db.transaction() as s:
            row = s.scalars(
                select(DocumentRow).where(DocumentRow.owner == owner, DocumentRow.id == document_id)
            ).first()
            if row is None:
                raise NotFound(f"No document {document_id!r}. List yours with GET /v1/documents.")
            # Explicit, not only ON DELETE CASCADE: some databases run with foreign keys off.
            s.execute(delete(DocumentImageRow).where(DocumentImageRow.document_id == document_id))
            s.execute(delete(DocumentRow).where(DocumentRow.id == document_id))
            _forget_quotes(s, owner, document_id)
        self.db.forget_deleted()
        return row


def _forget_quotes(s: Session, owner: str, document_id: str) -> None:
    """Take a deleted document out of the owner's stored messages: the text their answers quoted from it, their
    citations of it, and its id in the questions that attached it."""
    # The ids are hex, so a text match finds the candidates without a JSON query each database spells its own way.
    mentioning = s.scalars(
        select(MessageRow)
        .join(ConversationRow, ConversationRow.id == MessageRow.conversation_id)
        .where(
            ConversationRow.owner == owner,
            cast(MessageRow.result, String).contains(document_id)
            | cast(MessageRow.document_ids, String).contains(document_id),
        )
    ).all()
    for message in mentioning:
        if document_id in message.document_ids:
            message.document_ids = [d for d in message.document_ids if d != document_id]
        if message.result is not None:
            message.content, message.result = without_document(message.content, message.result, document_id)


class ConversationRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, owner: str, conversation_id: str) -> ConversationRow:
        with self.db.transaction() as s:
            row = s.scalars(
                select(ConversationRow)
                .options(selectinload(ConversationRow.messages))
                .where(ConversationRow.owner == owner, ConversationRow.id == conversation_id)
            ).first()
        if row is None:
            raise NotFound(f"No conversation {conversation_id!r}. Omit conversation_id to start a new one.")
        return row

    def find_by_answer(self, owner: str, answer: str) -> str | None:
        """The owner's conversation that gave this answer last: a client that re-sends the history without the
        conversation id (as OpenAI clients do) still continues its conversation."""
        with self.db.transaction() as s:
            return s.scalars(
                select(MessageRow.conversation_id)
                .join(ConversationRow, ConversationRow.id == MessageRow.conversation_id)
                .where(ConversationRow.owner == owner, MessageRow.role == "assistant", MessageRow.content == answer)
                .order_by(MessageRow.id.desc())
                .limit(1)
            ).first()

    def list_owned(self, owner: str, limit: int = 50) -> list[ConversationRow]:
        with self.db.transaction() as s:
            return list(
                s.scalars(
                    select(ConversationRow)
                    .where(ConversationRow.owner == owner)
                    .order_by(ConversationRow.updated_at.desc())
                    .limit(limit)
                ).all()
            )

    def record_exchange(
        self,
        owner: str,
        conversation_id: str | None,
        *,
        question: str,
        document_ids: Sequence[str],
        answer: str,
        result: dict[str, Any],
        medications: Sequence[str],
    ) -> str:
        """Append a question and its answer (creating the conversation when no id is given) and store the
        medication list, all in one transaction. Returns the conversation id."""
        with self.db.transaction() as s:
            if conversation_id is None:
                row = ConversationRow(id=new_id(), owner=owner, medications=list(medications), created_at=utcnow())
                s.add(row)
            else:
                found = s.scalars(
                    select(ConversationRow).where(ConversationRow.owner == owner, ConversationRow.id == conversation_id)
                ).first()
                if found is None:
                    raise NotFound(f"No conversation {conversation_id!r}. Omit conversation_id to start a new one.")
                row = found
                row.medications = list(medications)
                row.updated_at = utcnow()
            s.flush()
            s.add(MessageRow(conversation_id=row.id, role="user", content=question, document_ids=list(document_ids)))
            s.add(MessageRow(conversation_id=row.id, role="assistant", content=answer, result=result))
            return row.id

    def delete(self, owner: str, conversation_id: str) -> None:
        with self.db.transaction() as s:
            found = s.scalars(
                select(ConversationRow.id).where(ConversationRow.owner == owner, ConversationRow.id == conversation_id)
            ).first()
            if found is None:
                raise NotFound(f"No conversation {conversation_id!r}.")
            s.execute(delete(MessageRow).where(MessageRow.conversation_id == conversation_id))
            s.execute(delete(ConversationRow).where(ConversationRow.id == conversation_id))
        self.db.forget_deleted()
