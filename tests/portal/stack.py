"""An in-process portvakt (memory store, real /token, /api/v1 and Altinn side) and the portal in front of it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portvakt.altinn.passwords import Argon2PasswordHasher
from portvakt.api.app import FastPath
from portvakt.api.runtime import Runtime
from portvakt.domain import usecases as uc
from portvakt.domain.audit import Actor
from portvakt.domain.bootstrap import bootstrap_altinn, bootstrap_operator
from portvakt.domain.clock import SystemClock
from portvakt.domain.models import AccessState, PersonRole, PortalRole, Scope
from portvakt.domain.people import add_person
from portvakt.domain.portal_client import bootstrap_portal_client
from portvakt.domain.ports import Clock
from portvakt.jose import PrivateKeyHandle
from portvakt.portal import PortalConfig
from portvakt.settings import PortalSettings, Settings
from portvakt.sms import DevOutbox
from portvakt.storage.memory import MemoryStore
from portvakt.wiring import Overrides, assemble

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
    #: The portal's own app (its state: `portal.state.portal`).
    portal: Starlette
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


#: The keywords of make_stack that are not PORTVAKT_PORTAL__* options but what PortalConfig resolves.
RESOLVED = ("api_url", "altinn_url", "key_file", "dev_mode", "roles_refresh_seconds")


def portal_config_for(default_key: Path, **config: Any) -> PortalConfig:
    """The portal's config for a test: PortalSettings options as keywords, and the resolved values (RESOLVED) for
    this in-process server unless given."""
    resolved: dict[str, Any] = {"api_url": ISSUER, "altinn_url": ISSUER, "key_file": default_key, "dev_mode": True}
    resolved |= {name: config.pop(name) for name in RESOLVED if name in config}
    return PortalConfig(PortalSettings(client_id=PORTAL_CLIENT, **config), **resolved)


def make_stack(tmp: Path, key: PrivateKeyHandle, clock: Clock | None = None, **config: Any) -> Stack:
    """The server (memory store, cheap password hasher) and the portal in front of it as its own app, calling
    the server in-process through a Recorder; both made by `assemble`, both reading `clock` (default the system's)."""
    store = MemoryStore()
    clock = clock or SystemClock()
    seed(store, key, clock.now())
    settings = Settings(issuer=ISSUER, data_dir=tmp)
    server = assemble(settings, ("token", "altinn"),
                      Overrides(store=store, clock=clock, kek=b"test-kek", hasher=CHEAP_HASHER))
    assert server.runtime is not None
    key_file = tmp / "portal-key.pem"
    key_file.write_bytes(key.to_pem())
    recorder = Recorder(httpx.ASGITransport(app=server))
    outbox = DevOutbox()
    cfg = portal_config_for(key_file, **config)
    front = assemble(settings, ("portal",), Overrides(portal_config=cfg, outbox=outbox, portal_transport=recorder,
                                                      clock=clock))
    browser = TestClient(front, base_url=PORTAL_URL)
    assert isinstance(front.portal, Starlette)
    return Stack(store, server.runtime, server, outbox, recorder, browser, cfg, front.portal)
