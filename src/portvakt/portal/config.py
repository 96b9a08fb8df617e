"""What the portal needs to run: where the APIs are, its own client and key, cookies and limits."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from portvakt.settings import Settings

Language = Literal["nb", "en"]

#: The portal's own client holds these (design note: Altinn's token with dcr.write + dcr.supplier).
PORTAL_SCOPES: tuple[str, ...] = (
    "idporten:dcr.write", "idporten:dcr.supplier", "idporten:scopes.write", "altinn:portal",
    "altinn:maskinporten/delegations.write", "altinn:maskinporten/delegationSchemes.write")
KEY_FILE_NAME = "portal-client-key.pem"


def _slash(url: str) -> str:
    """A base URL with exactly one trailing slash (the issuer form, as Maskinporten's)."""
    return url.rstrip("/") + "/"


@dataclass(frozen=True)
class PortalConfig:
    """The portal's settings, resolved: `api_url` serves /token and /api/v1 and is the grant's audience."""

    api_url: str
    altinn_url: str
    client_id: str
    key_file: Path
    kid: str | None = None
    scopes: tuple[str, ...] = PORTAL_SCOPES
    secure_cookies: bool = True
    dev_mode: bool = False
    default_language: Language = "nb"
    session_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    session_idle_seconds: int = 1800
    session_max_seconds: int = 28800
    max_sessions: int = 100_000
    max_sessions_per_person: int = 5
    login_max_failures: int = 5
    login_max_failures_per_ip: int = 20
    login_window_seconds: int = 300
    roles_refresh_seconds: float = 60.0
    assets_dir: Path | None = None
    timeout_seconds: float = 10.0

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
    """The PortalConfig for `portvakt serve`: defaults point at this server and its data_dir."""
    p = settings.portal
    api_url = p.api_url or settings.resolved_issuer()
    secret = p.session_secret.get_secret_value().encode() if p.session_secret else secrets.token_bytes(32)
    return PortalConfig(
        api_url=api_url, altinn_url=p.altinn_url or api_url, client_id=p.client_id,
        key_file=key_file(settings), kid=p.kid,
        secure_cookies=p.secure_cookies, dev_mode=settings.demo if p.dev_mode is None else p.dev_mode,
        default_language=p.default_language, session_secret=secret,
        session_idle_seconds=p.session_idle_seconds, session_max_seconds=p.session_max_seconds,
        max_sessions=p.max_sessions, max_sessions_per_person=p.max_sessions_per_person,
        login_max_failures=p.login_max_failures, login_max_failures_per_ip=p.login_max_failures_per_ip,
        login_window_seconds=p.login_window_seconds, assets_dir=p.assets_dir, timeout_seconds=p.timeout_seconds)
