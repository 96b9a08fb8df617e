"""Server-side sessions: the id is renewed at login (session fixation), cookies are Secure, HttpOnly,
SameSite and scoped to /portal, and sessions end on logout, when idle and at their lifetime."""

from __future__ import annotations

from collections.abc import Callable

from portvakt.portal.sessions import SessionStore
from portvakt.wire.altinn import PersonOut

from .stack import Stack

COOKIE = "portvakt_session"


def test_login_renews_the_session_id_and_the_old_one_is_dead(stack: Stack) -> None:
    stack.browser.get("/portal/login")
    before = stack.browser.cookies.get(COOKIE)
    assert before
    assert stack.login().status_code == 303
    after = stack.browser.cookies.get(COOKIE)
    assert after and after != before
    stack.browser.cookies.set(COOKIE, before, domain="portal.test", path="/portal")
    stolen = stack.browser.get("/portal/systems", follow_redirects=False)
    assert stolen.status_code == 303
    assert stolen.headers["location"].endswith("/portal/login?next=%2Fportal%2Fsystems")
    stack.browser.cookies.set(COOKIE, after, domain="portal.test", path="/portal")
    assert stack.browser.get("/portal/systems", follow_redirects=False).status_code == 200


def test_a_fixed_session_id_planted_by_an_attacker_is_not_logged_in(stack: Stack) -> None:
    stack.browser.cookies.set(COOKIE, "attacker-chosen-id", domain="portal.test", path="/portal")
    assert stack.login().status_code == 303
    assert stack.browser.cookies.get(COOKIE) != "attacker-chosen-id"


def test_the_cookie_attributes(stack: Stack) -> None:
    stack.browser.get("/portal/login")
    resp = stack.login()
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Path=/portal"):
        assert attribute.lower() in cookie.lower(), attribute
    assert "max-age" not in cookie.lower() and "expires" not in cookie.lower()


def test_secure_can_be_turned_off_for_plain_http_dev(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(secure_cookies=False)
    cookie = stack.browser.get("/portal/login").headers["set-cookie"]
    assert "secure" not in cookie.lower()
    assert "httponly" in cookie.lower()


def test_logout_ends_the_session_at_the_server(ida: Stack) -> None:
    sid = ida.browser.cookies.get(COOKIE)
    resp = ida.post("/portal/logout", {}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].endswith("/portal/login?done=logout")
    assert f'{COOKIE}=""' in resp.headers["set-cookie"] or "max-age=0" in resp.headers["set-cookie"].lower()
    ida.browser.cookies.set(COOKIE, sid or "", domain="portal.test", path="/portal")
    assert ida.browser.get("/portal/systems", follow_redirects=False).status_code == 303
    assert "Du er logget ut" in ida.browser.get("/portal/login?done=logout").text


PERSON = PersonOut(username="p@x.test", name="P", mobile="+4790000009", roles=[])


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_sessions_end_when_idle_and_at_their_lifetime() -> None:
    clock = Clock()
    store = SessionStore(b"k" * 32, idle=60, lifetime=300, now=clock)
    session = store.renew(store.new("nb"), PERSON)
    for _ in range(5):
        clock.t += 50
        assert store.get(session.sid) is session
    clock.t += 51
    assert store.get(session.sid) is None
    idle = store.new("nb")
    clock.t += 61
    assert store.get(idle.sid) is None


def test_renew_changes_id_and_csrf_and_drops_the_old() -> None:
    store = SessionStore(b"k" * 32, idle=60, lifetime=300, now=Clock())
    old = store.new("en")
    new = store.renew(old, PERSON)
    assert new.sid != old.sid and new.csrf != old.csrf
    assert new.language == "en" and new.person == PERSON
    assert store.get(old.sid) is None
    assert store.check_csrf(new, new.csrf) and not store.check_csrf(new, old.csrf)


def test_the_store_is_bounded_and_drops_the_least_recently_used() -> None:
    store = SessionStore(b"k" * 32, idle=600, lifetime=600, now=Clock(), max_sessions=3)
    first, second, third = store.new("nb"), store.new("nb"), store.new("nb")
    assert store.get(first.sid) is first
    fourth = store.new("nb")
    assert len(store) == 3
    assert store.get(second.sid) is None
    assert all(store.get(s.sid) is s for s in (first, third, fourth))


def test_odd_cookie_values_are_just_unknown() -> None:
    store = SessionStore(b"k" * 32, idle=60, lifetime=60, now=Clock())
    assert store.get(None) is None and store.get("") is None and store.get("x" * 500) is None
