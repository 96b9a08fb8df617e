"""Shared fixtures: keys made once per session, a fixed clock, a wired app on the memory store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from portvakt.domain import usecases as uc
from portvakt.domain.audit import Actor
from portvakt.domain.bootstrap import bootstrap_operator
from portvakt.domain.clock import FixedClock
from portvakt.domain.models import AccessState, IntegrationType, Scope
from portvakt.jose import PrivateKeyHandle, Signer
from portvakt.settings import Settings
from portvakt.storage.memory import MemoryStore
from portvakt.wiring import Overrides, assemble

pytest_plugins = ["tests.conftest_pg", "tests.conftest_keys", "tests.conftest_redis"]

ISSUER = "http://portvakt.test/"
PROVIDER = "974760673"
VENDOR = "314330897"
CONSUMER = "310838128"
OTHER = "910753614"
OPERATOR = "991825827"
OP = Actor.operator("test")


@pytest.fixture(scope="session")
def rsa_keys() -> list[PrivateKeyHandle]:
    """Three RSA-2048 keys, made once (key generation is slow)."""
    return [PrivateKeyHandle.generate(2048) for _ in range(3)]


@dataclass
class World:
    """A memory-store server with a provider, a vendor client and a consumer; helpers to make grants."""

    store: MemoryStore
    clock: FixedClock
    http: TestClient
    key: PrivateKeyHandle
    client_id: str
    runtime: Any
    extra: dict[str, Any] = field(default_factory=dict)

    def claims(self, **over: Any) -> dict[str, Any]:
        now = int(self.clock.now().timestamp())
        c: dict[str, Any] = {"aud": ISSUER, "iss": self.client_id, "scope": "brreg:test/read", "iat": now,
                             "exp": now + 60, "jti": str(uuid.uuid4())}
        c.update(over)
        return {k: v for k, v in c.items() if v is not None}

    def grant(self, key: PrivateKeyHandle | None = None, kid: str | None = None, alg: str = "RS256",
              header: dict[str, Any] | None = None, **over: Any) -> str:
        k = key or self.key
        return Signer(k, alg=alg, kid=kid or self.key.kid).sign(self.claims(**over), header=header)

    def post(self, assertion: str | None, **form: str) -> Any:
        data = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"}
        if assertion is not None:
            data["assertion"] = assertion
        data.update(form)
        return self.http.post("/token", data=data)

    def change(self) -> Any:
        """A unit of work that refreshes the token service's cache after commit."""
        return _Refreshing(self)


class _Refreshing:
    def __init__(self, world: World) -> None:
        self.world = world
        self.cm: Any = None

    def __enter__(self) -> Any:
        self.cm = self.world.store.begin()
        return self.cm.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self.cm.__exit__(*exc)
        self.world.runtime.registry.refresh()


def seed(store: MemoryStore, key: PrivateKeyHandle, now: datetime) -> str:
    """Operator, provider with scopes, vendor with one maskinporten client and key, consumer with access."""
    with store.begin() as uow:
        bootstrap_operator(uow, OPERATOR, "Operator", now)
        for orgno, name in ((PROVIDER, "Provider"), (VENDOR, "Vendor"), (CONSUMER, "Consumer"), (OTHER, "Other")):
            uc.add_org(uow, orgno, name, OP, now)
        uc.assign_prefix(uow, "brreg", PROVIDER, OP, now)
        for sub, kw in (("test/read", {}), ("test/open", {"accessible_for_all": True}),
                        ("test/short", {"at_max_age": 30}),
                        ("test/virksys", {"allowed_integration_types": ("altinn_virksys",)}),
                        ("test/delegable", {"delegation_source": "https://altinn.test/"})):
            uc.put_scope(uow, Scope("brreg", sub, PROVIDER, f"Test {sub}", now, now, **kw), OP, now, create=True)
        uc.set_access(uow, "brreg:test/read", VENDOR, AccessState.APPROVED, OP, now)
        uc.set_access(uow, "brreg:test/short", VENDOR, AccessState.APPROVED, OP, now)
        uc.set_access(uow, "brreg:test/delegable", CONSUMER, AccessState.APPROVED, OP, now)
        client = uc.new_client(uow, client_name="Vendor system", client_orgno=VENDOR,
                               integration_type=IntegrationType.MASKINPORTEN,
                               scopes=["brreg:test/read", "brreg:test/open", "brreg:test/short",
                                       "brreg:test/delegable"], actor=OP, now=now)
        uc.replace_client_keys(uow, client.client_id, [(key.kid, key.public_jwk)], OP, now)
    return client.client_id


@pytest.fixture
def world(rsa_keys: list[PrivateKeyHandle]) -> Iterator[World]:
    """A fresh server (token service and Altinn side) on the memory store, with a fixed clock at T0."""
    store = MemoryStore()
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock(now)
    client_id = seed(store, rsa_keys[0], now)
    settings = Settings(issuer=ISSUER, data_dir="/nonexistent")
    app = assemble(settings, ("token", "altinn"), Overrides(store=store, clock=clock, kek=b"test-kek"))
    with TestClient(app, base_url="http://portvakt.test") as http:
        yield World(store, clock, http, rsa_keys[0], client_id, app.runtime)
