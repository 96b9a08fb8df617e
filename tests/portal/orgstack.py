"""Helpers for the access manager's and API provider admin's pages: more people, schemes, delegations,
a transport that makes chosen API calls fail, and the ask-first pages that end something."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import httpx

from portvakt.domain import usecases as uc
from portvakt.domain.delegations import create_scheme, delegate
from portvakt.domain.models import PersonRole, PortalRole
from portvakt.domain.orgno import is_valid_orgno
from portvakt.domain.people import add_person

from .stack import CHEAP_HASHER, CONSUMER, DELEGABLE_SCOPE, OP, PROVIDER, VENDOR, Stack

TOR, ADA, VERA = "tor@consumer.test", "ada@provider.test", "vera@vendor.test"
PASSWORDS = {TOR: "tor-password-1", ADA: "ada-password-1", VERA: "vera-password-1"}
SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
#: A well-formed organisation number (mod-11) that no test registers.
UNKNOWN_ORGNO = next(str(n) for n in range(123456780, 123456999) if is_valid_orgno(str(n)))
#: Nine digits whose check digit is wrong.
BAD_CHECKSUM = next(str(n) for n in range(310838120, 310838140) if not is_valid_orgno(str(n)))


def add_people(stack: Stack) -> None:
    """Ada (API provider admin of the provider) and Vera (access manager of the vendor); Tor is in the stack."""
    now = stack.runtime.clock.now()
    with stack.store.begin() as uow:
        for username, name, role in ((ADA, "Ada Admin", PersonRole(PROVIDER, PortalRole.API_ADMIN)),
                                     (VERA, "Vera Vendor", PersonRole(VENDOR, PortalRole.ACCESS_MANAGER))):
            add_person(uow, CHEAP_HASHER, username=username, name=name, mobile="+4790000009",
                       password=PASSWORDS[username], roles=(role,), actor=OP, now=now)


def add_scheme(stack: Stack, title: Mapping[str, str], description: Mapping[str, str] | None = None) -> str:
    """A delegation scheme of the provider naming the delegable scope; its id."""
    with stack.store.begin() as uow:
        made = create_scheme(uow, PROVIDER, [DELEGABLE_SCOPE], title, description or {}, OP,
                             stack.runtime.clock.now())
    return made.scheme_id


def add_delegation(stack: Stack, scheme_id: str, consumer: str = CONSUMER, supplier: str = VENDOR) -> str:
    """The consumer delegates the scheme to the supplier (as the operator); the delegation's id."""
    with stack.store.begin() as uow:
        made, _ = delegate(uow, consumer, supplier, scheme_id, OP, stack.runtime.clock.now())
    return made.delegation_id


def add_org(stack: Stack, orgno: str, name: str) -> None:
    """Register an organisation."""
    with stack.store.begin() as uow:
        uc.add_org(uow, orgno, name, OP, stack.runtime.clock.now())


def log_in(stack: Stack, username: str) -> Stack:
    """Log one of the extra people in."""
    assert stack.login(username, PASSWORDS[username]).status_code == 303
    return stack


def fail_when(stack: Stack, broken: Callable[[httpx.Request], httpx.Response | None]) -> None:
    """Answer the portal's API calls for which `broken` gives a response with it; forward the others."""
    inner = stack.recorder.inner

    class Failing(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            answer = broken(request)
            return answer if answer is not None else await inner.handle_async_request(request)

    stack.recorder.inner = Failing()


def acting_headers(request: httpx.Request) -> tuple[str | None, str | None]:
    """The organisation and person the portal said it acts for."""
    return request.headers.get("portvakt-acting-for"), request.headers.get("portvakt-person")


def confirm_then_delete(stack: Stack, page: str, *, says: Iterable[str], deletes: str, then: str,
                        acting: tuple[str, str]) -> None:
    """The page that asks first (saying each of `says`) deletes nothing; confirming it sends one DELETE of `deletes`,
    acting for `acting` (organisation, person), and goes on to `then` (303)."""
    ask = stack.browser.get(page)
    assert ask.status_code == 200
    for text in says:
        assert text in ask.text, text
    assert not stack.recorder.api_calls("DELETE", "/"), "asking first sent a DELETE"
    done = stack.post(page, {}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == then
    deleted = stack.recorder.api_calls("DELETE", deletes)
    assert len(deleted) == 1 and acting_headers(deleted[0]) == acting
