"""The composition root (decision C1): `stores` opens what a process stands on, `assembly` builds its apps.

`portvakt serve` workers start from `app_from_environment`; every test that needs a server calls `assemble`.
"""

from __future__ import annotations

from .assembly import (
    ALTINN_REALM,
    Overrides,
    app_from_environment,
    assemble,
    build_runtime,
    delegation_lookup,
    portal_app,
    portal_clients,
)
from .stores import (
    ALTINN_SOURCE,
    DATA_DIR_MODE,
    KEK_FILE,
    altinn_issuer,
    data_dir,
    key_encryption_key,
    open_replay,
    open_store,
    prepare,
    provision_portal_client,
)

__all__ = ["ALTINN_REALM", "ALTINN_SOURCE", "DATA_DIR_MODE", "KEK_FILE", "Overrides", "altinn_issuer",
           "app_from_environment", "assemble", "build_runtime", "data_dir", "delegation_lookup", "key_encryption_key",
           "open_replay", "open_store", "portal_app", "portal_clients", "prepare", "provision_portal_client"]
