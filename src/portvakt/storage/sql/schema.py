"""The SQL tables of the domain (SQLAlchemy Core); migrations/versions must create exactly these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData()

# Keys compare and sort by code point on every backend (PostgreSQL's default collation may not).
Key = sa.String().with_variant(sa.String(collation="C"), "postgresql")
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; SQLite stores them naive, so they are re-tagged as UTC on read."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; store the UTC instant."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return aware UTC whatever the driver gave."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, UtcDateTime(), nullable=nullable)


organisations = sa.Table(
    "organisations", metadata,
    sa.Column("orgno", Key, primary_key=True),
    sa.Column("name", sa.Text(), nullable=False),
    _ts("created"),
)

clients = sa.Table(
    "clients", metadata,
    sa.Column("client_id", Key, primary_key=True),
    sa.Column("client_name", sa.Text(), nullable=False),
    sa.Column("client_orgno", Key, nullable=False),
    sa.Column("supplier_orgno", Key, nullable=True),
    sa.Column("integration_type", sa.String(), nullable=False),
    sa.Column("scopes", sa.JSON(), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("client_uri", sa.Text(), nullable=True),
    sa.Column("application_type", sa.String(), nullable=False),
    sa.Column("token_endpoint_auth_method", sa.String(), nullable=False),
    sa.Column("grant_types", sa.JSON(), nullable=False),
    sa.Column("access_token_lifetime", sa.Integer(), nullable=True),
    sa.Column("active", sa.Boolean(), nullable=False),
    _ts("created"),
    _ts("last_updated"),
    sa.Index("ix_clients_client_orgno", "client_orgno", "client_id"),
    sa.Index("ix_clients_supplier_orgno", "supplier_orgno", "client_id"),
)

client_keys = sa.Table(
    "client_keys", metadata,
    sa.Column("client_id", Key, sa.ForeignKey("clients.client_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kid", Key, primary_key=True),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("jwk", sa.JSON(), nullable=False),
    _ts("created"),
    _ts("expires"),
    sa.Column("origin", sa.String(16), nullable=True),  # how the key was made (docs/protocol.md §3.3)
    sa.Index("uq_client_keys_kid", "kid", unique=True),  # a kid names one key across all clients (A17)
)

scopes = sa.Table(
    "scopes", metadata,
    sa.Column("name", Key, primary_key=True),
    sa.Column("prefix", Key, nullable=False),
    sa.Column("subscope", Key, nullable=False),
    sa.Column("owner_orgno", Key, nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("long_description", sa.Text(), nullable=False),
    sa.Column("visibility", sa.String(), nullable=False),
    sa.Column("at_max_age", sa.Integer(), nullable=False),
    sa.Column("allowed_integration_types", sa.JSON(), nullable=False),
    sa.Column("accessible_for_all", sa.Boolean(), nullable=False),
    sa.Column("delegation_source", sa.Text(), nullable=True),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("platform_only", sa.Boolean(), nullable=False, server_default=sa.false()),
    _ts("created"),
    _ts("last_updated"),
    sa.Index("ix_scopes_owner_orgno", "owner_orgno", "name"),
)

scope_access = sa.Table(
    "scope_access", metadata,
    sa.Column("scope", Key, primary_key=True),
    sa.Column("consumer_orgno", Key, primary_key=True),
    sa.Column("owner_orgno", Key, nullable=False),
    sa.Column("state", sa.String(), nullable=False),
    _ts("created"),
    _ts("last_updated"),
    sa.Index("ix_scope_access_consumer_orgno", "consumer_orgno", "scope"),
)

prefixes = sa.Table(
    "prefixes", metadata,
    sa.Column("prefix", Key, primary_key=True),
    sa.Column("owner_orgno", Key, nullable=False),
)

delegation_sources = sa.Table(
    "delegation_sources", metadata,
    sa.Column("name", Key, primary_key=True),
    sa.Column("issuer", Key, nullable=False),
    _ts("created"),
    _ts("last_updated"),
    sa.UniqueConstraint("issuer", name="uq_delegation_sources_issuer"),
)

delegation_schemes = sa.Table(
    "delegation_schemes", metadata,
    sa.Column("scheme_id", Key, primary_key=True),
    sa.Column("owner_orgno", Key, nullable=False),
    sa.Column("scopes", sa.JSON(), nullable=False),
    sa.Column("title", sa.JSON(), nullable=False),
    sa.Column("description", sa.JSON(), nullable=False),
    _ts("created"),
    _ts("last_updated"),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Index("ix_delegation_schemes_owner_orgno", "owner_orgno", "scheme_id"),
)

# One row per scope a scheme names (schemes.scopes keeps their order): "schemes naming X" is an index lookup,
# and the primary key answers "does scheme S name X" for has_delegation.
delegation_scheme_scopes = sa.Table(
    "delegation_scheme_scopes", metadata,
    sa.Column("scheme_id", Key, sa.ForeignKey("delegation_schemes.scheme_id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("scope", Key, primary_key=True),
    sa.Index("ix_delegation_scheme_scopes_scope", "scope", "scheme_id"),
)

# Revoking keeps the row. has_delegation looks up (supplier, consumer), then each scheme by primary key.
delegations = sa.Table(
    "delegations", metadata,
    sa.Column("delegation_id", Key, primary_key=True),
    sa.Column("consumer_orgno", Key, nullable=False),
    sa.Column("supplier_orgno", Key, nullable=False),
    sa.Column("scheme_id", Key, sa.ForeignKey("delegation_schemes.scheme_id"), nullable=False),
    _ts("created"),
    sa.Column("created_by", sa.Text(), nullable=True),
    _ts("revoked", nullable=True),
    sa.Column("revoked_by", sa.Text(), nullable=True),
    sa.Index("ix_delegations_supplier_consumer", "supplier_orgno", "consumer_orgno"),
    sa.Index("ix_delegations_consumer_orgno", "consumer_orgno"),
    sa.Index("ix_delegations_scheme_id", "scheme_id"),
)

# Portal accounts: the argon2 hash only, never a password.
people = sa.Table(
    "people", metadata,
    sa.Column("username", Key, primary_key=True),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("mobile", sa.String(), nullable=False),
    sa.Column("password_hash", sa.Text(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    _ts("created"),
    _ts("updated"),
)

# One row per role a person holds for an organisation; "people of org X" is a range scan of the index.
person_roles = sa.Table(
    "person_roles", metadata,
    sa.Column("username", Key, sa.ForeignKey("people.username", ondelete="CASCADE"), primary_key=True),
    sa.Column("orgno", Key, primary_key=True),
    sa.Column("role", Key, primary_key=True),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Index("ix_person_roles_orgno", "orgno", "username"),
)

def _signing_key_table(name: str) -> sa.Table:
    """A table of signing keys (models.SigningKey): the private half only encrypted under the key-encryption key."""
    return sa.Table(
        name, metadata,
        sa.Column("kid", Key, primary_key=True),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("encrypted_private_key", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        _ts("created"),
        _ts("activated", nullable=True),
        _ts("retired", nullable=True),
        _ts("delete_after", nullable=True),
    )


signing_keys = _signing_key_table("signing_keys")

# The system register (docs/protocol.md §6.1): a deleted system is kept (soft delete). client_ids keeps the system's
# client ids in order; system_client_ids has one row per client id of the systems NOT deleted only, so its unique
# index on the lower-cased id is "one system not deleted per client id, compared without case", and deleting a
# system (removing its rows) frees its ids.
systems = sa.Table(
    "systems", metadata,
    sa.Column("system_id", Key, primary_key=True),
    sa.Column("internal_id", Key, nullable=False),
    sa.Column("vendor_orgno", Key, nullable=False),
    sa.Column("name", sa.JSON(), nullable=False),
    sa.Column("description", sa.JSON(), nullable=False),
    sa.Column("rights", sa.JSON(), nullable=False),
    sa.Column("access_packages", sa.JSON(), nullable=False),
    sa.Column("client_ids", sa.JSON(), nullable=False),
    sa.Column("allowed_redirect_urls", sa.JSON(), nullable=False),
    sa.Column("is_visible", sa.Boolean(), nullable=False),
    sa.Column("deleted", sa.Boolean(), nullable=False),
    _ts("created"),
    _ts("last_updated"),
    sa.Index("uq_systems_internal_id", "internal_id", unique=True),
    sa.Index("ix_systems_vendor_orgno", "vendor_orgno", "system_id"),
)

system_client_ids = sa.Table(
    "system_client_ids", metadata,
    sa.Column("system_id", Key, sa.ForeignKey("systems.system_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("client_id", Key, primary_key=True),
    sa.Column("client_id_folded", Key, nullable=False),
    sa.Index("uq_system_client_ids_folded", "client_id_folded", unique=True),
)

# Requests a customer approves or rejects (docs/protocol.md §6.2); deleting one keeps the row (deleted).
system_user_requests = sa.Table(
    "system_user_requests", metadata,
    sa.Column("request_id", Key, primary_key=True),
    sa.Column("user_type", sa.String(), nullable=False),
    sa.Column("system_id", Key, sa.ForeignKey("systems.system_id"), nullable=False),
    sa.Column("vendor_orgno", Key, nullable=False),
    sa.Column("party_orgno", Key, nullable=False),
    sa.Column("external_ref", Key, nullable=False),
    sa.Column("integration_title", sa.Text(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("rights", sa.JSON(), nullable=False),
    sa.Column("access_packages", sa.JSON(), nullable=False),
    sa.Column("redirect_url", sa.Text(), nullable=True),
    sa.Column("escalated", sa.Boolean(), nullable=False),
    sa.Column("decided_by", sa.Text(), nullable=True),
    sa.Column("system_user_id", Key, nullable=True),
    sa.Column("deleted", sa.Boolean(), nullable=False),
    _ts("created"),
    _ts("last_updated"),
    sa.Index("ix_system_user_requests_key", "system_id", "party_orgno", "external_ref", "user_type"),
    sa.Index("ix_system_user_requests_system", "system_id", "user_type", "created", "request_id"),
)

# System users (docs/protocol.md §6.2): seq, assigned by the database, orders the paged lists and picks the first
# of find_system_user, which ix_system_users_owner_ref serves (owner, external_ref, then by seq).
system_users = sa.Table(
    "system_users", metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("system_user_id", Key, nullable=False),
    sa.Column("user_type", sa.String(), nullable=False),
    sa.Column("system_id", Key, sa.ForeignKey("systems.system_id"), nullable=False),
    sa.Column("vendor_orgno", Key, nullable=False),
    sa.Column("owner_orgno", Key, nullable=False),
    sa.Column("external_ref", Key, nullable=False),
    sa.Column("integration_title", sa.Text(), nullable=False),
    sa.Column("rights", sa.JSON(), nullable=False),
    sa.Column("access_packages", sa.JSON(), nullable=False),
    sa.Column("created_by", sa.Text(), nullable=True),
    sa.Column("request_id", Key, nullable=True),
    sa.Column("deleted", sa.Boolean(), nullable=False),
    _ts("created"),
    _ts("last_updated"),
    sa.UniqueConstraint("system_user_id", name="uq_system_users_system_user_id"),
    sa.Index("ix_system_users_owner_ref", "owner_orgno", "external_ref", "seq"),
    sa.Index("ix_system_users_system_id", "system_id", "seq"),
    sqlite_autoincrement=True,
)

# The clients an agent system user may act for (docs/protocol.md §6.4); removing one deletes its row.
agent_clients = sa.Table(
    "agent_clients", metadata,
    sa.Column("system_user_id", Key, sa.ForeignKey("system_users.system_user_id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("client_orgno", Key, primary_key=True),
    _ts("added"),
    sa.Column("added_by", sa.Text(), nullable=True),
)

# Client relationships (docs/protocol.md §6.4), the operator's mirror of Enhetsregisteret's roles: the client has
# registered the facilitator in the role; "the facilitator's clients" is a range scan of the index.
client_relationships = sa.Table(
    "client_relationships", metadata,
    sa.Column("client_orgno", Key, sa.ForeignKey("organisations.orgno"), primary_key=True),
    sa.Column("facilitator_orgno", Key, sa.ForeignKey("organisations.orgno"), primary_key=True),
    sa.Column("role", Key, primary_key=True),
    _ts("created"),
    sa.Column("created_by", sa.Text(), nullable=True),
    sa.Index("ix_client_relationships_facilitator", "facilitator_orgno", "client_orgno"),
)

# The Altinn side's own signing keys (docs/protocol.md §6.7): the same columns as signing_keys.
altinn_signing_keys = _signing_key_table("altinn_signing_keys")

audit_events = sa.Table(
    "audit_events", metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    _ts("at"),
    sa.Column("actor_orgno", Key, nullable=True),
    sa.Column("actor_client_id", Key, nullable=True),
    sa.Column("actor_person", Key, nullable=True),
    sa.Column("action", sa.String(), nullable=False),
    sa.Column("entity_kind", sa.String(), nullable=False),
    sa.Column("entity_key", sa.Text(), nullable=False),
    sa.Column("org_scope", sa.JSON(), nullable=False),
    sa.Column("before", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("after", sa.JSON(none_as_null=True), nullable=True),
    sqlite_autoincrement=True,
)

# One row per organisation that may see an event: "events visible to org X, newest first" is a range scan.
audit_event_orgs = sa.Table(
    "audit_event_orgs", metadata,
    sa.Column("orgno", Key, primary_key=True),
    sa.Column("seq", Seq, sa.ForeignKey("audit_events.seq", ondelete="CASCADE"), primary_key=True),
)

changes = sa.Table(
    "changes", metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("key", sa.Text(), nullable=False),
    _ts("at"),
    sa.Index("ix_changes_at", "at"),
    sqlite_autoincrement=True,
)

# The replay cache's table (written by replay.py on raw connections): `expires` in whole epoch seconds.
# No index on expires: every insert would pay for it, and purge deletes faster in key order by scanning.
used_grants = sa.Table(
    "used_grants", metadata,
    sa.Column("key", sa.LargeBinary(32), primary_key=True),
    sa.Column("expires", sa.BigInteger(), nullable=False),
    sqlite_with_rowid=False,
)
