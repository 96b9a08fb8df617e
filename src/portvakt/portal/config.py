"""What the portal needs to run: its settings as given (PORTVAKT_PORTAL__*) and what they resolve to here."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from portvakt.settings import Settings
from portvakt.wire.protocol import PORTAL_CLIENT_SCOPES

Language = Literal["nb", "en"]

#: The portal's own client holds these and asks for them in its grants (decisions P1, H5).
PORTAL_SCOPES: tuple[str, ...] = PORTAL_CLIENT_SCOPES
KEY_FILE_NAME = "portal-client-key.pem"


class PortalOptions(Protocol):
    """What the portal reads of its settings as given; portvakt.settings.PortalSettings has this shape (P11)."""

    @property
    def client_id(self) -> str: ...
    @property
    def kid(self) -> str | None: ...
    @property
    def secure_cookies(self) -> bool: ...
    @property
    def default_language(self) -> Language: ...
    @property
    def session_idle_seconds(self) -> int: ...
    @property
    def session_max_seconds(self) -> int: ...
    @property
    def max_sessions(self) -> int: ...
    @property
    def max_sessions_per_person(self) -> int: ...
    @property
    def login_max_failures(self) -> int: ...
    @property
    def login_max_failures_per_ip(self) -> int: ...
    @property
    def login_window_seconds(self) -> int: ...
    @property
    def assets_dir(self) -> Path | None: ...
    @property
    def timeout_seconds(self) -> float: ...


def _slash(url: str) -> str:
    """A base URL with exactly one trailing slash (the issuer form, as Maskinporten's)."""
    return url.rstrip("/") + "/"


@dataclass(frozen=True)
class PortalConfig:
    """The portal's `settings` as given, and what depends on the deployment: `api_url` serves /token and /api/v1
    and is the grant's audience (docs/protocol.md §1.1), `altinn_url` the Altinn side (decision P11)."""

    settings: PortalOptions = field(repr=False)
    api_url: str
    altinn_url: str
    key_file: Path
    dev_mode: bool = False
    session_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    scopes: tuple[str, ...] = PORTAL_SCOPES
    roles_refresh_seconds: float = 60.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "api_url", _slash(self.api_url))
        object.__setattr__(self, "altinn_url", _slash(self.altinn_url))

    @property
    def token_endpoint(self) -> str:
        """The token endpoint: api_url + "token" (docs/protocol.md §1.1)."""
        return self.api_url + "token"


def key_file(settings: Settings) -> Path:
    """The portal's private key file: PORTVAKT_PORTAL__KEY_FILE, else KEY_FILE_NAME in the data dir."""
    return settings.portal.key_file or Path(settings.data_dir) / KEY_FILE_NAME


def portal_config(settings: Settings) -> PortalConfig:
    """The PortalConfig for `portvakt serve`: PORTVAKT_PORTAL__* as given; what is unset points at this server, its
    data_dir and its demo mode, and the session secret is random per start (decisions P4, P11)."""
    p = settings.portal
    api_url = p.api_url or settings.resolved_issuer()
    secret = p.session_secret.get_secret_value().encode() if p.session_secret else secrets.token_bytes(32)
    return PortalConfig(p, api_url=api_url, altinn_url=p.altinn_url or api_url, key_file=key_file(settings),
                        dev_mode=settings.demo if p.dev_mode is None else p.dev_mode, session_secret=secret)
