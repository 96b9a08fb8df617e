"""One typed settings tree (pydantic-settings, env prefix PORTVAKT_, nested with __)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class TokenSettings(BaseModel):
    """Token endpoint rules (docs/protocol.md §1.3, §2.3)."""

    default_access_token_lifetime: int = Field(120, ge=1, description="seconds, when the client sets none")
    max_access_token_lifetime: int = Field(7200, ge=1, description="hard upper bound for any token")
    grant_max_lifetime: int = Field(120, ge=1, description="exp - iat of a JWT grant")
    grant_max_future_iat: int = Field(10, ge=0, description="how far in the future iat may be")
    max_assertion_bytes: int = Field(16384, ge=512)
    strict: bool = Field(False, description="refuse what Maskinporten refuses: grant claims outside docs/protocol.md "
                         "§1.3, an array aud, iat more than grant_max_future_iat in the past (T13); on with --demo")


class LimitSettings(BaseModel):
    """Bounds on what one request may cost the server (docs/security.md, Resource exhaustion; Store outage)."""

    max_body_bytes: int = Field(64 * 1024, ge=1024, le=16 * 1024 * 1024,
                                description="largest request body any endpoint reads; more answers 413")
    store_busy_seconds: float = Field(2, gt=0, le=30,
                                      description="how long a request waits for a busy database before 503")
    drain_seconds: float = Field(10, ge=1, le=600, description="after SIGTERM the process exits within this long; "
                                                               "requests in flight may finish meanwhile")
    drain_notice_seconds: float = Field(0, ge=0, le=300, description="after SIGTERM, keep accepting requests this "
                                        "long (part of drain_seconds) while /readyz answers 503, so a load "
                                        "balancer takes the node out first")


class RateLimitSettings(BaseModel):
    """Rate limits on /token, per source address and per client (docs/security.md, Token flood)."""

    enabled: bool = Field(True, description="off: /token counts nothing and refuses nothing for its rate")
    per_client_per_minute: int = Field(1200, ge=1, le=1_000_000, description="tokens issued per client_id a minute; "
                                       "past it a grant naming the client gets 429 MP-429")
    per_address_per_minute: int = Field(6000, ge=1, le=10_000_000, description="requests to /token per source "
                                        "address a minute (an IPv6 address counts with its /64)")
    trusted_proxies: list[str] = Field(
        default_factory=list, description="addresses or CIDR networks of the reverse proxies whose X-Forwarded-For "
        "is believed (JSON list); the source is the right-most entry that is not one of them. Empty: the TCP peer")
    redis_timeout_seconds: float = Field(0.1, gt=0, le=5, description="per call to Redis (PORTVAKT_REDIS_URL) for "
                                         "the counts shared by all nodes; past it this node counts alone for a while")

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        """Each entry must be an IP address or network, so a typo fails at start and not as an open proxy rule."""
        for entry in value:
            ipaddress.ip_network(entry.strip(), strict=False)
        return [entry.strip() for entry in value]


class CertificateSettings(BaseModel):
    """Enterprise certificates in x5c grants (docs/protocol.md §5): which authorities are trusted, and revocation."""

    trust_dir: Path | None = Field(
        None, description="folder of PEM CA certificates (self-signed: trust anchors; others: intermediates) and "
                          "CRLs (*.crl, PEM or DER); EU trust-list anchors in its eu/ subfolder; re-read on change. "
                          "Unset: no certificate is trusted")
    fetch_crls: bool = Field(False, description="fetch CRLs from the certificates' distribution points when the "
                                                "folder has no current one; cached until nextUpdate")
    crl_timeout_seconds: float = Field(3, gt=0, le=30, description="per CRL download")
    recheck_seconds: float = Field(1, ge=0, le=60, description="how often the trust folder is checked for changes")


class CacheSettings(BaseModel):
    """How stale a node's cached registry may be before it fails closed (docs/security.md, Stale cache)."""

    max_staleness_seconds: float = Field(5, gt=0, le=300, description="a registry not confirmed fresh for this "
                                                                       "long refuses tokens (503 MP-504)")
    notify: bool = Field(True, description="on PostgreSQL, read the change feed as soon as another node commits "
                                           "(LISTEN/NOTIFY); the poll every cache_poll_seconds stays the fallback")


class StoreSettings(BaseModel):
    """Bounds on every wait for the database and Redis, and the database pool (docs/security.md, Store outage)."""

    connect_timeout_seconds: float = Field(2, gt=0, le=60, description="PostgreSQL: a new connection "
                                           "(libpq waits whole seconds, at least 2)")
    statement_timeout_seconds: float | None = Field(
        None, gt=0, le=300, description="PostgreSQL: one statement, and the client's wait for any answer (plus "
                                        "0.5 s); default limits.store_busy_seconds. The lock timeout is that")
    tcp_user_timeout_seconds: float = Field(5, gt=0, le=300, description="PostgreSQL: data sent and not "
                                            "acknowledged this long ends the connection (a black-holed link)")
    keepalives_idle_seconds: int = Field(5, ge=1, le=7200, description="PostgreSQL: TCP keepalive after idle")
    keepalives_interval_seconds: int = Field(2, ge=1, le=600, description="PostgreSQL: between keepalive probes")
    keepalives_count: int = Field(3, ge=1, le=100, description="PostgreSQL: unanswered probes before the "
                                                               "connection is dropped")
    pool_size: int = Field(5, ge=1, le=1000, description="PostgreSQL connections each worker keeps open")
    max_overflow: int = Field(10, ge=0, le=1000, description="connections a worker may open beyond pool_size")
    pool_timeout_seconds: float | None = Field(
        None, gt=0, le=60, description="wait for a free pooled connection; default limits.store_busy_seconds")
    redis_socket_timeout_seconds: float = Field(0.5, gt=0, le=30, description="Redis: wait for one answer")
    redis_socket_connect_timeout_seconds: float = Field(0.5, gt=0, le=30, description="Redis: a new connection")
    redis_health_check_interval_seconds: float = Field(10, ge=0, le=3600, description="Redis: a connection "
                                                       "unused this long is checked with PING first; 0: never")


class SigningSettings(BaseModel):
    """The server's own access-token signing keys."""

    key_bits: Literal[2048, 3072, 4096] = 2048
    key_encryption_key: SecretStr | None = Field(
        None, description="passphrase that encrypts signing keys at rest; default: a file in data_dir")


class AltinnSettings(BaseModel):
    """Where the token service asks about delegations (docs/protocol.md §4.2), and what the Altinn side trusts."""

    url: str | None = Field(None, description="a remote Altinn side's base URL; default: this server's own registry")
    token_issuer: str | None = Field(
        None, description="run as the Altinn side alone: the token service whose tokens callers bring")
    positive_cache_seconds: float = Field(30, ge=0, le=30, description="how long a found delegation is trusted")
    negative_cache_seconds: float = Field(3, ge=0, le=5, description="how long a missing delegation is trusted")
    timeout_seconds: float = Field(2, gt=0, le=30, description="per request to a remote Altinn side")
    public_url: str | None = Field(
        None, description="the Altinn side's own base URL (its exchange tokens' issuer); default: this server")
    portal_url: str | None = Field(
        None, description="the portal's base URL, where a system-user request's confirmUrl points; "
                          "default: <public_url>/portal/")
    exchange_token_seconds: int = Field(1800, ge=60, le=86400,
                                        description="lifetime of an Altinn token from the Maskinporten exchange")


class PortalSettings(BaseModel):
    """The web portal: the APIs it calls with its own client, its cookies and login limits."""

    api_url: str | None = Field(None, description="base URL serving /token and /api/v1; default: this server")
    altinn_url: str | None = Field(None, description="base URL of the Altinn side; default: api_url")
    client_id: str = Field("portvakt-portal", description="the portal's own client at the token service")
    key_file: Path | None = Field(None, description="its private key (PEM); default: <data_dir>/portal-client-key.pem")
    kid: str | None = Field(None, description="its key's kid; default: the key's RFC 7638 thumbprint")
    session_secret: SecretStr | None = Field(
        None, description="HMAC key of CSRF tokens; default: random per start (set it to share across restarts)")
    secure_cookies: bool = Field(True, description="Secure cookies; turn off only for plain-http dev off localhost")
    dev_mode: bool | None = Field(None, description="serve /portal/dev/sms (the SMS outbox); default: with --demo")
    default_language: Literal["nb", "en"] = "nb"
    session_idle_seconds: int = Field(1800, ge=60, description="a session ends after this long unused")
    session_max_seconds: int = Field(28800, ge=60, description="and at the latest this long after login")
    max_sessions: int = Field(100_000, ge=1, description="logged-in sessions kept; the least recently used go first")
    max_sessions_per_person: int = Field(5, ge=1, description="sessions one person holds; a new login drops the oldest")
    login_max_failures: int = Field(5, ge=1, description="failed logins per username in the window before 429")
    login_max_failures_per_ip: int = Field(20, ge=1, description="failed logins per client IP in the window")
    login_window_seconds: int = Field(300, ge=1, description="the login rate-limit window")
    assets_dir: Path | None = Field(
        None, description="the folder holding node_modules/@digdir (Designsystemet); default: found by looking")
    timeout_seconds: float = Field(10, gt=0, le=60, description="per request to the APIs")


Role = Literal["token", "altinn", "portal"]
ALL_ROLES: tuple[Role, ...] = ("token", "altinn", "portal")


class SmsSettings(BaseModel):
    """The SMS gateway (decision P9): the dev outbox, or an HTTP provider that takes a JSON POST."""

    provider: Literal["outbox", "http"] = Field("outbox", description="outbox: in memory, on /portal/dev/sms")
    url: str | None = Field(None, description="the HTTP provider's endpoint (provider http)")
    username: str | None = Field(None, description="Basic auth user for the provider")
    password: SecretStr | None = Field(None, description="Basic auth password for the provider")
    bearer_token: SecretStr | None = Field(None, description="Bearer token for the provider (instead of Basic auth)")
    body_template: dict[str, Any] = Field(
        default_factory=lambda: {"to": "{to}", "message": "{text}", "from": "{sender}"},
        description='JSON body; "{to}", "{text}" and "{sender}" are substituted in string values')
    sender: str = Field("portvakt", description="sender name or number, the template's {sender}")
    timeout_seconds: float = Field(5, gt=0, le=60, description="per request to the provider")


class Settings(BaseSettings):
    """Everything portvakt reads from its environment, with documented defaults."""

    model_config = SettingsConfigDict(env_prefix="PORTVAKT_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str | None = Field(None, description="default: SQLite file <data_dir>/portvakt.db")
    issuer: str | None = Field(None, description="default: http://<host>:<port>/")
    host: str = "127.0.0.1"
    port: int = 8080
    replay_store: Literal["database", "redis", "memory"] = "database"
    redis_url: str | None = None
    cache_poll_seconds: float = Field(0.25, gt=0, description="how often workers read the change feed")
    demo: bool = False
    operator_orgno: str = Field("991825827", description="the operating organisation; owns the admin scopes")
    operator_name: str = "Digitaliseringsdirektoratet"
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field("text", description="json: one JSON object per log line")
    roles: list[Role] = Field(list(ALL_ROLES), description="what this process serves (`serve --only`)")
    token: TokenSettings = TokenSettings()
    altinn: AltinnSettings = AltinnSettings()
    portal: PortalSettings = PortalSettings()
    signing: SigningSettings = SigningSettings()
    sms: SmsSettings = SmsSettings()
    limits: LimitSettings = LimitSettings()
    ratelimit: RateLimitSettings = RateLimitSettings()
    certificates: CertificateSettings = CertificateSettings()
    cache: CacheSettings = CacheSettings()
    store: StoreSettings = StoreSettings()
    interactive_docs: bool | None = Field(
        None, description="serve /api/v1/docs and /accessmanagement/docs (swagger-ui from a CDN); default: with --demo")

    def role_problem(self) -> str | None:
        """Why these roles can't run in one process, or None: the Altinn side alone needs the token service's
        issuer, and the portal runs alone or beside the token service."""
        roles = set(self.roles)
        if "token" in roles or "altinn" not in roles:
            return None
        if "portal" in roles:
            return "serve the portal alone or with the token service, not with the Altinn side alone"
        if not self.altinn.token_issuer:
            return ("the Altinn side alone needs the token service's issuer URL "
                    "(--token-issuer or PORTVAKT_ALTINN__TOKEN_ISSUER)")
        return None

    def resolved_interactive_docs(self) -> bool:
        """Whether the swagger-ui pages are served: only when asked, or in demo mode (docs/security.md, Third-party
        script)."""
        return self.demo if self.interactive_docs is None else self.interactive_docs

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'portvakt.db').resolve()}"

    def resolved_issuer(self) -> str:
        """The issuer identifier, always with one trailing slash (as Maskinporten's)."""
        issuer = self.issuer or f"http://{self.host}:{self.port}/"
        return issuer.rstrip("/") + "/"
