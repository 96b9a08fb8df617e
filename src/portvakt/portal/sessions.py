"""Server-side sessions: a random id in a cookie, the state in process memory (OWASP Session Management).

The store keys on a hash of the id, so the cookie value itself is not kept; CSRF tokens are an HMAC of
the id under the portal's secret (OWASP CSRF Prevention: synchronizer token). One process only: several
workers need a shared store (Redis, the database) and the same session secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from .config import Language
from .models import Person


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


@dataclass
class Session:
    """One browser's session: the person once logged in, the organisation chosen, the language."""

    sid: str = field(repr=False)
    csrf: str = field(repr=False)
    created: float
    last_seen: float
    language: Language
    person: Person | None = None
    orgno: str | None = None
    logged_in_at: float | None = None
    #: When the person's roles were last read from the Altinn side (time.monotonic()).
    roles_checked_at: float = 0.0


class SessionStore:
    """Sessions with an idle timeout and an absolute lifetime; bounded in number."""

    def __init__(self, secret: bytes, *, idle: float, lifetime: float, max_sessions: int = 100_000,
                 now: Callable[[], float] = time.monotonic) -> None:
        self._secret = secret
        self._idle, self._lifetime, self._max = idle, lifetime, max_sessions
        self._now = now
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def csrf_for(self, sid: str) -> str:
        """The CSRF token of a session id: HMAC-SHA256(secret, id)."""
        return hmac.new(self._secret, b"csrf:" + sid.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, session: Session, token: str) -> bool:
        """Constant-time comparison with the session's token."""
        return hmac.compare_digest(session.csrf.encode(), token.encode())

    def new(self, language: Language) -> Session:
        """A fresh anonymous session (128+ bits of randomness in its id)."""
        self._make_room()
        sid = secrets.token_urlsafe(32)
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

    def renew(self, old: Session, person: Person) -> Session:
        """Log in: a new id and CSRF token, the old id dropped (OWASP: renew the id on privilege change)."""
        self.drop(old)
        session = self.new(old.language)
        session.person, session.logged_in_at = person, self._now()
        return session

    def drop(self, session: Session) -> None:
        """End a session (logout)."""
        self._sessions.pop(_digest(session.sid), None)

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
