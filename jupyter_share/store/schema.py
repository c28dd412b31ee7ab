"""The store's tables as the newest schema has them (`migrations` builds and upgrades them)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

resources = Table(
    "resources",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(128), nullable=False),
    Column("owner", String(128), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("spec", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("owner", "kind", "name", name="uq_resources_owner_kind_name"),
    Index("ix_resources_owner_kind_created", "owner", "kind", "created_at"),
)

grants = Table(
    "grants",
    metadata,
    Column(
        "resource_id", String(32), ForeignKey("resources.id", ondelete="CASCADE"), nullable=False
    ),
    Column("principal_type", String(8), nullable=False),
    Column("principal_name", String(128), nullable=False),
    Column("permission", Integer, nullable=False),
    Column("granted_by", String(128), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=True),
    PrimaryKeyConstraint("resource_id", "principal_type", "principal_name", name="pk_grants"),
    Index("ix_grants_principal", "principal_type", "principal_name", "resource_id"),
    Index("ix_grants_expires_at", "expires_at"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("resource_id", String(32), nullable=False),
    Column("kind", String(16), nullable=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("principal", String(140), nullable=True),
    Column("permission", String(16), nullable=True),
    Column("address", String(64), nullable=True),
    Index("ix_audit_resource", "resource_id", "id"),
    Index("ix_audit_at", "at"),
)

links = Table(
    "links",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("resource_id", String(32), nullable=False),
    Column("principal_type", String(8), nullable=False),
    Column("principal_name", String(128), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_links_grant", "resource_id", "principal_type", "principal_name"),
)

requests = Table(
    "requests",
    metadata,
    Column(
        "resource_id", String(32), ForeignKey("resources.id", ondelete="CASCADE"), nullable=False
    ),
    Column("requester", String(128), nullable=False),
    Column("permission", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    PrimaryKeyConstraint("resource_id", "requester", name="pk_requests"),
    Index("ix_requests_requester", "requester"),
)

users = Table(
    "users",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("first_seen", DateTime, nullable=False),
    Column("last_seen", DateTime, nullable=False),
)
