"""Uploaded documents' chunks and vectors in the database (any node serves any owner), and each owner's index
version (a node's in-memory index of an owner is rebuilt when it differs).

Documents stored before this revision have no chunk rows; start-up reconciliation re-chunks and embeds them from
their stored reading (the per-node FAISS files under var/index/owners/ are no longer read).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_chunks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("document_id", sa.String(32), sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("chunk_id", sa.String(255), nullable=False),
        sa.Column("chunk", sa.JSON(), nullable=False),
        sa.Column("embedder", sa.String(128), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.UniqueConstraint("owner", "chunk_id", name="uq_document_chunks_owner_chunk"),
    )
    op.create_index("ix_document_chunks_document_id", "document_chunks", ["document_id"])
    op.create_index("ix_document_chunks_owner", "document_chunks", ["owner"])
    op.create_table(
        "owner_index_versions",
        sa.Column("owner", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("owner_index_versions")
    op.drop_table("document_chunks")
