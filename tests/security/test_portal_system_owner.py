"""Threat: the operator as an unasked-for supplier. A virksomhetssystem the portal creates for a vendor belongs
to the vendor (client_orgno = the vendor, no supplier), so its tokens name the vendor alone and carry no
`supplier` claim saying the operator acts for it."""

from __future__ import annotations

from portvakt.jose import PrivateKeyHandle, peek
from tests.portal.conftest import ida, make_stack, stack
from tests.portal.keyhelp import public_pem, token
from tests.portal.stack import VENDOR, Stack

__all__ = ["ida", "make_stack", "stack"]


def test_a_portal_made_system_is_the_vendors_own_and_its_tokens_carry_no_supplier(
        ida: Stack, rsa_keys: list[PrivateKeyHandle]) -> None:
    client_id = ida.create_system("Turboskatt")
    with ida.store.read() as uow:
        made = uow.get_client(client_id)
    assert made is not None
    assert (made.client_orgno, made.supplier_orgno) == (VENDOR, None)
    sent = ida.recorder.api_calls("POST", "/api/v1/clients")[0]
    assert sent.headers["portvakt-acting-for"] == VENDOR and sent.headers["portvakt-person"] == "ida@vendor.test"
    pasted = ida.post(f"/portal/systems/{client_id}/keys/paste", {"public_key": public_pem(rsa_keys[0])},
                      follow_redirects=False)
    assert pasted.status_code == 303, pasted.text
    r = token(ida, client_id, rsa_keys[0])
    assert r.status_code == 200, r.text
    claims = peek(r.json()["access_token"]).claims
    assert claims["consumer"]["ID"] == f"0192:{VENDOR}" and "supplier" not in claims
    listed = ida.browser.get("/portal/systems").text
    assert client_id in listed
