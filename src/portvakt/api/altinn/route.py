"""Where the Altinn side's paths are served inside the token service's app: every request under its prefixes goes
to the Altinn app, path unchanged (docs/protocol.md §4). Only Starlette is imported here, so the token service can
hold this route before the Altinn app is built (decision F15)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

PREFIXES = ("/maskinporten-api/", "/accessmanagement/", "/authentication/", "/authorization/")


class AltinnRoute(BaseRoute):
    """Hands every request under the Altinn prefixes to the Altinn app, path unchanged."""

    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...] = PREFIXES) -> None:
        self.app = app
        self.prefixes = prefixes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """A full match for an http request whose path starts with one of the prefixes."""
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(self.prefixes):
            return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        """Not used: the Altinn app builds its own URLs."""
        raise NotImplementedError

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the Altinn app on the unchanged request."""
        await self.app(scope, receive, send)


def mount_altinn(app: Starlette, altinn: ASGIApp) -> None:
    """Serve the Altinn app's paths from `app` (one process: token service and Altinn side together)."""
    app.router.routes.append(AltinnRoute(altinn))
