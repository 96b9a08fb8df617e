"""A registry for the real servers of these tests, made in-process (the CLI's seven commands cost a process each):
migrated and bootstrapped as `portvakt init` does, with a provider, a vendor, a scope, its access and a client."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from portvakt.domain import usecases as uc
from portvakt.domain.audit import Actor
from portvakt.domain.models import AccessState, IntegrationType, Scope
from portvakt.jose import PrivateKeyHandle
from portvakt.settings import Settings
from portvakt.wiring import prepare

PROVIDER = "974760673"
VENDOR = "314330897"
SCOPE = "brreg:test/read"  # what tests.api.test_serve.grant asks for


def seed_registry(data: Path, key: PrivateKeyHandle, database_url: str | None = None) -> str:
    """`portvakt init` on `data` (and `database_url`, default SQLite in it), then the client that signs with `key`;
    returns its client_id."""
    now = datetime.now(UTC)
    actor = Actor.operator("test")
    store = prepare(Settings(data_dir=data, database_url=database_url))
    try:
        with store.begin() as uow:
            uc.add_org(uow, PROVIDER, "Provider", actor, now)
            uc.add_org(uow, VENDOR, "Vendor", actor, now)
            uc.assign_prefix(uow, "brreg", PROVIDER, actor, now)
            uc.put_scope(uow, Scope("brreg", "test/read", PROVIDER, "Test", now, now), actor, now, create=True)
            uc.set_access(uow, SCOPE, VENDOR, AccessState.APPROVED, actor, now)
            client = uc.new_client(uow, client_name="sys", client_orgno=VENDOR,
                                   integration_type=IntegrationType.MASKINPORTEN, scopes=[SCOPE], actor=actor,
                                   now=now)
            uc.replace_client_keys(uow, client.client_id, [(key.kid, key.public_jwk)], actor, now)
    finally:
        store.close()
    return client.client_id
