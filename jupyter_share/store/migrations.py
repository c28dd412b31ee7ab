"""Schema migrations of the store: numbered steps, applied in order on start, never a drop.

Each step is a function of an alembic `Operations` bound to one transaction; the version
reached is kept in the table `jupyter_share_schema`. A fresh store runs every step, so new and
upgraded stores go through the same code. Add a step at the end; never edit a released one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

VERSION_TABLE = "jupyter_share_schema"


def _v1_resources_grants_audit(op: Operations) -> None:
    op.create_table(
        "resources",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("owner", "kind", "name", name="uq_resources_owner_kind_name"),
    )
    op.create_index("ix_resources_owner_kind_created", "resources", ["owner", "kind", "created_at"])
    op.create_table(
        "grants",
        sa.Column(
            "resource_id",
            sa.String(32),
            sa.ForeignKey("resources.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("principal_type", sa.String(8), nullable=False),
        sa.Column("principal_name", sa.String(128), nullable=False),
        sa.Column("permission", sa.Integer, nullable=False),
        sa.Column("granted_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint(
            "resource_id", "principal_type", "principal_name", name="pk_grants"
        ),
    )
    op.create_index(
        "ix_grants_principal", "grants", ["principal_type", "principal_name", "resource_id"]
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("resource_id", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("principal", sa.String(140), nullable=True),
        sa.Column("permission", sa.String(16), nullable=True),
    )
    op.create_index("ix_audit_resource", "audit", ["resource_id", "id"])


def _v2_users_expiry_audit_kind(op: Operations) -> None:
    # v2: the standalone directory learns users from the store; purging expired grants
    # wants an index; history rows remember the kind of a resource that is gone.
    op.create_table(
        "users",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("first_seen", sa.DateTime, nullable=False),
        sa.Column("last_seen", sa.DateTime, nullable=False),
    )
    op.create_index("ix_grants_expires_at", "grants", ["expires_at"])
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=True))
    # Users already seen as owners or grantees are known users.
    op.execute(
        "INSERT INTO users (name, first_seen, last_seen) "
        "SELECT owner, MIN(created_at), MAX(updated_at) FROM resources GROUP BY owner"
    )


def _v3_links(op: Operations) -> None:
    # v3: personal links to a container. Only the hash of a link's secret is kept; a link
    # dies with its grant (foreign key), and keeps working when the grant's permission changes.
    op.create_table(
        "links",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("resource_id", sa.String(32), nullable=False),
        sa.Column("principal_type", sa.String(8), nullable=False),
        sa.Column("principal_name", sa.String(128), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id", "principal_type", "principal_name"],
            ["grants.resource_id", "grants.principal_type", "grants.principal_name"],
            name="fk_links_grant",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_links_grant", "links", ["resource_id", "principal_type", "principal_name"])


def _v4_requests(op: Operations) -> None:
    # v4: requests for a higher permission ("asking for more"). Only open ones are kept, one
    # per user and resource; approving, denying and withdrawing delete the row (the history
    # keeps what happened). They go with their resource.
    op.create_table(
        "requests",
        sa.Column(
            "resource_id",
            sa.String(32),
            sa.ForeignKey("resources.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("requester", sa.String(128), nullable=False),
        sa.Column("permission", sa.Integer, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("resource_id", "requester", name="pk_requests"),
    )
    op.create_index("ix_requests_requester", "requests", ["requester"])


def _v5_change_notify(op: Operations) -> None:
    # v5: PostgreSQL tells listeners of every change in the transaction that makes it: each
    # change writes one audit row, so a trigger on `audit` NOTIFYs with the row (ids, names,
    # the action: never a secret), delivered when (and only if) the transaction commits
    # (`changefeed.PostgresFeed`). SQLite has no NOTIFY: its watcher polls data_version.
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE OR REPLACE FUNCTION jupyter_share_notify() RETURNS trigger AS $$
        BEGIN
          PERFORM pg_notify('jupyter_share_changes', json_build_object(
            'id', NEW.id, 'resource_id', NEW.resource_id, 'kind', NEW.kind,
            'at', NEW.at, 'actor', NEW.actor, 'action', NEW.action,
            'principal', NEW.principal, 'permission', NEW.permission,
            'owner', (SELECT owner FROM resources WHERE id = NEW.resource_id))::text);
          RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER audit_notify AFTER INSERT ON audit "
        "FOR EACH ROW EXECUTE FUNCTION jupyter_share_notify()"
    )


def _v6_audit_address(op: Operations) -> None:
    # v6: a history row may carry the client address of a sign-in by personal link; rows
    # older than the retention time are swept by their time.
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("address", sa.String(64), nullable=True))
    op.create_index("ix_audit_at", "audit", ["at"])


STEPS: list[Callable[[Operations], None]] = [
    _v1_resources_grants_audit,
    _v2_users_expiry_audit_kind,
    _v3_links,
    _v4_requests,
    _v5_change_notify,
    _v6_audit_address,
]

LATEST = len(STEPS)


def current_version(conn: sa.Connection, lock: bool = False) -> int:
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return 0
    query = f"SELECT version FROM {VERSION_TABLE}"
    if lock and conn.dialect.name == "postgresql":
        # SQLite writers are already serialised by BEGIN IMMEDIATE.
        query += " FOR UPDATE"
    return conn.execute(sa.text(query)).scalar_one_or_none() or 0


#: The key of the PostgreSQL advisory lock that upgrades hold (any constant will do).
_PG_LOCK = 0x6A757079746572  # "jupyter"


def _serialise(conn: sa.Connection) -> None:
    """Hold off other upgrades until this transaction ends. SQLite writers are serialised by
    BEGIN IMMEDIATE already; on PostgreSQL two servers starting on a fresh database would both
    create the version table (and its row) and one would fail."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})


def upgrade(engine: Engine, target: int = LATEST) -> int:
    """Bring the store to `target`, one transaction per step; return the version reached."""
    with engine.connect() as conn:
        conn = conn.execution_options(share_write=True)
        with conn.begin():
            _serialise(conn)
            conn.execute(
                sa.text(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER NOT NULL)")
            )
            if conn.execute(sa.text(f"SELECT COUNT(*) FROM {VERSION_TABLE}")).scalar_one() == 0:
                conn.execute(sa.text(f"INSERT INTO {VERSION_TABLE} (version) VALUES (0)"))
            version = current_version(conn)
    if version > LATEST:
        raise RuntimeError(
            f"the store's schema (version {version}) is newer than this jupyter_share knows "
            f"({LATEST}): upgrade jupyter_share"
        )
    for number in range(version + 1, target + 1):
        with engine.connect() as conn:
            conn = conn.execution_options(share_write=True)
            with conn.begin():
                _serialise(conn)
                # Read under the write lock: another server may have upgraded meanwhile.
                version = current_version(conn, lock=True)
                if version >= number:
                    continue
                log.info("jupyter_share: upgrading the store's schema to version %d", number)
                STEPS[number - 1](Operations(MigrationContext.configure(conn)))
                conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version = :v"), {"v": number})
                version = number
    return version
