"""A migrated, bootstrapped data dir made once and copied for every server (the test kit's start-up speed).

Making a data dir costs a second: Alembic's migrations, two RSA signing keys, the operator's entries. The result
only depends on the schema and the bootstrap, so it is made once per schema, kept in a cache folder (default
`<tmp>/portvakt-testing-<uid>`, or `PORTVAKT_TESTING_CACHE`) under a name that is the fingerprint of portvakt's
version and its migration files, and copied into each server's own temporary data dir (a few milliseconds).
Every copy then runs the idempotent bootstraps again, so an entry the template lacks is made there.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import portvakt
from portvakt.settings import Settings

CACHE_ENV = "PORTVAKT_TESTING_CACHE"
_DIR_MODE = 0o700


class IsolatedSettings(Settings):
    """Settings from the arguments alone: a test server never reads the developer's PORTVAKT_* variables or .env."""

    @classmethod
    def settings_customise_sources(cls, settings_cls: Any, init_settings: Any, env_settings: Any,
                                   dotenv_settings: Any, file_secret_settings: Any) -> tuple[Any, ...]:
        """Only the init arguments (pydantic-settings' hook)."""
        return (init_settings,)


def isolated_settings(data_dir: Path, host: str, port: int, extra: Mapping[str, Any] | None = None) -> Settings:
    """The token service and the Altinn side of one test server on SQLite in `data_dir`; `extra` on top."""
    values: dict[str, Any] = {"data_dir": data_dir, "host": host, "port": port, "roles": ["altinn", "token"]}
    values.update(extra or {})
    return IsolatedSettings(**values)


def fingerprint() -> str:
    """What a template depends on: portvakt's version and every migration file (names and bytes)."""
    digest = hashlib.sha256(portvakt.__version__.encode())
    migrations = Path(portvakt.__file__).parent / "storage" / "sql" / "migrations"
    for path in sorted(migrations.rglob("*.py")):
        digest.update(str(path.relative_to(migrations)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cache_root() -> Path:
    """The folder that keeps templates between runs: owner-only, and refused when another user owns it (a template
    planted there would give test servers signing keys someone else knows)."""
    configured = os.environ.get(CACHE_ENV)
    root = Path(configured) if configured else Path(tempfile.gettempdir()) / f"portvakt-testing-{os.getuid()}"
    root.mkdir(parents=True, exist_ok=True, mode=_DIR_MODE)
    if root.is_symlink() or root.stat().st_uid != os.getuid():
        raise RuntimeError(f"{root} is a link or belongs to another user; point {CACHE_ENV} at a folder of your own")
    root.chmod(_DIR_MODE)
    return root


def template_dir() -> Path:
    """The data dir to copy: made now if this schema has none yet (safe when several processes race)."""
    root = cache_root()
    final = root / f"template-{fingerprint()}"
    if (final / "ready").exists():
        return final
    building = Path(tempfile.mkdtemp(prefix="building-", dir=root))
    try:
        _build(building)
        (building / "ready").write_text("ok\n")
        try:
            building.rename(final)
        except OSError:  # another process finished first: use theirs
            if not (final / "ready").exists():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return final


def _build(folder: Path) -> None:
    """`prepare` (migrate, signing keys, the operator's and the Altinn side's entries), then close the store."""
    from portvakt.wiring import prepare

    store = prepare(isolated_settings(folder, "127.0.0.1", 9))
    close = getattr(store, "close", None)
    if callable(close):
        close()


def copy_template(into: Path) -> None:
    """Fill the (empty) data dir `into` with a copy of the template."""
    source = template_dir()
    for entry in source.iterdir():
        if entry.name != "ready":
            shutil.copy2(entry, into / entry.name)
