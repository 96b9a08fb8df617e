"""Server-side sessions: a random id in a cookie, the state in process memory (OWASP Session Management).

The store keys on a hash of the id, so the cookie value itself is not kept; CSRF tokens are an HMAC of
the id under the portal's secret (OWASP CSRF Prevention: synchronizer token). Only people who have logged
in hold a session: before login the same cookie carries a random nonce the server does not store, and the
login form's token is an HMAC of that nonce (OWASP CSRF Prevention: signed double-submit cookie), so
anonymous visitors cannot fill the store and evict people who are logged in (docs/security.md, Session
table flooding). One process only: several workers need a shared store (Redis, the database) and the same
session secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field

from portvakt.wire.altinn import PersonOut

from .clock import Monotonic
from .config import Language

_NONCE = re.compile(r"[A-Za-z0-9_-]{43}")


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def new_nonce() -> str:
    """A random value for a cookie: a session id or a login nonce (256 bits, OWASP Session Management)."""
    return secrets.token_urlsafe(32)


def is_nonce(value: str | None) -> bool:
    """True if `value` has the form new_nonce makes (anything else in the cookie is replaced, not adopted)."""
    return bool(value) and _NONCE.fullmatch(value or "") is not None


@dataclass
class Session:
    """One browser's session: the person once logged in, the organisation chosen, the language."""

    sid: str = field(repr=False)
    csrf: str = field(repr=False)
    created: float
    last_seen: float
    language: Language
    person: PersonOut | None = None
    orgno: str | None = None
    logged_in_at: float | None = None
    #: When the person's roles were last read from the Altinn side (the store's monotonic source).
    roles_checked_at: float = 0.0


class SessionStore:
    """Sessions with an idle timeout and an absolute lifetime, timed by `now` (monotonic); bounded in number, and
    per person."""

    def __init__(self, secret: bytes, *, idle: float, lifetime: float, now: Monotonic, max_sessions: int = 100_000,
                 per_person: int = 5) -> None:
        self._secret = secret
        self._idle, self._lifetime, self._max = idle, lifetime, max_sessions
        self._per_person = per_person
        self._now = now
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def csrf_for(self, sid: str) -> str:
        """The CSRF token of a session id: HMAC-SHA256(secret, id)."""
        return hmac.new(self._secret, b"csrf:" + sid.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, session: Session, token: str) -> bool:
        """Constant-time comparison with the session's token."""
        return hmac.compare_digest(session.csrf.encode(), token.encode())

    def login_token(self, nonce: str) -> str:
        """The login form's CSRF token for a cookie nonce: HMAC-SHA256(secret, nonce) (OWASP CSRF Prevention:
        signed double-submit cookie; no server-side state before login)."""
        return hmac.new(self._secret, b"login:" + nonce.encode(), hashlib.sha256).hexdigest()

    def check_login_token(self, nonce: str | None, token: str) -> bool:
        """Constant-time: the token is the login token of the cookie's nonce (OWASP CSRF Prevention)."""
        return is_nonce(nonce) and hmac.compare_digest(self.login_token(nonce or "").encode(), token.encode())

    def new(self, language: Language) -> Session:
        """A fresh session without a person yet (start() logs one in; 256 bits of randomness in its id)."""
        self._make_room()
        sid = new_nonce()
        now = self._now()
        session = Session(sid=sid, csrf=self.csrf_for(sid), created=now, last_seen=now, language=language)
        self._sessions[_digest(sid)] = session
        return session

    def get(self, sid: str | None) -> Session | None:
        """The live session of a cookie value, touched; None if unknown or expired."""
        if not sid or len(sid) > 100:
            return None
        key = _digest(sid)
        session = self._sessions.get(key)
        if session is None:
            return None
        if self._expired(session, self._now()):
            del self._sessions[key]
            return None
        session.last_seen = self._now()
        self._sessions.move_to_end(key)
        return session

    def renew(self, old: Session, person: PersonOut) -> Session:
        """Log in: a new id and CSRF token, the old id dropped (OWASP: renew the id on privilege change)."""
        return self.start(person, old.language, old)

    def start(self, person: PersonOut, language: Language, old: Session | None = None) -> Session:
        """A logged-in session with a fresh id and CSRF token; the old session, if any, dropped (OWASP Session
        Management: renew the id on privilege change)."""
        if old is not None:
            self.drop(old)
        self._limit_person(person.username)
        session = self.new(language)
        now = self._now()
        session.person, session.logged_in_at, session.roles_checked_at = person, now, now
        return session

    def roles_due(self, session: Session, every: float) -> bool:
        """True when the person's roles were read `every` seconds ago or longer (decision P3)."""
        return self._now() - session.roles_checked_at >= every

    def roles_read(self, session: Session, person: PersonOut) -> None:
        """The person as just read from the Altinn side, with their roles (decision P3)."""
        session.person, session.roles_checked_at = person, self._now()

    def drop(self, session: Session) -> None:
        """End a session (logout)."""
        self._sessions.pop(_digest(session.sid), None)

    def _limit_person(self, username: str) -> None:
        """Drop the person's least recently used sessions so a new one fits, so that one account logging in
        again and again cannot evict everyone else (docs/security.md, Session table flooding)."""
        own = [key for key, s in self._sessions.items() if s.person is not None and s.person.username == username]
        for key in own[:max(0, len(own) - self._per_person + 1)]:
            del self._sessions[key]

    def _expired(self, s: Session, now: float) -> bool:
        started = s.logged_in_at if s.logged_in_at is not None else s.created
        return now - s.last_seen > self._idle or now - started > self._lifetime

    def _make_room(self) -> None:
        """Drop expired sessions from the least recently used end; when full, the least recently used."""
        now = self._now()
        while self._sessions:
            key, oldest = next(iter(self._sessions.items()))
            if not self._expired(oldest, now) and len(self._sessions) < self._max:
                return
            del self._sessions[key]

    def __len__(self) -> int:
        return len(self._sessions)
