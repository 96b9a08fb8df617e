"""The seeding API of the test kit: it goes through the domain's use-cases, so the registry's rules hold, and the
token service sees every change at once (real tokens, real refusals with their MP codes)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from portvakt.domain.orgno import is_valid_orgno
from portvakt.jose import PrivateKeyHandle
from portvakt.testing import Maskinporten, SeedError, TokenRefused


def test_the_server_serves_the_real_endpoints(mp: Maskinporten) -> None:
    meta = httpx.get(mp.metadata_url).json()
    assert mp.issuer.startswith("http://127.0.0.1:")
    assert meta["issuer"] == mp.issuer
    assert meta["token_endpoint"] == mp.token_endpoint
    assert meta["jwks_uri"] == mp.jwks_uri
    assert httpx.get(mp.jwks_uri).json()["keys"]


def test_org_makes_valid_distinct_orgnos(mp: Maskinporten) -> None:
    orgs = [mp.org() for _ in range(20)]
    assert all(is_valid_orgno(o.orgno) for o in orgs)
    assert len({o.orgno for o in orgs}) == 20
    named = mp.org("974760673", name="Brønnøysundregistrene")
    assert (named.orgno, named.name, str(named)) == ("974760673", "Brønnøysundregistrene", "974760673")


def test_an_invalid_orgno_is_refused_with_the_domains_reason(mp: Maskinporten) -> None:
    with pytest.raises(SeedError, match="mod-11"):
        mp.org("123456789")


def test_a_token_carries_the_consumer_scope_and_issuer(mp: Maskinporten) -> None:
    vendor = mp.org()
    api = mp.scope("kit:seed/read")
    mp.grant_access(api, vendor)
    client = mp.client(vendor, [api])
    token = mp.token(client, [api])
    assert token.claims["iss"] == mp.issuer
    assert token.claims["consumer"]["ID"] == f"0192:{vendor.orgno}"
    assert token.claims["client_id"] == client.client_id
    assert token.scope == "kit:seed/read"
    assert token.header["kid"] in {k["kid"] for k in httpx.get(mp.jwks_uri).json()["keys"]}
    assert token.authorization == f"Bearer {token}"


def test_scope_defaults_to_a_provider_that_gets_the_prefix_and_can_be_updated(mp: Maskinporten) -> None:
    first = mp.scope("kitprefix:one")
    second = mp.scope("kitprefix:two")
    assert first.owner == second.owner
    again = mp.scope("kitprefix:one", at_max_age=30)
    assert again.at_max_age == 30
    stranger = mp.org()
    with pytest.raises(SeedError, match="prefix kitprefix is not assigned"):
        mp.scope("kitprefix:three", owner=stranger)


def test_a_client_gets_only_scopes_its_org_may_use(mp: Maskinporten) -> None:
    vendor = mp.org()
    api = mp.scope("kit:seed/closed")
    with pytest.raises(SeedError, match="has no access to scope kit:seed/closed"):
        mp.client(vendor, [api])


def test_without_access_on_the_list_token_is_refused_mp250(mp: Maskinporten) -> None:
    vendor = mp.org()
    api = mp.scope("kit:seed/revoked")
    mp.grant_access(api, vendor)
    client = mp.client(vendor, [api])
    mp.revoke_access(api, vendor)
    with pytest.raises(TokenRefused) as refused:
        mp.token(client, [api])
    assert (refused.value.status, refused.value.error, refused.value.code) == (403, "forbidden", "MP-250")


def test_an_unregistered_scope_is_refused_mp200(mp: Maskinporten) -> None:
    vendor = mp.org()
    api = mp.scope("kitown:read", owner=vendor)
    client = mp.client(vendor, [api])
    with pytest.raises(TokenRefused) as refused:
        mp.token(client, "kitown:other")
    assert (refused.value.status, refused.value.error, refused.value.code) == (400, "invalid_scope", "MP-200")


def test_at_max_age_bounds_the_token_lifetime(mp: Maskinporten) -> None:
    vendor = mp.org()
    api = mp.scope("kit:seed/short", at_max_age=30)
    mp.grant_access(api, vendor)
    token = mp.token(mp.client(vendor, [api]), [api])
    assert token.expires_in == 30
    assert token.claims["exp"] - token.claims["iat"] == 30


def test_the_integration_type_is_checked(mp: Maskinporten) -> None:
    vendor = mp.org()
    api = mp.scope("kit:seed/virksys", integration_types=["altinn_virksys"])
    mp.grant_access(api, vendor)
    with pytest.raises(SeedError, match="not allowed for integration type maskinporten"):
        mp.client(vendor, [api])
    system = mp.client(vendor, [api], integration_type="altinn_virksys")
    assert mp.token(system, [api]).scope == "kit:seed/virksys"
    with pytest.raises(SeedError, match="integration_type must be one of"):
        mp.client(vendor, [api], integration_type="other")


def test_every_client_of_a_server_gets_its_own_key(mp: Maskinporten) -> None:
    vendor = mp.org()
    api = mp.scope("kitkeys:read", owner=vendor)
    kids = {mp.client(vendor, [api]).kid for _ in range(3)}
    assert len(kids) == 3


def test_a_client_key_can_be_given_as_handle_pem_file_or_public_jwk(mp: Maskinporten, tmp_path: Path,
                                                                    rsa_keys: list[PrivateKeyHandle]) -> None:
    vendor = mp.org()
    api = mp.scope("kitgiven:read", owner=vendor)
    handle, from_pem, from_file = rsa_keys
    assert mp.client(vendor, [api], key=handle).kid == handle.kid
    assert mp.client(vendor, [api], key=from_pem.to_pem()).key is not None
    path = tmp_path / "key.pem"
    path.write_bytes(from_file.to_pem())
    by_file = mp.client(vendor, [api], key=path)
    assert by_file.kid == from_file.kid
    assert mp.token(by_file, [api]).scope == "kitgiven:read"


def test_a_public_key_only_client_cannot_sign_here(mp: Maskinporten) -> None:
    vendor = mp.org()
    api = mp.scope("kitpublic:read", owner=vendor)
    other = PrivateKeyHandle.generate(2048)
    client = mp.client(vendor, [api], key=json.loads(json.dumps(other.public_jwk)))
    assert client.key is None
    assert client.kid == other.kid
    with pytest.raises(SeedError, match="public key only"):
        mp.token(client, [api])


def test_a_private_key_written_to_a_file_signs_grants(mp: Maskinporten, tmp_path: Path) -> None:
    from portvakt.client import GrantSigner, fetch_token, load_private_key

    vendor = mp.org()
    api = mp.scope("kitfile:read", owner=vendor)
    client = mp.client(vendor, [api])
    path = client.write_private_key(tmp_path / "client.pem")
    assert path.stat().st_mode & 0o777 == 0o600
    signer = GrantSigner(client_id=client.client_id, key=load_private_key(path), kid=client.kid, audience=mp.issuer)
    assert fetch_token(signer, str(api), token_endpoint=mp.token_endpoint)["scope"] == "kitfile:read"


def test_delegation_gives_a_token_on_behalf_of_the_consumer(mp: Maskinporten) -> None:
    vendor, customer = mp.org(), mp.org()
    api = mp.scope("kit:seed/delegable", delegable=True)
    mp.grant_access(api, customer)
    client = mp.client(vendor, [api])
    with pytest.raises(TokenRefused) as refused:
        mp.token(client, [api], consumer_org=customer)
    assert refused.value.code == "MP-251"
    delegation = mp.delegate(api, customer, vendor)
    assert (delegation.consumer, delegation.supplier) == (customer.orgno, vendor.orgno)
    claims = mp.token(client, [api], consumer_org=customer).claims
    assert claims["consumer"]["ID"] == f"0192:{customer.orgno}"
    assert claims["supplier"]["ID"] == f"0192:{vendor.orgno}"
    assert claims["delegation_source"] == mp.issuer


def test_revoking_a_delegation_refuses_the_next_token_mp251(mp: Maskinporten) -> None:
    vendor, customer = mp.org(), mp.org()
    api = mp.scope("kit:seed/revocable", delegable=True)
    mp.grant_access(api, customer)
    client = mp.client(vendor, [api])
    mp.delegate(api, customer, vendor)
    assert mp.token(client, [api], consumer_org=customer)
    mp.revoke(api, customer, vendor)
    with pytest.raises(TokenRefused) as refused:
        mp.token(client, [api], consumer_org=customer)
    assert refused.value.code == "MP-251"
    with pytest.raises(SeedError, match="delegated nothing"):
        mp.revoke(api, customer, vendor)


def test_a_scheme_of_several_scopes_is_delegated_and_revoked_whole(mp: Maskinporten) -> None:
    vendor, customer = mp.org(), mp.org()
    one = mp.scope("kitscheme:one", delegable=True)
    two = mp.scope("kitscheme:two", delegable=True)
    for api in (one, two):
        mp.grant_access(api, customer)
    client = mp.client(vendor, [one, two])
    scheme = mp.scheme([one, two], title="Both")
    assert scheme.scopes == ("kitscheme:one", "kitscheme:two")
    delegation = mp.delegate(scheme, customer, vendor)
    assert mp.token(client, [one, two], consumer_org=customer).scope == "kitscheme:one kitscheme:two"
    mp.revoke(delegation)
    with pytest.raises(TokenRefused) as refused:
        mp.token(client, [two], consumer_org=customer)
    assert refused.value.code == "MP-251"


def test_a_scope_without_delegation_source_cannot_be_delegated(mp: Maskinporten) -> None:
    vendor, customer = mp.org(), mp.org()
    api = mp.scope("kit:seed/plain")
    with pytest.raises(SeedError, match="has no delegation_source"):
        mp.delegate(api, customer, vendor)
    with pytest.raises(SeedError, match="no scope 'kit:seed/none'"):
        mp.delegate("kit:seed/none", customer, vendor)


def test_strict_mode_is_on_like_maskinporten(mp: Maskinporten) -> None:
    assert mp.settings.token.strict is True


def test_the_environment_does_not_reach_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTVAKT_DATABASE_URL", "postgresql+psycopg://nobody@192.0.2.1:1/none")
    monkeypatch.setenv("PORTVAKT_REPLAY_STORE", "redis")
    with Maskinporten(strict=False, settings={"ratelimit": {"enabled": False}}) as server:
        assert server.settings.resolved_database_url().startswith("sqlite:///")
        assert server.settings.replay_store == "database"
        assert server.settings.token.strict is False
        assert server.settings.ratelimit.enabled is False
        vendor = server.org()
        api = server.scope("kit:env/read", owner=vendor)
        assert server.token(server.client(vendor, [api]), [api]).scope == "kit:env/read"


def test_stop_removes_the_data_dir() -> None:
    server = Maskinporten().start()
    folder = Path(server.settings.data_dir)
    assert (folder / "portvakt.db").exists()
    server.stop()
    assert not folder.exists()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.issuer


def test_client_auth_sends_real_tokens(mp: Maskinporten) -> None:
    from portvakt.jose import peek

    vendor = mp.org()
    api = mp.scope("kitauth:read", owner=vendor)
    client = mp.client(vendor, [api])
    with httpx.Client(auth=client.auth([api])) as http:
        sent = http.get(mp.jwks_uri).request
    claims = peek(sent.headers["authorization"].removeprefix("Bearer ")).claims
    assert (claims["scope"], claims["client_id"], claims["iss"]) == ("kitauth:read", client.client_id, mp.issuer)
