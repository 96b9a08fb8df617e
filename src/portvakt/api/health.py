"""Whether a node should get traffic: `/livez` (the process answers), `/readyz` (its dependencies answer, its
registry is fresh, it is not draining), and the drain that SIGTERM starts (docs/decisions.md S10).

The store checks run in threads of their own with a short timeout, never on the event loop and never more than
one at a time per check, so a hung database neither stalls the loop nor piles up threads. The answers name each
check; a failed one says only the exception's type or the timeout, never its message (which may hold a connection
string).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from types import FrameType
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portvakt.domain.ports import Clock, ReplayCache
from portvakt.oauth.registry_cache import RegistryCache
from portvakt.settings import LimitSettings

log = logging.getLogger("portvakt.health")
CHECK_TIMEOUT = 1.0
_NO_STORE = {"cache-control": "no-store"}

Receive = Callable[[], Awaitable[dict[str, Any]]]


def drain_plan(limits: LimitSettings) -> tuple[float, int]:
    """After SIGTERM: how long to keep accepting while /readyz says 503, and uvicorn's timeout_graceful_shutdown
    for the requests in flight after that; together within limits.drain_seconds."""
    notice = min(limits.drain_notice_seconds, max(0.0, limits.drain_seconds - 1))
    return notice, max(1, int(limits.drain_seconds - notice))


class Drain:
    """A process stopping: from SIGTERM on, /readyz answers 503 (draining); after the notice period uvicorn stops
    accepting and lets the requests in flight finish."""

    def __init__(self, notice_seconds: float = 0.0) -> None:
        self.notice = notice_seconds
        self.draining = False
        self._installed: tuple[Any, Any] | None = None

    def begin(self) -> None:
        """Start draining (idempotent)."""
        if not self.draining:
            self.draining = True
            if self.notice > 0:
                log.info("draining: /readyz answers 503; new requests accepted for %g s more", self.notice)
            else:
                log.info("draining: /readyz answers 503; no new requests accepted")

    def install(self) -> bool:
        """Put this drain before the server's SIGTERM handler (uvicorn's): the flag at once, the server's shutdown
        after the notice. Only in the main thread and over a handler that is a function; True if installed."""
        if threading.current_thread() is not threading.main_thread():
            return False
        previous = signal.getsignal(signal.SIGTERM)
        if not callable(previous):
            return False
        loop = asyncio.get_running_loop()
        server_handler: Callable[[int, FrameType | None], Any] = previous

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            again = self.draining
            self.begin()
            if again or self.notice <= 0:
                server_handler(signum, frame)
            else:
                loop.call_soon_threadsafe(loop.call_later, self.notice, server_handler, signum, frame)

        signal.signal(signal.SIGTERM, on_sigterm)
        self._installed = (previous, on_sigterm)
        return True

    def uninstall(self) -> None:
        """Give SIGTERM back to the handler `install` found, if this drain's is still in place."""
        installed, self._installed = self._installed, None
        if installed is not None and threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGTERM) is installed[1]:
            signal.signal(signal.SIGTERM, installed[0])

    def lifespan(self, receive: Receive) -> Receive:
        """The ASGI lifespan's receive, seen by this drain: install at startup; at shutdown drain and uninstall."""

        async def watched() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.install()
            elif message["type"] == "lifespan.shutdown":
                self.begin()
                self.uninstall()
            return message

        return watched


class Probe:
    """A blocking check run in a daemon thread of its own, at most one run at a time, awaited with a timeout."""

    def __init__(self, name: str, check: Callable[[], object], timeout: float = CHECK_TIMEOUT) -> None:
        self.name = name
        self._check = check
        self._timeout = timeout
        self._running: concurrent.futures.Future[None] | None = None
        self._lock = threading.Lock()

    def _start(self) -> concurrent.futures.Future[None]:
        with self._lock:
            running = self._running
            if running is not None and not running.done():
                return running
            future: concurrent.futures.Future[None] = concurrent.futures.Future()

            def run() -> None:
                try:
                    self._check()
                except BaseException as exc:  # noqa: BLE001 (reported as the check's failure)
                    future.set_exception(exc)
                else:
                    future.set_result(None)

            threading.Thread(target=run, name=f"portvakt-readyz-{self.name}", daemon=True).start()
            self._running = future
            return future

    async def __call__(self) -> dict[str, Any]:
        """{"ok": true, "seconds": …}, or {"ok": false, "error": the exception's type or "timeout"}."""
        start = time.perf_counter()
        future = self._start()
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), self._timeout)
        except TimeoutError:
            return {"ok": False, "error": f"no answer within {self._timeout:g} s"}
        except Exception as exc:  # noqa: BLE001 (a failed dependency is an answer, not an error)
            return {"ok": False, "error": type(exc).__name__}
        return {"ok": True, "seconds": round(time.perf_counter() - start, 4)}


def replay_probe(replay: ReplayCache, clock: Clock) -> Callable[[], object]:
    """One insert of this process's own probe key (a hash no grant has), expiring in a minute: the replay store
    takes writes."""
    key = hashlib.sha256(b"portvakt readiness probe\x00" + os.urandom(16)).digest()
    return lambda: replay.first_use(key, clock.now() + timedelta(minutes=1))


class Health:
    """The checks of one process's /readyz: store, replay_store, registry (those it has), and draining."""

    def __init__(self, drain: Drain, *, store: Callable[[], object] | None = None,
                 replay: Callable[[], object] | None = None, registry: RegistryCache | None = None) -> None:
        self.drain = drain
        self.registry = registry
        self._probes = [Probe(name, check) for name, check in (("store", store), ("replay_store", replay))
                        if check is not None]

    async def checks(self) -> dict[str, dict[str, Any]]:
        """Every check's answer, by name."""
        answers = await asyncio.gather(*(probe() for probe in self._probes))
        result = {probe.name: answer for probe, answer in zip(self._probes, answers, strict=True)}
        if self.registry is not None:
            age = self.registry.age()
            result["registry"] = {"ok": age <= self.registry.max_staleness, "age_seconds": round(age, 3),
                                  "max_staleness_seconds": self.registry.max_staleness}
        result["draining"] = {"ok": not self.drain.draining, "draining": self.drain.draining}
        return result

    async def readyz(self, request: Request) -> Response:
        """GET /readyz: 200 when every check passes, else 503 with Retry-After; the body names each check."""
        checks = await self.checks()
        ready = all(c["ok"] for c in checks.values())
        body = {"status": "ok" if ready else "unavailable", "draining": self.drain.draining, "checks": checks}
        headers = _NO_STORE if ready else {**_NO_STORE, "retry-after": "5"}
        return JSONResponse(body, status_code=200 if ready else 503, headers=headers)

    def staleness(self) -> float | None:
        """The registry's age in seconds (for the metrics), or None without a registry."""
        return None if self.registry is None else self.registry.age()


async def livez(request: Request) -> Response:
    """GET /livez: the process answers; it reads nothing, so a busy store never slows it."""
    return JSONResponse({"status": "ok"}, headers=_NO_STORE)
