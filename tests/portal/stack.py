"""An in-process portvakt (memory store, real /token, /api/v1 and Altinn side) with the portal mounted at /portal."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from portvakt.altinn.passwords import Argon2PasswordHasher
from portvakt.api.altinn import TokenGate, create_altinn_app, mount_altinn
from portvakt.api.app import FastPath
from portvakt.api.runtime import Runtime
from portvakt.api.token import TokenEndpoint
from portvakt.api.v1.app import create_v1
from portvakt.domain import usecases as uc
from portvakt.domain.audit import Actor
from portvakt.domain.bootstrap import bootstrap_altinn, bootstrap_operator
from portvakt.domain.models import AccessState, PersonRole, PortalRole, Scope
from portvakt.domain.people import add_person
from portvakt.domain.portal_client import bootstrap_portal_client
from portvakt.jose import PrivateKeyHandle
from portvakt.oauth.bearer import local_validator
from portvakt.portal import PortalConfig, create_portal
from portvakt.sms import DevOutbox
from portvakt.storage.memory import MemoryStore

ISSUER = "http://portvakt.test/"
PORTAL_URL = "https://portal.test"
PORTAL_CLIENT = "portvakt-portal"
OPERATOR, PROVIDER, VENDOR, CONSUMER, OTHER = "991825827", "974760673", "314330897", "310838128", "910753614"
OP = Actor.operator("test")
OPEN_SCOPE, READ_SCOPE, DELEGABLE_SCOPE = "brreg:test/open", "brreg:test/read", "brreg:test/delegable"
#: username -> (password, name, mobile, roles)
PEOPLE: dict[str, tuple[str, str, str, tuple[PersonRole, ...]]] = {
    "ida@vendor.test": ("ida-password-1", "Ida Integrasjon", "+4790000001",
                        (PersonRole(VENDOR, PortalRole.INTEGRATION_RESPONSIBLE),)),
    "multi@vendor.test": ("multi-password-1", "Mia Mange", "+4790000002",
                          (PersonRole(VENDOR, PortalRole.INTEGRATION_RESPONSIBLE),
                           PersonRole(OTHER, PortalRole.INTEGRATION_RESPONSIBLE))),
    "tor@consumer.test": ("tor-password-1", "Tor Tilgang", "+4790000003",
                          (PersonRole(CONSUMER, PortalRole.ACCESS_MANAGER),)),
    "nobody@none.test": ("nobody-password-1", "No Roles", "+4790000004", ()),
}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CHEAP_HASHER = Argon2PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def seed(store: MemoryStore, portal_key: PrivateKeyHandle, now: datetime) -> None:
    """Operator and Altinn entries, the portal's client, a provider with scopes, a vendor, people."""
    with store.begin() as uow:
        bootstrap_operator(uow, OPERATOR, "Operator", now)
        bootstrap_altinn(uow, OPERATOR, now, source_issuer=ISSUER)
        for orgno, name in ((PROVIDER, "Provider"), (VENDOR, "Vendor AS"), (CONSUMER, "Consumer"),
                            (OTHER, "Other vendor")):
            uc.add_org(uow, orgno, name, OP, now)
        uc.assign_prefix(uow, "brreg", PROVIDER, OP, now)
        for name, kw in ((OPEN_SCOPE, {"accessible_for_all": True}), (READ_SCOPE, {}),
                         (DELEGABLE_SCOPE, {"delegation_source": ISSUER})):
            prefix, sub = name.split(":")
            uc.put_scope(uow, Scope(prefix, sub, PROVIDER, f"Test {sub}", now, now, **kw), OP, now, create=True)
        uc.set_access(uow, READ_SCOPE, VENDOR, AccessState.APPROVED, OP, now)
        for username, (password, name, mobile, roles) in PEOPLE.items():
            add_person(uow, CHEAP_HASHER, username=username, name=name, mobile=mobile, password=password,
                       roles=roles, actor=OP, now=now)
        bootstrap_portal_client(uow, OPERATOR, PORTAL_CLIENT, portal_key.public_jwk, now)


def server_app(rt: Runtime) -> FastPath:
    """The token service, /api/v1 and the Altinn side (as api.app.create_app, with a cheap password hasher)."""
    app = FastAPI()
    app.mount("/api/v1", create_v1(rt))
    tokens = TokenGate(local_validator(rt.keyring, rt.issuer, rt.clock), rt.portal_clients, "altinn")
    mount_altinn(app, create_altinn_app(rt.store, rt.clock, tokens, hasher=CHEAP_HASHER))
    return FastPath(app, TokenEndpoint(rt), rt.settings.limits)


class Recorder(httpx.AsyncBaseTransport):
    """Forwards the portal's API calls to the server app and keeps every request."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    def api_calls(self, method: str, path_part: str) -> list[httpx.Request]:
        """The recorded requests with this method whose path contains `path_part`."""
        return [r for r in self.requests if r.method == method and path_part in r.url.path]

    def bodies(self) -> bytes:
        """Every recorded request body, concatenated."""
        return b"\n".join(r.content for r in self.requests)


@dataclass
class Stack:
    """The server, the portal in front of it, a browser-like client and what the portal sent."""

    store: MemoryStore
    runtime: Runtime
    server: FastPath
    outbox: DevOutbox
    recorder: Recorder
    browser: TestClient
    config: PortalConfig
    extra: dict[str, Any] = field(default_factory=dict)

    def csrf(self, path: str = "/portal/login") -> str:
        """The CSRF token of the form on a page."""
        page = self.browser.get(path)
        found = CSRF.search(page.text)
        assert found, page.text[:500]
        return found.group(1)

    def login(self, username: str = "ida@vendor.test", password: str | None = None) -> httpx.Response:
        """Log in through the form (following no redirect)."""
        token = self.csrf()
        secret = password if password is not None else PEOPLE[username][0]
        resp: httpx.Response = self.browser.post(
            "/portal/login", data={"username": username, "password": secret, "csrf_token": token},
            follow_redirects=False)
        return resp

    def post(self, path: str, data: dict[str, Any], **kwargs: Any) -> httpx.Response:
        """A form POST with the session's CSRF token."""
        token = self.csrf("/portal/")
        resp: httpx.Response = self.browser.post(path, data={**data, "csrf_token": token}, **kwargs)
        return resp

    def create_system(self, name: str = "Turboskatt", description: str = "", scopes: tuple[str, ...] = (OPEN_SCOPE,),
                      ) -> str:
        """Create a system through the form; its client_id."""
        resp = self.post("/portal/systems/new", {"client_name": name, "description": description,
                                                 "scopes": list(scopes)}, follow_redirects=False)
        assert resp.status_code == 303, resp.text
        return resp.headers["location"].rsplit("/", 1)[1]


def make_portal(tmp: Path, store: MemoryStore, rt: Runtime, key: PrivateKeyHandle, **config: Any,
                ) -> tuple[Starlette, PortalConfig, Recorder, DevOutbox]:
    """The portal app mounted at /portal, calling the server in-process through a Recorder."""
    key_file = tmp / "portal-key.pem"
    key_file.write_bytes(key.to_pem())
    recorder = Recorder(httpx.ASGITransport(app=server_app(rt)))
    outbox = DevOutbox()
    cfg = PortalConfig(**{"api_url": ISSUER, "altinn_url": ISSUER, "client_id": PORTAL_CLIENT, "key_file": key_file,
                          "dev_mode": True, **config})
    http = httpx.AsyncClient(transport=recorder, base_url=ISSUER)
    portal = create_portal(cfg, sms=outbox, outbox=outbox, http=http)
    return Starlette(routes=[Mount("/portal", app=portal)]), cfg, recorder, outbox
