"""The user-data schema. Every row that holds user data carries its owner, and every query filters on it.

Images live in their own table so that listing documents never reads image bytes, and so that deleting a
document removes its image in the same transaction (no orphan files on disk to clean up after a crash). A document's
retrieval chunks and their vectors live here too (`document_chunks`), so any node can search any owner's documents;
`owner_index_versions` counts each owner's changes, so a node knows when its in-memory index of them is stale.

The schema is made by the Alembic migrations in `migrations/versions/`, never by `create_all`: a change here needs
a new migration (see README, "Databases and migrations").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class DocumentRow(Base):
    __tablename__ = "documents"
    # One row per photo per owner: the same bytes uploaded twice are the same document (and need no second OCR).
    __table_args__ = (UniqueConstraint("owner", "sha256", name="uq_documents_owner_sha256"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(255))
    doc_type: Mapped[str] = mapped_column(String(32))
    parsed: Mapped[dict[str, Any]] = mapped_column(JSON)  # the pipeline's to_json(): lines, fields, drugs ...
    byte_size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    image: Mapped[DocumentImageRow] = relationship(
        back_populates="document", cascade="all, delete-orphan", single_parent=True, lazy="raise"
    )


class DocumentImageRow(Base):
    __tablename__ = "document_images"

    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    document: Mapped[DocumentRow] = relationship(back_populates="image")


class DocumentChunkRow(Base):
    """One retrievable piece of a stored document, with its vector from the named embedder (float32 bytes; empty
    when not embedded yet). Deleted with its document (ON DELETE CASCADE, and explicitly)."""

    __tablename__ = "document_chunks"
    __table_args__ = (UniqueConstraint("owner", "chunk_id", name="uq_document_chunks_owner_chunk"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    owner: Mapped[str] = mapped_column(String(128), index=True)
    chunk_id: Mapped[str] = mapped_column(String(255))
    chunk: Mapped[dict[str, Any]] = mapped_column(JSON)  # knowledge.retrieval.chunks.Chunk.to_json()
    embedder: Mapped[str] = mapped_column(String(128))
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class OwnerIndexVersionRow(Base):
    """Bumped in the transaction that adds or removes any of the owner's chunks: a node whose cached index was
    built at another version rebuilds it from `document_chunks`."""

    __tablename__ = "owner_index_versions"

    owner: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class ConversationRow(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128), index=True)
    medications: Mapped[list[str]] = mapped_column(JSON, default=list)  # the user's own list, as written
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    messages: Mapped[list[MessageRow]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", order_by="MessageRow.id"
    )


class MessageRow(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    document_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the assistant's structured answer
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    conversation: Mapped[ConversationRow] = relationship(back_populates="messages")
