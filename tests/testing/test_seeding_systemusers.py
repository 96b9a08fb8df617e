"""The test kit's system users (docs/protocol.md §6): a vendor's system, a customer's system user for it, and a real
token that names the system user, refused with MP-303 once it is deleted."""

from __future__ import annotations

import httpx
import pytest

from portvakt.jose import peek
from portvakt.testing import Maskinporten, SeedError, TokenRefused


def test_a_system_user_token_names_the_system_user_and_the_vendor(mp: Maskinporten) -> None:
    vendor, customer = mp.org(), mp.org()
    api = mp.scope("kit:su/read", accessible_for_all=True)
    client = mp.client(vendor, [api])
    system = mp.system(client, ["kit_annual_accounts", "kit_tax_return"], name="books")
    assert system.system_id.startswith(f"{vendor.orgno}_books") and system.client_ids == (client.client_id,)
    user = mp.system_user(system, customer, external_ref="customer-1")
    token = mp.token(client, [api], systemuser_org=customer, external_ref="customer-1")
    assert token.claims["consumer"]["ID"] == f"0192:{vendor.orgno}" and "supplier" not in token.claims
    assert token.claims["authorization_details"] == [{
        "type": "urn:altinn:systemuser",
        "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": f"0192:{customer.orgno}"},
        "systemuser_id": [user.system_user_id], "system_id": system.system_id, "externalRef": "customer-1"}]
    with httpx.Client(auth=client.auth([api], systemuser_org=customer, external_ref="customer-1")) as http:
        sent = http.get(mp.jwks_uri).request.headers["authorization"].removeprefix("Bearer ")
    assert peek(sent).claims["authorization_details"][0]["systemuser_id"] == [user.system_user_id]
    mp.remove_system_user(user)
    with pytest.raises(TokenRefused) as refused:
        mp.token(client, [api], systemuser_org=customer, external_ref="customer-1")
    assert refused.value.code == "MP-303"


def test_the_external_ref_defaults_to_the_customers_orgno(mp: Maskinporten) -> None:
    vendor, customer = mp.org(), mp.org()
    api = mp.scope("kit:su/default", accessible_for_all=True)
    client = mp.client(vendor, [api])
    user = mp.system_user(mp.system(client, "kit_report"), customer)
    assert user.external_ref == customer.orgno
    details = mp.token(client, [api], systemuser_org=customer).claims["authorization_details"][0]
    assert details["systemuser_id"] == [user.system_user_id] and details["externalRef"] == customer.orgno


def test_seeding_refusals_are_readable(mp: Maskinporten) -> None:
    vendor, other = mp.org(), mp.org()
    client = mp.client(vendor, [])
    with pytest.raises(SeedError, match="needs one or more registered clients"):
        mp.system([client, mp.client(other, [])], "kit_report")
    with pytest.raises(SeedError, match="make it first"):
        mp.system_user("no_such_system", other)
    system = mp.system(client, "kit_report")
    with pytest.raises(SeedError, match="AUTH-00001"):
        mp.system_user(system, other, rights=["kit_not_offered"])
    mp.system_user(system, other)
    with pytest.raises(SeedError, match="AUTH-00004"):
        mp.system_user(system, other)
