"""The beneficial-owners API of an API provider (an example), protected with portvakt.resource.

In production it trusts Maskinporten (MASKINPORTEN_ISSUER, default https://maskinporten.no/). It requires the scope
brreg:reelle/rapporteringspliktig, tokens meant for this API (the grant's `resource` is AUDIENCE), and answers an
organisation's owners only to that organisation: the token's consumer, whether it calls itself or through a system
vendor it delegated the API to (then the token's supplier is the vendor).
"""

# No `from __future__ import annotations`: FastAPI reads the route's annotations.
import os
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException

from portvakt.resource import AccessToken, TokenValidator, install, require_token

ISSUER = os.environ.get("MASKINPORTEN_ISSUER", "https://maskinporten.no/")
AUDIENCE = "https://reelle.api.example/"
SCOPE = "brreg:reelle/rapporteringspliktig"

validator = TokenValidator(ISSUER, audience=AUDIENCE)
app = FastAPI(title="Reelle rettighetshavere (example)")
install(app)
reporting = require_token(validator, SCOPE, realm="reelle")


@app.get("/owners/{orgno}")
def owners(orgno: str, token: Annotated[AccessToken, Depends(reporting)]) -> dict[str, Any]:
    """The beneficial owners of `orgno`, for `orgno` itself (or its vendor, by delegation)."""
    if token.consumer != orgno:
        raise HTTPException(403, "the token's consumer is another organisation than the one asked about")
    return {"orgno": orgno, "supplier": token.supplier, "owners": [{"name": "Kari Nordmann", "share": "50-75 %"}]}
