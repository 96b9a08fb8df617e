"""The guide's API ("Register over reelle rettighetshavere"), protected with portvakt.resource.

    PORTVAKT_ISSUER_URL=http://127.0.0.1:8080/ uvicorn examples.reelle_api:app --port 9000

Two scopes, as in guide-systemleverandorer.md: brreg:reelle/offentlig (public authorities) and
brreg:reelle/rapporteringspliktig (entities with a reporting duty). Like the guide's API it does not
check `aud`. It decides with the token's consumer (the data controller), and shows the supplier
(the system vendor acting for it, when the token came through a delegation).
"""

# No `from __future__ import annotations`: FastAPI evaluates the route annotations, which name
# dependencies made inside create_app.
import os
from typing import Annotated, Any

from fastapi import Depends, FastAPI

from portvakt.resource import AccessToken, TokenValidator, install, require_token

OFFENTLIG = "brreg:reelle/offentlig"
RAPPORTERINGSPLIKTIG = "brreg:reelle/rapporteringspliktig"


def create_app(issuer: str, validator: TokenValidator | None = None) -> FastAPI:
    """The example API trusting tokens from `issuer`."""
    check = validator or TokenValidator(issuer)
    app = FastAPI(title="Reelle rettighetshavere (example)")
    install(app)
    offentlig = require_token(check, OFFENTLIG, realm="reelle")
    rapporteringspliktig = require_token(check, RAPPORTERINGSPLIKTIG, realm="reelle")

    @app.get("/reelle/offentlig/{orgno}")
    def for_authorities(orgno: str, token: Annotated[AccessToken, Depends(offentlig)]) -> dict[str, Any]:
        """What a public authority may see about `orgno`'s beneficial owners."""
        return _answer(orgno, token, "offentlig")

    @app.get("/reelle/rapporteringspliktig/{orgno}")
    def for_reporting(orgno: str,
                      token: Annotated[AccessToken, Depends(rapporteringspliktig)]) -> dict[str, Any]:
        """What the reporting entity itself (or its accountant, by delegation) may see."""
        return _answer(orgno, token, "rapporteringspliktig")

    return app


def _answer(orgno: str, token: AccessToken, view: str) -> dict[str, Any]:
    return {"orgno": orgno, "view": view, "consumer": token.consumer, "supplier": token.supplier,
            "client_id": token.client_id, "delegation_source": token.delegation_source,
            "reelle_rettighetshavere": [{"navn": "Kari Nordmann", "andel": "50-75 %"}]}


app = create_app(os.environ.get("PORTVAKT_ISSUER_URL", "http://127.0.0.1:8080/"))
