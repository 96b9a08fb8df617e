"""Logging in (Altinn side's portal/login), throttling (5 failures per username / window, then 429 with
Retry-After; the right password too), and choosing the organisation to act for."""

from __future__ import annotations

from collections.abc import Callable

from portvakt.domain.people import deactivate_person, revoke_role
from portvakt.portal.ratelimit import FailureWindow, LoginLimiter

from .stack import CONSUMER, OP, OTHER, PEOPLE, VENDOR, Stack

#: Where a page sends a person who has not chosen an organisation yet: the chooser, then back to the page.
ORG_THEN_SYSTEMS = "/portal/org?next=%2Fportal%2Fsystems"


def test_a_wrong_password_says_so_and_stays_anonymous(stack: Stack) -> None:
    resp = stack.login(password="not-the-password")
    assert resp.status_code == 401
    assert "Feil brukernavn eller passord" in resp.text
    assert 'aria-invalid="true"' in resp.text
    assert stack.browser.get("/portal/systems", follow_redirects=False).status_code == 303


def test_empty_fields_are_a_readable_error(stack: Stack) -> None:
    token = stack.csrf()
    resp = stack.browser.post("/portal/login", data={"username": "", "password": "", "csrf_token": token})
    assert resp.status_code == 400
    assert "Skriv inn brukernavn og passord" in resp.text
    assert not stack.recorder.api_calls("POST", "/portal/login")


def test_brute_force_is_locked_out_even_with_the_right_password(stack: Stack) -> None:
    for _ in range(5):
        assert stack.login(password="guess-guess").status_code == 401
    locked = stack.login(password="guess-guess")
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert "For mange mislykkede innlogginger" in locked.text
    right = stack.login()
    assert right.status_code == 429
    assert len(stack.recorder.api_calls("POST", "/portal/login")) == 5, "locked attempts never reach the API"
    assert stack.login("multi@vendor.test").status_code == 303, "another username from the address still may"


def test_the_username_lock_ignores_case_and_spaces(stack: Stack) -> None:
    for name in ("ida@vendor.test", "IDA@vendor.test", " ida@vendor.test", "Ida@Vendor.Test", "ida@vendor.test"):
        stack.login(name, password="guess-guess")
    assert stack.login().status_code == 429


def test_many_usernames_from_one_address_are_locked_out(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(login_max_failures_per_ip=3)
    for name in ("a@x.test", "b@x.test", "c@x.test"):
        assert stack.login(name, password="guess-guess").status_code == 401
    assert stack.login().status_code == 429


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_the_lock_lifts_when_the_window_has_passed() -> None:
    clock = Clock()
    limiter = LoginLimiter(per_user=2, per_ip=10, window=300, now=clock)
    limiter.failed("ida", "10.0.0.1")
    clock.t = 100
    limiter.failed("ida", "10.0.0.1")
    assert limiter.retry_after("ida", "10.0.0.2") == 200
    clock.t = 299
    assert limiter.retry_after("ida", "10.0.0.2") == 1
    clock.t = 300
    assert limiter.retry_after("ida", "10.0.0.2") == 0
    limiter.failed("ida", "10.0.0.1")
    limiter.succeeded("ida")
    assert limiter.retry_after("ida", "10.0.0.1") == 0


def test_the_failure_table_is_bounded() -> None:
    window = FailureWindow(limit=1, window=60, now=Clock(), max_keys=2)
    for key in ("a", "b", "c"):
        window.fail(key)
    assert window.retry_after("a") == 0 and window.retry_after("c") > 0


def test_one_organisation_is_chosen_automatically(stack: Stack) -> None:
    resp = stack.login()
    assert resp.headers["location"] == "/portal/"
    home = stack.browser.get("/portal/")
    assert f"Du handler for Vendor AS ({VENDOR})" in home.text
    assert 'href="/portal/systems"' in home.text


def test_several_organisations_are_chosen_from_the_roles(stack: Stack) -> None:
    resp = stack.login("multi@vendor.test")
    assert resp.headers["location"] == "/portal/org"
    page = stack.browser.get("/portal/org").text
    assert "Vendor AS" in page and "Other vendor" in page
    assert stack.browser.get("/portal/systems", follow_redirects=False).headers["location"] == ORG_THEN_SYSTEMS
    chosen = stack.post("/portal/org", {"orgno": OTHER}, follow_redirects=False)
    assert chosen.status_code == 303
    assert f"Du handler for Other vendor ({OTHER})" in stack.browser.get("/portal/").text
    assert "Bytt organisasjon" in stack.browser.get("/portal/").text


def test_an_organisation_without_a_role_cannot_be_chosen(stack: Stack) -> None:
    stack.login("multi@vendor.test")
    resp = stack.post("/portal/org", {"orgno": CONSUMER})
    assert resp.status_code == 400
    assert "Velg en av organisasjonene" in resp.text
    assert stack.browser.get("/portal/systems", follow_redirects=False).headers["location"] == ORG_THEN_SYSTEMS


def test_a_person_without_roles_is_told(stack: Stack) -> None:
    resp = stack.login("nobody@none.test")
    assert resp.status_code == 403
    assert "ingen roller" in resp.text
    assert stack.browser.get("/portal/", follow_redirects=False).status_code == 303


def test_the_menu_shows_only_pages_of_the_persons_roles(stack: Stack) -> None:
    stack.login("tor@consumer.test")
    home = stack.browser.get("/portal/")
    assert "Tilgangsstyrer" in home.text
    assert "/portal/systems" not in home.text
    refused = stack.browser.get("/portal/systems")
    assert refused.status_code == 403
    assert "rollen" in refused.text


def test_a_revoked_role_stops_working_at_the_next_check(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(roles_refresh_seconds=0)
    stack.login("multi@vendor.test")
    stack.post("/portal/org", {"orgno": VENDOR})
    assert stack.browser.get("/portal/systems").status_code == 200
    with stack.store.begin() as uow:
        revoke_role(uow, "multi@vendor.test", PEOPLE["multi@vendor.test"][3][0], OP, stack.runtime.clock.now())
    resp = stack.browser.get("/portal/systems", follow_redirects=False)
    assert resp.headers["location"] == ORG_THEN_SYSTEMS
    assert "Vendor AS" not in stack.browser.get("/portal/org").text


def test_a_deactivated_person_is_logged_out_at_the_next_check(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(roles_refresh_seconds=0)
    stack.login()
    with stack.store.begin() as uow:
        deactivate_person(uow, "ida@vendor.test", OP, stack.runtime.clock.now())
    resp = stack.browser.get("/portal/systems", follow_redirects=False)
    assert resp.headers["location"] == "/portal/login"
    assert stack.browser.get("/portal/", follow_redirects=False).headers["location"] == "/portal/login"
