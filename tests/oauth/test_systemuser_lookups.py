"""The system-user lookups (docs/protocol.md §6.5): the change-feed cache, the local one on the store, and the HTTP
one against a fake Altinn side. All fail closed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from portvakt.altinn import HttpSystemUserLookup, LocalSystemUserLookup
from portvakt.altinn.systemuser_http import MAX_ANSWER_BYTES
from portvakt.domain.blocking import WouldBlock, non_blocking
from portvakt.domain.changes import AGENT_CLIENT_KIND, SYSTEM_KIND, SYSTEM_USER_KIND
from portvakt.domain.models import Organisation, RegisteredSystem, SystemUser, SystemUserType
from portvakt.oauth.systemuser import CachedSystemUserLookup, FoundSystemUser, SystemUserUnavailable
from portvakt.storage.memory import MemoryStore

CLIENT, VENDOR, OWNER, OTHER = "client-1", "314330897", "310838128", "910753614"
FOUND = FoundSystemUser("su-1", f"{VENDOR}_regnskap", OWNER, OWNER)


class Source:
    """A lookup whose answers the test sets, counting the questions."""

    def __init__(self) -> None:
        self.users: dict[tuple[str, str, str, str], FoundSystemUser] = {}
        self.asked = 0
        self.down = False
        self.during: list[Callable[[], None]] = []

    def find_system_user(self, client_id: str, vendor_orgno: str, owner_orgno: str,
                         external_ref: str) -> FoundSystemUser | None:
        self.asked += 1
        if self.down:
            raise SystemUserUnavailable("down")
        for action in self.during:
            action()
        return self.users.get((client_id, vendor_orgno, owner_orgno, external_ref))


def ask(lookup: Any, owner: str = OWNER, ref: str = OWNER) -> FoundSystemUser | None:
    found: FoundSystemUser | None = lookup.find_system_user(CLIENT, VENDOR, owner, ref)
    return found


# The change-feed cache.

def test_answers_are_remembered_found_and_none() -> None:
    source = Source()
    source.users[(CLIENT, VENDOR, OWNER, OWNER)] = FOUND
    cache = CachedSystemUserLookup(source)
    assert ask(cache) == FOUND and ask(cache) == FOUND
    assert ask(cache, OTHER, OTHER) is None and ask(cache, OTHER, OTHER) is None
    source.users.clear()
    assert ask(cache) == FOUND  # until the change feed says otherwise
    assert source.asked == 2


def test_a_system_user_change_drops_only_that_owner() -> None:
    source = Source()
    source.users[(CLIENT, VENDOR, OWNER, OWNER)] = FOUND
    other = FoundSystemUser("su-2", FOUND.system_id, OTHER, OTHER)
    source.users[(CLIENT, VENDOR, OTHER, OTHER)] = other
    cache = CachedSystemUserLookup(source)
    assert ask(cache) == FOUND and ask(cache, OTHER, OTHER) == other
    source.users.clear()
    cache.on_change(SYSTEM_USER_KIND, OWNER)
    assert ask(cache) is None
    assert ask(cache, OTHER, OTHER) == other  # another owner: still remembered
    cache.on_change(AGENT_CLIENT_KIND, "su-2")  # a client of an agent changes no token answer
    cache.on_change("client", CLIENT)
    assert ask(cache, OTHER, OTHER) == other


def test_a_system_change_drops_everything() -> None:
    source = Source()
    source.users[(CLIENT, VENDOR, OWNER, OWNER)] = FOUND
    cache = CachedSystemUserLookup(source)
    assert ask(cache) == FOUND
    source.users.clear()
    cache.on_change(SYSTEM_KIND, FOUND.system_id)
    assert ask(cache) is None


def test_failures_are_never_remembered() -> None:
    source = Source()
    source.down = True
    cache = CachedSystemUserLookup(source)
    with pytest.raises(SystemUserUnavailable):
        ask(cache)
    source.down = False
    source.users[(CLIENT, VENDOR, OWNER, OWNER)] = FOUND
    assert ask(cache) == FOUND


def test_an_answer_overtaken_by_a_change_is_not_remembered() -> None:
    source = Source()
    source.users[(CLIENT, VENDOR, OWNER, OWNER)] = FOUND
    cache = CachedSystemUserLookup(source)
    source.during.append(lambda: cache.on_change(SYSTEM_USER_KIND, OWNER))  # the user is deleted mid-read
    assert ask(cache) == FOUND  # that read's answer is given ...
    source.during.clear()
    source.users.clear()
    assert ask(cache) is None  # ... but not kept
    assert source.asked == 2


def test_one_owner_and_the_owners_are_bounded() -> None:
    source = Source()
    cache = CachedSystemUserLookup(source, max_owners=2, per_owner=3)
    for i in range(10):  # the grant's externalRef is the caller's choice
        assert ask(cache, OWNER, f"ref-{i}") is None
    asked = source.asked
    assert ask(cache, OWNER, "ref-9") is None and source.asked == asked  # the latest still remembered
    assert ask(cache, OWNER, "ref-0") is None and source.asked == asked + 1  # the oldest dropped
    for owner in (OTHER, "974760673"):
        ask(cache, owner, owner)
    asked = source.asked
    ask(cache, OWNER, "ref-9")
    assert source.asked == asked + 1  # the first owner went when a third came
    with pytest.raises(ValueError, match="at least 1"):
        CachedSystemUserLookup(source, per_owner=0)


# The local lookup on the store.

def seeded_store(*, deleted: bool = False) -> tuple[MemoryStore, SystemUser]:
    store = MemoryStore()
    now = datetime.now(UTC)
    user = SystemUser(system_user_id=str(uuid.uuid4()), user_type=SystemUserType.STANDARD,
                      system_id=f"{VENDOR}_regnskap", vendor_orgno=VENDOR, owner_orgno=OWNER, external_ref=OWNER,
                      integration_title="Regnskap", created=now, last_updated=now, deleted=deleted)
    with store.begin() as uow:
        for orgno in (VENDOR, OWNER):
            uow.put_org(Organisation(orgno, f"Org {orgno}", now))
        uow.put_system(RegisteredSystem(f"{VENDOR}_regnskap", str(uuid.uuid4()), VENDOR, {"nb": "Regnskap"},
                                        {"nb": "Regnskap"}, now, now, client_ids=(CLIENT,)))
        user = uow.put_system_user(user)
    return store, user


def test_local_finds_the_system_user() -> None:
    store, user = seeded_store()
    lookup = LocalSystemUserLookup(store)
    assert ask(lookup) == FoundSystemUser(user.system_user_id, user.system_id, OWNER, OWNER)
    assert ask(lookup, OWNER, "another-ref") is None
    assert lookup.find_system_user("client-2", VENDOR, OWNER, OWNER) is None
    assert lookup.find_system_user(CLIENT, OTHER, OWNER, OWNER) is None


def test_local_never_finds_a_deleted_one() -> None:
    store, _ = seeded_store(deleted=True)
    assert ask(LocalSystemUserLookup(store)) is None


class BrokenStore:
    """A store whose reads fail, as a database that is down."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def read(self) -> AbstractContextManager[Any]:
        @contextmanager
        def failing() -> Iterator[Any]:
            raise self.error
            yield

        return failing()


def test_local_fails_closed_and_lets_would_block_through() -> None:
    with pytest.raises(SystemUserUnavailable, match="could not be read"):
        ask(LocalSystemUserLookup(BrokenStore(OSError("connection refused"))))  # type: ignore[arg-type]
    with pytest.raises(WouldBlock):  # the event loop's signal is not a failure: the request goes to a thread
        ask(LocalSystemUserLookup(BrokenStore(WouldBlock())))  # type: ignore[arg-type]


# The HTTP lookup against a fake Altinn side.

def dto(**over: Any) -> dict[str, Any]:
    """A SystemUserExternalDTO of the lookup's answer (docs/protocol.md §6.5)."""
    body = {"id": "su-1", "integrationTitle": "Regnskap", "systemId": f"{VENDOR}_regnskap",
            "productName": f"{VENDOR}_regnskap", "reporteeOrgNo": OWNER, "created": "2026-01-01T00:00:00Z",
            "isDeleted": False, "supplierName": "Vendor", "supplierOrgno": VENDOR, "externalRef": OWNER,
            "userType": "standard"}
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


class Altinn:
    """A fake Altinn side: answers each request with `answer`, recording the requests."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def remote(answer: Callable[[httpx.Request], httpx.Response], *, token: Callable[[], str] = lambda: "tok-secret",
           clock: Clock | None = None, **kw: Any) -> tuple[HttpSystemUserLookup, Altinn]:
    altinn = Altinn(answer)
    http = httpx.Client(transport=httpx.MockTransport(altinn))
    lookup = HttpSystemUserLookup("https://altinn.test/", token, http=http, clock=clock or Clock(), **kw)
    return lookup, altinn


def test_http_asks_byexternalid_with_the_lookup_token() -> None:
    lookup, altinn = remote(lambda r: httpx.Response(200, json=dto()))
    assert ask(lookup) == FoundSystemUser("su-1", f"{VENDOR}_regnskap", OWNER, OWNER)
    (req,) = altinn.requests
    assert req.url.path == "/authentication/api/v1/systemuser/byExternalId"
    assert dict(req.url.params) == {"clientId": CLIENT, "systemProviderOrgNo": VENDOR,
                                    "systemUserOwnerOrgNo": OWNER, "externalRef": OWNER}
    assert req.headers["authorization"] == "Bearer tok-secret"


def test_http_caches_within_the_ttls_only() -> None:
    clock = Clock()
    state = {"status": 200}
    lookup, altinn = remote(lambda r: httpx.Response(state["status"], json=dto() if state["status"] == 200 else None),
                            clock=clock, positive_ttl=30, negative_ttl=3)
    assert ask(lookup) is not None and ask(lookup) is not None
    assert len(altinn.requests) == 1
    state["status"] = 404
    clock.now += 29.9
    assert ask(lookup) is not None  # a found one is trusted for at most the positive TTL ...
    clock.now += 0.2
    assert ask(lookup) is None  # ... then asked again: deleted meanwhile
    assert ask(lookup) is None and len(altinn.requests) == 2
    state["status"] = 200
    clock.now += 3.1
    assert ask(lookup) is not None and len(altinn.requests) == 3  # "none" only for the negative TTL


def test_http_answers_none_for_404_and_for_a_deleted_one() -> None:
    lookup, _ = remote(lambda r: httpx.Response(404))
    assert ask(lookup) is None
    lookup, _ = remote(lambda r: httpx.Response(200, json=dto(isDeleted=True)))
    assert ask(lookup) is None


@pytest.mark.parametrize("answer", [
    lambda r: httpx.Response(401), lambda r: httpx.Response(403), lambda r: httpx.Response(500),
    lambda r: httpx.Response(503), lambda r: httpx.Response(400), lambda r: httpx.Response(302),
    lambda r: httpx.Response(200, content=b"not json"), lambda r: httpx.Response(200, json=[dto()]),
    lambda r: httpx.Response(200, json=dto(id=None)), lambda r: httpx.Response(200, json=dto(systemId=7)),
    lambda r: httpx.Response(200, json=dto(reporteeOrgNo=OTHER)),
    lambda r: httpx.Response(200, json=dto(externalRef="another")),
    lambda r: httpx.Response(200, content=b" " * (MAX_ANSWER_BYTES + 1) + json.dumps(dto()).encode()),
])
def test_http_fails_closed_and_never_caches_a_failure(answer: Callable[[httpx.Request], httpx.Response]) -> None:
    lookup, altinn = remote(answer)
    for _ in range(2):
        with pytest.raises(SystemUserUnavailable) as err:
            ask(lookup)
        assert "tok-secret" not in str(err.value)
    assert len(altinn.requests) == 2


@pytest.mark.parametrize("error", [httpx.ConnectTimeout("slow"), httpx.ConnectError("refused"),
                                   httpx.ReadTimeout("slow")])
def test_http_transport_failures_are_unavailable(error: Exception) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    lookup, _ = remote(fail)
    with pytest.raises(SystemUserUnavailable):
        ask(lookup)


def test_http_without_a_token_is_unavailable_and_asks_nobody() -> None:
    def no_token() -> str:
        raise RuntimeError("no key")

    lookup, altinn = remote(lambda r: httpx.Response(200, json=dto()), token=no_token)
    with pytest.raises(SystemUserUnavailable, match="access token"):
        ask(lookup)
    assert altinn.requests == []


def test_http_on_the_event_loop_waits_for_nothing() -> None:
    lookup, altinn = remote(lambda r: httpx.Response(200, json=dto()))
    with non_blocking(), pytest.raises(WouldBlock):
        ask(lookup)  # a miss would wait on the network: the request goes to a worker thread
    assert altinn.requests == []
    assert ask(lookup) is not None
    with non_blocking():
        assert ask(lookup) is not None  # a hit is answered on the loop


def test_http_cache_is_bounded() -> None:
    lookup, _ = remote(lambda r: httpx.Response(404), max_entries=4)
    for i in range(10):
        ask(lookup, OWNER, f"ref-{i}")
    assert len(lookup._cache) <= 4  # the bound is the point of the test
    with pytest.raises(ValueError, match="http"):
        HttpSystemUserLookup("ftp://altinn.test/", lambda: "t")
