"""An ASGI app built on its first request (decision F15): the test kit's server starts without building the
self-service API and the Altinn side, which most tests of a vendor's code never call."""

from __future__ import annotations

import threading
from collections.abc import Callable, MutableMapping
from typing import Any

from starlette.types import ASGIApp


class Deferred:
    """Builds the app with `build` when the first request (or lifespan-less call) reaches it, once, and hands every
    call to it; `then` callbacks run once it is built (the route templates of the app around it are read again)."""

    def __init__(self, build: Callable[[], ASGIApp]) -> None:
        self._build = build
        self._app: ASGIApp | None = None
        self._lock = threading.Lock()
        self._built: list[Callable[[], None]] = []

    def then(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the app is built (at once, when it is)."""
        with self._lock:  # not between a build and its callbacks
            if self._app is None:
                self._built.append(callback)
                return
        callback()

    @property
    def router(self) -> Any:
        """The built app's router (None before): what route templates are read from (api.plumbing.RouteTemplates)."""
        return getattr(self._app, "router", None)

    def app(self) -> ASGIApp:
        """The app, built now if it was not yet."""
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = self._build()
                    for callback in self._built:
                        callback()
        return self._app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        await self.app()(scope, receive, send)
