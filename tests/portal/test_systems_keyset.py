"""Adding a key is a read-modify-write guarded by the key set's ETag (keyset.register_key, RFC 9110 §13.1.1): a key
another person added between the read and the write is kept (412, read again, once more), and two such races in a
row are told to the person instead of losing a key."""

from __future__ import annotations

from typing import Any

import pytest

from portvakt.domain.clients import replace_client_keys
from portvakt.jose import PrivateKeyHandle
from portvakt.portal.backend import Backend, KeySet

from .keyhelp import public_pem, stored_kids
from .stack import OP, OPEN_SCOPE, Stack
from .test_systems_status import add_system


def sneak_in(stack: Stack, client_id: str, handle: PrivateKeyHandle, kid: str) -> None:
    """Another person's key, added through the use-case (as through the API) between the portal's read and write."""
    with stack.store.begin() as uow:
        current = uow.get_client(client_id)
        assert current is not None
        keys = [(k.kid, k.jwk) for k in current.keys] + [(kid, {**handle.public_jwk, "kid": kid})]
        replace_client_keys(uow, client_id, keys, OP, stack.runtime.clock.now())


def race_after_reads(monkeypatch: pytest.MonkeyPatch, stack: Stack, client_id: str, handle: PrivateKeyHandle,
                     times: int) -> None:
    """After each of `times` reads of the key set by register_key (the page's own read, for its context, comes
    first), someone else adds a key."""
    original = Backend.key_set
    reads = [0]

    async def key_set(self: Backend, wanted: str) -> KeySet:
        found = await original(self, wanted)
        if wanted == client_id:
            reads[0] += 1
            if 1 < reads[0] <= times + 1:
                sneak_in(stack, client_id, handle, f"colleague-{reads[0] - 1}")
        return found

    monkeypatch.setattr(Backend, "key_set", key_set)


def paste(stack: Stack, client_id: str, handle: PrivateKeyHandle) -> Any:
    return stack.post(f"/portal/systems/{client_id}/keys/paste", {"public_key": public_pem(handle)},
                      follow_redirects=False)


def test_a_key_added_meanwhile_is_kept(ida: Stack, rsa_keys: list[PrivateKeyHandle],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    client_id = add_system(ida, "Raced", [OPEN_SCOPE])
    race_after_reads(monkeypatch, ida, client_id, rsa_keys[1], times=1)
    resp = paste(ida, client_id, rsa_keys[0])
    assert resp.status_code == 303, resp.text
    assert sorted(stored_kids(ida, client_id)) == sorted(["colleague-1", rsa_keys[0].kid]), "no key lost"
    puts = ida.recorder.api_calls("PUT", f"/api/v1/clients/{client_id}/jwks")
    assert len(puts) == 2 and all(r.headers.get("if-match") for r in puts), "412, read again, once more"
    assert puts[0].headers["if-match"] != puts[1].headers["if-match"]


def test_two_races_in_a_row_are_told_and_lose_nothing(ida: Stack, rsa_keys: list[PrivateKeyHandle],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    client_id = add_system(ida, "Raced twice", [OPEN_SCOPE])
    race_after_reads(monkeypatch, ida, client_id, rsa_keys[1], times=2)
    resp = paste(ida, client_id, rsa_keys[0])
    assert resp.status_code == 400
    assert "ble endret av noen andre samtidig" in resp.text
    with ida.store.read() as uow:
        client = uow.get_client(client_id)
    assert client is not None and [k.kid for k in client.keys] == ["colleague-1", "colleague-2"], \
        "both of the colleague's keys stand; the pasted key was not written over them"
