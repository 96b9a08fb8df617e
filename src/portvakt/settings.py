"""One typed settings tree (pydantic-settings, env prefix PORTVAKT_, nested with __)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class TokenSettings(BaseModel):
    """Token endpoint rules (spec §1.3, §2.3)."""

    default_access_token_lifetime: int = Field(120, ge=1, description="seconds, when the client sets none")
    max_access_token_lifetime: int = Field(7200, ge=1, description="hard upper bound for any token")
    grant_max_lifetime: int = Field(120, ge=1, description="exp - iat of a JWT grant")
    grant_max_future_iat: int = Field(10, ge=0, description="how far in the future iat may be")
    max_assertion_bytes: int = Field(16384, ge=512)


class SigningSettings(BaseModel):
    """The server's own access-token signing keys."""

    key_bits: Literal[2048, 3072, 4096] = 2048
    key_encryption_key: SecretStr | None = Field(
        None, description="passphrase that encrypts signing keys at rest; default: a file in data_dir")


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
    token: TokenSettings = TokenSettings()
    signing: SigningSettings = SigningSettings()

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'portvakt.db').resolve()}"

    def resolved_issuer(self) -> str:
        """The issuer identifier, always with one trailing slash (as Maskinporten's)."""
        issuer = self.issuer or f"http://{self.host}:{self.port}/"
        return issuer.rstrip("/") + "/"
