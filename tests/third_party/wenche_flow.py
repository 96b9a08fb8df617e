"""Drive wenche's own system-user functions against a portvakt server; run by tests/third_party/.venv's python.

Only wenche's base URLs are changed (its URL functions and `_BASES`); everything it sends and parses is its own.
No portvakt import: this runs in the venv `make third-party-deps` made for wenche alone.

    python wenche_flow.py request|token|refused   (one JSON document on stdout)

Environment: PORTVAKT_URL (the issuer, ending in /), CLIENT_ID, KID, KEY_FILE, VENDOR, CUSTOMER, and for
`token` REQUEST_ID.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import wenche.auth as auth  # type: ignore[import-not-found]
import wenche.systembruker as systembruker  # type: ignore[import-not-found]

BASE = os.environ["PORTVAKT_URL"]
CLIENT_ID, KID = os.environ["CLIENT_ID"], os.environ["KID"]
PEM = Path(os.environ["KEY_FILE"]).read_bytes()
VENDOR, CUSTOMER = os.environ["VENDOR"], os.environ["CUSTOMER"]


def _point_wenche_at_portvakt() -> None:
    """Maskinporten and Altinn both live at BASE: the token endpoint, its audience, the platform and the exchange."""
    systembruker._BASES["prod"] = BASE.rstrip("/")
    auth._maskinporten_token_url = lambda env=None: f"{BASE}token"
    auth._maskinporten_aud = lambda env=None: BASE
    auth._altinn_exchange_url = lambda: f"{BASE}authentication/api/v1/exchange/maskinporten"


def _admin_token() -> str:
    """wenche's vendor token for the system register and the requests (its ADMIN_SCOPES, no system user)."""
    token: str = auth._hent_maskinporten_token(CLIENT_ID, PEM, KID, scopes=auth.ADMIN_SCOPES)
    return token


def request() -> dict[str, Any]:
    """Register the system (twice: the second time wenche sees "already exists" and PUTs), then ask the customer."""
    admin = _admin_token()
    first = systembruker.registrer_system(admin, VENDOR, CLIENT_ID)
    again = systembruker.registrer_system(admin, VENDOR, CLIENT_ID)
    asked = systembruker.opprett_forespørsel(admin, VENDOR, CUSTOMER)
    return {"registered": first, "registered_again": again, "request": asked}


def token() -> dict[str, Any]:
    """The request's status, the vendor's system users, and a system user's token exchanged for an Altinn token."""
    admin = _admin_token()
    status = systembruker.hent_forespørsel_status(admin, os.environ["REQUEST_ID"])
    users = systembruker.hent_systembrukere(admin, VENDOR)
    creds = auth.VendorCredentials(client_id=CLIENT_ID, kid=KID, private_key_pem=PEM)
    tokens = auth.hent_tokens_for(creds, org_nummer=CUSTOMER, veksle_altinn=True)
    return {"status": status, "system_users": users, **tokens}


def refused() -> dict[str, Any]:
    """wenche asks for the system user's token again; the server's refusal as wenche reports it."""
    creds = auth.VendorCredentials(client_id=CLIENT_ID, kid=KID, private_key_pem=PEM)
    try:
        auth.hent_tokens_for(creds, org_nummer=CUSTOMER)
    except RuntimeError as exc:
        return {"error": str(exc)}
    return {"error": None}


if __name__ == "__main__":
    _point_wenche_at_portvakt()
    phases = {"request": request, "token": token, "refused": refused}
    print(json.dumps(phases[sys.argv[1]]()))
