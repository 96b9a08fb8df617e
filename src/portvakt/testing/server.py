"""`Maskinporten`: a real portvakt (the token service and the Altinn side) on 127.0.0.1, for a test suite or a script.

    with Maskinporten() as mp:
        vendor = mp.org()
        api = mp.scope("brreg:test/read")
        mp.grant_access(api, vendor)
        client = mp.client(vendor, [api])
        token = mp.token(client, [api])

It is the server `portvakt serve` runs, with every check, wired by `portvakt.wiring.assemble`, served by uvicorn in a
thread of this process on a socket bound before the thread starts (a free port the OS picks), on SQLite in a
temporary data dir copied from a prepared template (portvakt.testing.template). Settings come from the arguments
alone, never from PORTVAKT_* variables. Strict mode is on (decision T13), so a grant Maskinporten refuses is
refused here too.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import socket
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .failures import Failure, FailureInjector, failure_of
from .seeding import Client, Org, Seeder
from .template import copy_template, isolated_settings
from .tokens import Token, TokenRefused, scope_string

if TYPE_CHECKING:
    import httpx
    import uvicorn

    from portvakt.api.runtime import Runtime
    from portvakt.domain.ports import Clock, Store
    from portvakt.oauth.errors import MPCode
    from portvakt.settings import Settings

    from .seedfile import Seeded

log = logging.getLogger("portvakt.testing")
_DB = "portvakt.db"
_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 10.0
#: Servers stopped without waiting; `wait_for_stopped` joins them (the pytest plugin does at the session's end).
_STOPPING: set[threading.Thread] = set()
_STOPPING_LOCK = threading.Lock()
#: Servers running now; a process that exits stops them and waits, so no data dir is left behind.
_RUNNING: weakref.WeakSet[Maskinporten] = weakref.WeakSet()


def wait_for_stopped(timeout: float = _STOP_TIMEOUT) -> None:
    """Wait until every server stopped with `stop(wait=False)` has finished and removed its data dir."""
    with _STOPPING_LOCK:
        threads = list(_STOPPING)
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


@atexit.register
def _stop_all() -> None:
    """At exit: stop the servers still running and wait for every one that is stopping, so that each removes its
    data dir. Their logs are off by then: a server stopped while the interpreter shuts down can only log that its
    worker threads are gone."""
    running = list(_RUNNING)
    if not running and not _STOPPING:
        return
    logging.getLogger("portvakt").disabled = True
    for mp in running:
        mp.stop(wait=False)
    wait_for_stopped()


def _listening_socket(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port); port 0: one the OS picks, which no other process can take before the
    server serves on it. Made with IPPROTO_TCP, so that asyncio sets TCP_NODELAY on every connection it accepts (it
    does so only for sockets that name the protocol): without it, each answer on a kept-alive connection waited
    40 ms for the client's delayed ACK."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    return sock


class FailureHandle:
    """An armed failure of POST /token: armed when made, disarmed at the end of its `with` block (or of the test,
    by the pytest plugin, or by `mp.reset_failures()`). `hits`: the requests it has taken so far."""

    def __init__(self, injector: FailureInjector, failure: Failure) -> None:
        self._injector = injector
        self.failure = failure
        injector.arm(failure)

    @property
    def hits(self) -> int:
        """The POST /token requests this failure delayed, answered or dropped."""
        return self.failure.hits

    @property
    def active(self) -> bool:
        """Armed and not spent: the next POST /token meets it."""
        return self.failure.armed and not self.failure.spent

    def disarm(self) -> None:
        """Let /token answer normally again."""
        self._injector.disarm(self.failure)

    def __enter__(self) -> FailureHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.disarm()


class Maskinporten(Seeder):
    """A running portvakt for tests: `issuer`, `token_endpoint`, `jwks_uri`, the seeding API (org, scope,
    grant_access, revoke_access, client, scheme, delegate, revoke, rotate_keys; portvakt.testing.seeding),
    `token(...)` and `failing(...)`.

    `port` 0 (default) takes a free port; `settings` are Settings fields on top of the test defaults (e.g.
    `{"ratelimit": {"enabled": False}}`); `data_dir` keeps the data there instead of a temporary dir removed at
    stop; `seed` is a seed file (YAML or JSON) or mapping applied at start (portvakt.testing.seedfile).
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, strict: bool = True,
                 settings: Mapping[str, Any] | None = None, data_dir: str | Path | None = None,
                 seed: str | Path | Mapping[str, Any] | None = None) -> None:
        self._init_seeding()
        self._host = host
        self._port = port
        self._extra: dict[str, Any] = {"token": {"strict": strict}}
        for name, value in (settings or {}).items():
            if isinstance(value, Mapping) and isinstance(self._extra.get(name), Mapping):
                self._extra[name] = {**self._extra[name], **value}
            else:
                self._extra[name] = value
        self._given_dir = Path(data_dir) if data_dir is not None else None
        self._seed_spec = seed
        #: What the `seed` given at construction made, by name (None without one).
        self.seeded: Seeded | None = None
        self._dir: Path | None = None
        self._settings: Settings | None = None
        self._runtime: Runtime | None = None
        self._injector: FailureInjector | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._http: httpx.Client | None = None

    # Life cycle.

    def start(self) -> Maskinporten:
        """Make the data dir, wire the server and serve; returns once it accepts requests."""
        if self._thread is not None:
            raise RuntimeError("a Maskinporten starts once; make a new one for another server")
        import uvicorn

        from portvakt.wiring import Overrides, assemble

        sock = _listening_socket(self._host, self._port)
        store: Store | None = None
        try:
            port = int(sock.getsockname()[1])
            self._dir = self._given_dir or Path(tempfile.mkdtemp(prefix="portvakt-test-"))
            self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._settings = isolated_settings(self._dir, self._host, port, self._extra)
            store = self._open(self._settings)
            app = assemble(self._settings, overrides=Overrides(store=store, defer_apis=True))
            self._runtime = app.runtime
            self._injector = FailureInjector(app, self.issuer)
            config = uvicorn.Config(self._injector, log_config=None, log_level=None, access_log=False,
                                    lifespan="on", loop="asyncio", ws="none", proxy_headers=False,
                                    server_header=False, timeout_graceful_shutdown=1)
            self._server = uvicorn.Server(config)
        except BaseException:
            sock.close()
            if store is not None and self._runtime is None:
                store.close()
            self._cleanup()
            raise
        self._thread = threading.Thread(target=self._serve, args=(self._server, sock), daemon=True,
                                        name=f"portvakt-testing-{port}")
        self._thread.start()
        _RUNNING.add(self)
        self._wait_started()
        if self._seed_spec is not None:
            from .seedfile import apply_seed

            try:
                self.seeded = apply_seed(self, self._seed_spec)
            except BaseException:
                self.stop()
                raise
        return self

    def _open(self, settings: Settings) -> Store:
        """The store on a copy of the template (or the data dir's own database), bootstrapped for this issuer:
        what `prepare` does, less the migration the template has had (wiring/stores.py)."""
        from portvakt.domain.bootstrap import bootstrap_altinn, bootstrap_operator
        from portvakt.domain.clock import SystemClock
        from portvakt.wiring import ALTINN_SOURCE, altinn_issuer, open_store

        assert self._dir is not None
        fresh = not (self._dir / _DB).exists()
        if fresh:
            copy_template(self._dir)
        store = open_store(settings, migrate=not fresh)
        now = SystemClock().now()
        with store.begin() as uow:
            bootstrap_operator(uow, settings.operator_orgno, settings.operator_name, now)
            bootstrap_altinn(uow, settings.operator_orgno, now, source_name=ALTINN_SOURCE,
                             source_issuer=altinn_issuer(settings))
        return store

    def _serve(self, server: uvicorn.Server, sock: socket.socket) -> None:
        """The server thread: serve until told to stop, then close the stores and remove the data dir."""
        try:
            server.run(sockets=[sock])
        except BaseException:
            log.exception("the portvakt test server stopped with an error")
        finally:
            sock.close()
            self._cleanup()
            with _STOPPING_LOCK:
                _STOPPING.discard(threading.current_thread())

    def _wait_started(self) -> None:
        assert self._server is not None
        assert self._thread is not None
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the portvakt test server did not start (its log says why)")
            time.sleep(0.001)

    def stop(self, *, wait: bool = True) -> None:
        """Stop serving (a delay under way ends at once) and remove the temporary data dir; `wait=False` returns
        at once and lets the server's thread finish (wait_for_stopped joins it)."""
        thread, server = self._thread, self._server
        _RUNNING.discard(self)
        self._settings = None
        if self._injector is not None:
            self._injector.stopping()
        if self._http is not None:
            self._http.close()
            self._http = None
        if thread is None or server is None:
            self._cleanup()
            return
        server.should_exit = True
        if not wait:
            with _STOPPING_LOCK:
                if thread.is_alive():
                    _STOPPING.add(thread)
            return
        thread.join(_STOP_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(_STOP_TIMEOUT)

    def _cleanup(self) -> None:
        """Close the stores and remove the data dir if it is ours (idempotent)."""
        rt, self._runtime = self._runtime, None
        if rt is not None:
            for closable in (rt.store, rt.replay):
                close = getattr(closable, "close", None)
                if callable(close):
                    try:
                        close()
                    except Exception:  # a store that fails to close must not hide the test's result
                        log.warning("closing a test server's store failed", exc_info=True)
        folder, self._dir = self._dir, None
        if folder is not None and self._given_dir is None:
            shutil.rmtree(folder, ignore_errors=True)

    def __enter__(self) -> Maskinporten:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # Where it is.

    @property
    def settings(self) -> Settings:
        """The server's settings."""
        if self._settings is None:
            raise RuntimeError("the server is not running: call start() or use it in a with block")
        return self._settings

    @property
    def runtime(self) -> Runtime:
        """The token service's components (portvakt.api.runtime.Runtime)."""
        if self._runtime is None:
            raise RuntimeError("the server is not running: call start() or use it in a with block")
        return self._runtime

    @property
    def issuer(self) -> str:
        """The issuer identifier, `http://127.0.0.1:<port>/`: a grant's `aud`, a token's `iss` (§1.3, §2.2)."""
        return self.settings.resolved_issuer()

    @property
    def url(self) -> str:
        """The base URL (the issuer)."""
        return self.issuer

    @property
    def token_endpoint(self) -> str:
        """POST /token (docs/protocol.md §1.1)."""
        return self.issuer + "token"

    @property
    def jwks_uri(self) -> str:
        """GET /jwk, the signing keys (docs/protocol.md §2.5)."""
        return self.issuer + "jwk"

    @property
    def metadata_url(self) -> str:
        """RFC 8414 metadata (docs/protocol.md §2.4)."""
        return self.issuer + ".well-known/oauth-authorization-server"

    # Tokens.

    def token(self, client: Client, scopes: str | Iterable[object], consumer_org: str | Org | None = None,
              resource: str | list[str] | None = None, *, systemuser_org: str | Org | None = None,
              external_ref: str | None = None) -> Token:
        """A real token from the real /token for `client` (a fresh grant each call); with `systemuser_org`, a
        system user's (docs/protocol.md §6); TokenRefused with the MP code when it refuses."""
        from portvakt.client import TokenError, fetch_token

        try:
            body = fetch_token(client.signer(), scope_string(scopes), token_endpoint=self.token_endpoint,
                               consumer_org=None if consumer_org is None else str(consumer_org),
                               resource=resource, client=self._client(),
                               systemuser_org=None if systemuser_org is None else str(systemuser_org),
                               external_ref=external_ref)
        except TokenError as exc:
            raise TokenRefused(str(exc), exc.body, exc.status) from None
        return Token.from_response(body)

    def _client(self) -> httpx.Client:
        if self._http is None:
            import httpx

            self._http = httpx.Client(timeout=30, trust_env=False)
        return self._http

    def rotate_keys(self) -> str:
        """Rotate the signing keys as `portvakt keys rotate` does: the published next key signs from now on, the
        old one stays in /jwk while its tokens live (docs/protocol.md §2.5); returns the new signing kid. For an
        API's key cache: its next token names a kid it has not fetched yet."""
        from portvakt.oauth.keyring import rotate_signing_keys
        from portvakt.wiring import key_encryption_key

        s, rt = self.settings, self.runtime
        return rotate_signing_keys(rt.store, key_encryption_key(s), s.signing.key_bits, rt.clock.now(),
                                   s.token.max_access_token_lifetime).kid

    # Failures.

    def failing(self, what: str | MPCode | None = None, *, delay: float = 0.0, times: int | None = None,
                retry_after: float | None = None, suffix: str = "") -> FailureHandle:
        """Make POST /token fail, at once and until the handle is disarmed (the end of its `with` block):

        * `"outage"`: 503 temporarily_unavailable MP-503 with Retry-After (`retry_after` seconds; default 5, the
          server's own);
        * an MP code such as `"MP-250"` (or an MPCode): its status, error and text (`suffix` after the text);
        * `"drop"`: the connection is closed without an answer;
        * `delay=seconds`: wait first, then answer normally (no `what`) or fail.

        `times`: only the next N requests fail, later ones get real answers (None: every one).
        """
        failure = failure_of(what, delay=delay, times=times, retry_after=retry_after, suffix=suffix)
        return FailureHandle(self._armable(), failure)

    def reset_failures(self) -> None:
        """Disarm whatever failure is armed (the pytest plugin does this after every test)."""
        if self._injector is not None:
            self._injector.disarm()

    @property
    def token_requests(self) -> int:
        """The POST /token requests this server has received, failed or not."""
        return self._armable().token_requests

    def _armable(self) -> FailureInjector:
        if self._injector is None:
            raise RuntimeError("the server is not running: call start() or use it in a with block")
        return self._injector

    # The seeding half's needs.

    def _seed_store(self) -> Store:
        return self.runtime.store

    def _seed_clock(self) -> Clock:
        return self.runtime.clock

    def _delegation_source(self) -> str:
        from portvakt.wiring import altinn_issuer

        return altinn_issuer(self.settings)

    def __repr__(self) -> str:
        where = self._settings.resolved_issuer() if self._settings is not None else "not running"
        return f"Maskinporten({where})"
