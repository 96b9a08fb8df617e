"""An API provider's API for system users (an example), protected with portvakt.resource.

A vendor's system calls it with a Maskinporten token for a system user (the grant named the customer in
`authorization_details`). The API checks the token and its scope, reads the system user from the token, and asks
Altinn's decision point whether that system user may `read` the resource RESOURCE for the organisation in the path:
Permit is 200, anything else 403, and no answer from the decision point 503 with Retry-After.

In production it trusts Maskinporten (MASKINPORTEN_ISSUER, default https://maskinporten.no/) and asks the Altinn side
at ALTINN_URL (default https://platform.altinn.no/) with a token of its own carrying altinn:authorization/authorize:
its client PROVIDER_CLIENT_ID with the private key in PROVIDER_KEY_FILE (key id PROVIDER_KID).
"""

# No `from __future__ import annotations`: FastAPI reads the route's annotations.
import functools
import os
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException
from fastapi import Path as PathParam

from portvakt.client import GrantSigner, MaskinportenAuth, load_private_key
from portvakt.resource import (
    AccessToken,
    AltinnAuthorization,
    InvalidToken,
    TokenRejected,
    TokenValidator,
    install,
    install_authorization,
    require_token,
    system_user,
)

ISSUER = os.environ.get("MASKINPORTEN_ISSUER", "https://maskinporten.no/")
ALTINN_URL = os.environ.get("ALTINN_URL", "https://platform.altinn.no/")
SCOPE = "brreg:reelle/systembruker"
#: The resource (in Altinn's resource registry) whose rights a system user must hold to read.
RESOURCE = "brreg_reelle_rapport"
AUTHORIZE = "altinn:authorization/authorize"
REALM = "reelle"

validator = TokenValidator(ISSUER)
app = FastAPI(title="Reelle rettighetshavere for system users (example)")
install(app)
install_authorization(app)
reading = require_token(validator, SCOPE, realm=REALM)


@functools.cache
def decision_point() -> AltinnAuthorization:
    """The decision point, asked with this provider's own token (its Maskinporten client, from the environment)."""
    client_id, key_file, kid = (os.environ.get(name) for name in ("PROVIDER_CLIENT_ID", "PROVIDER_KEY_FILE",
                                                                  "PROVIDER_KID"))
    if not (client_id and key_file and kid):
        raise HTTPException(503, "the API is not configured to ask the decision point")
    signer = GrantSigner(client_id=client_id, key=load_private_key(key_file), kid=kid, audience=ISSUER)
    auth = MaskinportenAuth(signer, AUTHORIZE)
    return AltinnAuthorization(ALTINN_URL, auth.token)


@app.get("/reports/{orgno}")
def report(orgno: Annotated[str, PathParam(pattern=r"^[0-9]{9}$")],
           token: Annotated[AccessToken, Depends(reading)],
           pdp: Annotated[AltinnAuthorization, Depends(decision_point)]) -> dict[str, Any]:
    """The report of `orgno`, for a system user that may read RESOURCE for it (its owner's, or a client's)."""
    try:
        found = system_user(token)
    except InvalidToken as exc:
        raise TokenRejected(exc, REALM) from None
    if found is None:
        raise HTTPException(403, "this API answers system users only: ask for a token with authorization_details")
    if not pdp.permits(found, RESOURCE, "read", party=orgno):
        raise HTTPException(403, f"the system user may not read {RESOURCE} for {orgno}")
    return {"orgno": orgno, "system_user_id": found.system_user_id, "system_id": found.system_id,
            "vendor": found.vendor_orgno, "owners": [{"name": "Kari Nordmann", "share": "50-75 %"}]}
