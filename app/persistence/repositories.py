"""Owner-scoped reads and writes of documents, their retrieval chunks and conversations. Every method takes the
owner and filters on it, so a row of another owner is indistinguishable from a row that does not exist (both raise
NotFound).

Each write is one transaction: when a method returns, the row is committed; when it raises, nothing is. Writes that
read what they change lock it first (`Database.transaction(write=True)` and `FOR UPDATE` / `FOR SHARE`), so
concurrent requests, on one node or many, never act on a row another has changed meanwhile: two chat turns of one
conversation both keep their drugs, and an answer stored while its document is being deleted is stored without it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Delete, String, cast, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.answer import without_document
from app.errors import NotFound
from app.persistence.database import Database
from app.persistence.tables import (
    ConversationRow,
    DocumentChunkRow,
    DocumentImageRow,
    DocumentRow,
    MessageRow,
    OwnerIndexVersionRow,
    utcnow,
)
from knowledge.retrieval.chunks import Chunk


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

    def unindexed(self) -> dict[str, set[str]]:
        """Documents without a chunk row, by owner: stored before chunks lived in the database, or by a process
        killed between a document's commit and its indexing (start-up reconciliation indexes them)."""
        out: dict[str, set[str]] = {}
        with self.db.transaction() as s:
            found = s.execute(
                select(DocumentRow.owner, DocumentRow.id)
                .outerjoin(DocumentChunkRow, DocumentChunkRow.document_id == DocumentRow.id)
                .where(DocumentChunkRow.id.is_(None))
            )
            for owner, document_id in found:
                out.setdefault(owner, set()).add(document_id)
        return out

    def has_chunks(self, owner: str, document_id: str) -> bool:
        with self.db.transaction() as s:
            found = s.scalar(
                select(DocumentChunkRow.id)
                .where(DocumentChunkRow.owner == owner, DocumentChunkRow.document_id == document_id)
                .limit(1)
            )
        return found is not None

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
        with self.db.transaction(write=True) as s:
            # FOR UPDATE waits for a chat turn storing an answer that quotes this document (it holds the row FOR
            # SHARE): its message is then committed, and found below.
            row = s.scalars(
                select(DocumentRow).where(DocumentRow.owner == owner, DocumentRow.id == document_id).with_for_update()
            ).first()
            if row is None:
                raise NotFound(f"No document {document_id!r}. List yours with GET /v1/documents.")
            # Explicit, not only ON DELETE CASCADE: some databases run with foreign keys off.
            s.execute(delete(DocumentImageRow).where(DocumentImageRow.document_id == document_id))
            chunks = _deleted(s, delete(DocumentChunkRow).where(DocumentChunkRow.document_id == document_id))
            s.execute(delete(DocumentRow).where(DocumentRow.id == document_id))
            if chunks:
                _bump_index_version(s, owner)
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


def _quoted_documents(result: dict[str, Any]) -> list[str]:
    """The documents a stored answer cites or quotes a statement of."""
    cited = [c.get("document_id") for c in result.get("citations", [])]
    stated = [st.get("document_id") for pair in result.get("asked", []) for st in pair.get("document_statements", [])]
    return [d for d in [*cited, *stated] if isinstance(d, str) and d]


@dataclass(frozen=True)
class RecordedExchange:
    """What `record_exchange` stored: the conversation, its whole medication list after the merge, and the answer
    as stored (without what it quoted from a document deleted meanwhile)."""

    conversation_id: str
    medications: list[str]
    answer: str
    result: dict[str, Any]


def merge_medications(stored: Sequence[str], given: Sequence[str], limit: int | None = None) -> list[str]:
    """The stored list, then the given names it lacks (compared case-folded and trimmed), at most `limit`."""
    seen: dict[str, str] = {}
    for name in [*stored, *given]:
        clean = name.strip()
        if clean and clean.casefold() not in seen:
            seen[clean.casefold()] = clean
    merged = list(seen.values())
    return merged if limit is None else merged[:limit]


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
        max_medications: int | None = None,
    ) -> RecordedExchange:
        """Append a question and its answer (creating the conversation when no id is given) and add `medications`
        to the conversation's list, all in one transaction.

        The list is merged with the one stored at commit time, not replaced: a turn that ran at the same time and
        added another drug keeps it. A document deleted while the answer was being made is taken out of the answer
        before it is stored (its quotes become a notice), as the deletion does to answers stored before it.
        """
        with self.db.transaction(write=True) as s:
            if conversation_id is None:
                row = ConversationRow(id=new_id(), owner=owner, medications=[], created_at=utcnow())
                s.add(row)
            else:
                found = s.scalars(
                    select(ConversationRow)
                    .where(ConversationRow.owner == owner, ConversationRow.id == conversation_id)
                    .with_for_update()
                ).first()
                if found is None:
                    raise NotFound(f"No conversation {conversation_id!r}. Omit conversation_id to start a new one.")
                row = found
                row.updated_at = utcnow()
            merged = merge_medications(row.medications or [], medications, max_medications)
            if merged != row.medications:
                row.medications = merged
            # The turn's documents and any other the answer quotes (found by searching the owner's documents).
            # FOR SHARE: a deletion of one of them waits until this answer is committed, then redacts it.
            quoted = list(dict.fromkeys([*document_ids, *_quoted_documents(result)]))
            present = set(
                s.scalars(
                    select(DocumentRow.id)
                    .where(DocumentRow.owner == owner, DocumentRow.id.in_(quoted))
                    .with_for_update(read=True)
                )
            )
            for gone in (d for d in quoted if d not in present):
                answer, result = without_document(answer, result, gone)
            kept = [d for d in document_ids if d in present]
            s.flush()
            s.add(MessageRow(conversation_id=row.id, role="user", content=question, document_ids=kept))
            s.add(MessageRow(conversation_id=row.id, role="assistant", content=answer, result=result))
            return RecordedExchange(row.id, list(merged), answer, result)

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


def _deleted(s: Session, statement: Delete) -> int:
    """Rows a DELETE removed."""
    return int(getattr(s.execute(statement), "rowcount", 0) or 0)


def _bump_index_version(s: Session, owner: str) -> None:
    """One more change to the owner's chunks, in the transaction that made it (a row lock serialises bumps)."""
    insert = postgresql_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(OwnerIndexVersionRow).values(owner=owner, version=1)
    s.execute(
        statement.on_conflict_do_update(
            index_elements=[OwnerIndexVersionRow.owner], set_={"version": OwnerIndexVersionRow.version + 1}
        )
    )


class ChunkRepository:
    """Stored documents' retrieval chunks and their vectors: the `knowledge.retrieval.documents.ChunkStore` each
    node's in-memory owner indexes are built from. Chunks of a document that no longer exists are never stored."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def version(self, owner: str) -> int:
        with self.db.transaction() as s:
            return s.scalar(select(OwnerIndexVersionRow.version).where(OwnerIndexVersionRow.owner == owner)) or 0

    def load(self, owner: str, embedder: str, dim: int) -> tuple[int, list[Chunk], list[np.ndarray | None]]:
        """(version, chunks, vectors) of the owner, in storage order. A vector is None when it is missing, of
        another embedder or of the wrong size: the caller embeds that chunk again. The version is read first, so
        a change committed during the read makes the next check rebuild again, never keep a newer state as older."""
        with self.db.transaction() as s:
            version = s.scalar(select(OwnerIndexVersionRow.version).where(OwnerIndexVersionRow.owner == owner)) or 0
            rows = s.execute(
                select(DocumentChunkRow.chunk, DocumentChunkRow.embedder, DocumentChunkRow.vector)
                .where(DocumentChunkRow.owner == owner)
                .order_by(DocumentChunkRow.id)
            ).all()
        chunks: list[Chunk] = []
        vectors: list[np.ndarray | None] = []
        for data, name, blob in rows:
            chunk = Chunk.from_json(data)
            if chunk.owner != owner:  # never another owner's chunk in this owner's index
                continue
            chunks.append(chunk)
            usable = name == embedder and blob is not None and len(blob) == dim * 4
            vectors.append(np.frombuffer(blob, dtype=np.float32).copy() if usable else None)
        return version, chunks, vectors

    def add(self, owner: str, chunks: Sequence[Chunk], vectors: np.ndarray, embedder: str) -> int:
        """Store chunks with their vectors, replacing earlier chunks of the same documents, in one transaction;
        chunks of documents that do not exist (deleted meanwhile) are dropped. Returns how many were stored."""
        document_ids = {c.document_id for c in chunks if c.document_id}
        with self.db.transaction(write=True) as s:
            present = set(
                s.scalars(
                    select(DocumentRow.id)
                    .where(DocumentRow.owner == owner, DocumentRow.id.in_(sorted(document_ids)))
                    .with_for_update(read=True)
                )
            )
            s.execute(delete(DocumentChunkRow).where(DocumentChunkRow.document_id.in_(sorted(present))))
            stored = 0
            for chunk, vector in zip(chunks, vectors, strict=True):
                if chunk.document_id in present and chunk.owner == owner:
                    s.add(
                        DocumentChunkRow(
                            document_id=chunk.document_id,
                            owner=owner,
                            chunk_id=chunk.id,
                            chunk=chunk.to_json(),
                            embedder=embedder,
                            vector=np.ascontiguousarray(vector, dtype=np.float32).tobytes(),
                        )
                    )
                    stored += 1
            if present:
                _bump_index_version(s, owner)
        return stored

    def set_vectors(self, owner: str, chunk_ids: Sequence[str], vectors: np.ndarray, embedder: str) -> None:
        """Replace stored vectors (a repair, or a new embedder): the chunks are unchanged, so is the version."""
        with self.db.transaction() as s:
            for chunk_id, vector in zip(chunk_ids, vectors, strict=True):
                s.execute(
                    update(DocumentChunkRow)
                    .where(DocumentChunkRow.owner == owner, DocumentChunkRow.chunk_id == chunk_id)
                    .values(embedder=embedder, vector=np.ascontiguousarray(vector, dtype=np.float32).tobytes())
                )

    def delete_document(self, owner: str, document_id: str) -> int:
        with self.db.transaction(write=True) as s:
            removed = _deleted(
                s,
                delete(DocumentChunkRow).where(
                    DocumentChunkRow.owner == owner, DocumentChunkRow.document_id == document_id
                ),
            )
            if removed:
                _bump_index_version(s, owner)
        return removed

    def delete_owner(self, owner: str) -> None:
        with self.db.transaction(write=True) as s:
            s.execute(delete(DocumentChunkRow).where(DocumentChunkRow.owner == owner))
            _bump_index_version(s, owner)
