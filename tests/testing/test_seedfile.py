"""Seed files (portvakt.testing.seedfile): names resolve to orgnos, each entry goes through the seeding API, and a
mistake in the file is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portvakt.jose import PrivateKeyHandle
from portvakt.testing import Maskinporten, SeedError
from portvakt.testing.seedfile import apply_seed, load_seed, summary

SEED = """
orgs:
  provider: {name: Provider}
  vendor: {}
  customer: {orgno: "310838128"}
scopes:
  seedfile:delegable: {owner: provider, delegable: true, at_max_age: 60}
  seedfile:open: {owner: provider, accessible_for_all: true}
access:
  - {scope: "seedfile:delegable", org: customer}
clients:
  own: {org: vendor, scopes: ["seedfile:open"]}
  given: {org: vendor, scopes: ["seedfile:open"], key_file: keys/given.pem, name: Given key}
  public: {org: vendor, scopes: ["seedfile:delegable"], public_key: public.jwk.json, integration_type: altinn_virksys}
delegations:
  - {scope: "seedfile:delegable", consumer: customer, supplier: vendor}
"""


def test_a_seed_file_is_applied_by_name(mp: Maskinporten, tmp_path: Path, rsa_keys: list[PrivateKeyHandle]) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "given.pem").write_bytes(rsa_keys[0].to_pem())
    (tmp_path / "public.jwk.json").write_text(json.dumps(rsa_keys[1].public_jwk))
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED, encoding="utf-8")
    done = apply_seed(mp, seed)
    assert done.orgs["customer"].orgno == "310838128"
    assert done.orgs["provider"].name == "Provider"
    assert done.scopes == ["seedfile:delegable", "seedfile:open"]
    assert done.clients["given"].kid == rsa_keys[0].kid
    assert done.clients["public"].key is None
    assert done.clients["public"].integration_type == "altinn_virksys"
    vendor, customer = done.orgs["vendor"].orgno, done.orgs["customer"].orgno
    assert [(d.consumer, d.supplier) for d in done.delegations] == [(customer, vendor)]
    assert mp.token(done.clients["own"], "seedfile:open").scope == "seedfile:open"
    out = summary(mp, done, tmp_path / "keys")
    assert out["token_endpoint"] == mp.token_endpoint
    assert out["orgs"]["vendor"] == vendor
    assert Path(out["clients"]["own"]["key_file"]).read_bytes() == done.clients["own"].private_key_pem
    assert "key_file" not in out["clients"]["public"]


def test_a_mapping_is_a_seed_too(mp: Maskinporten) -> None:
    done = apply_seed(mp, {"orgs": {"a": {}}, "scopes": ["seedmap:read"],
                           "access": [{"scope": "seedmap:read", "org": "a"}],
                           "clients": {"c": {"org": "a", "scopes": ["seedmap:read"]}}})
    assert mp.token(done.clients["c"], "seedmap:read").claims["consumer"]["ID"] == f"0192:{done.orgs['a'].orgno}"


@pytest.mark.parametrize(("seed", "message"), [
    ({"organisations": {}}, "unknown seed section(s) organisations"),
    ({"orgs": {"a": {"orgnr": "1"}}}, "orgs.a: unknown field(s) orgnr"),
    ({"orgs": ["a"]}, "seed section orgs must be a mapping"),
    ({"access": {"scope": "x"}}, "seed section access must be a list"),
    ({"clients": {"c": {"scopes": []}}}, "clients.c names no organisation"),
    ({"scopes": {"no-colon": {}}}, "scope name must be prefix:subscope"),
])
def test_mistakes_are_named(mp: Maskinporten, seed: dict[str, object], message: str) -> None:
    with pytest.raises(SeedError, match=message.replace("(", r"\(").replace(")", r"\)")):
        apply_seed(mp, seed)


def test_a_file_that_is_not_a_mapping_or_not_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(SeedError, match="must hold a mapping"):
        load_seed(bad)
    bad.write_text("orgs: {a: [\n")
    with pytest.raises(SeedError, match="not valid YAML"):
        load_seed(bad)
    with pytest.raises(SeedError, match="cannot read the seed file"):
        load_seed(tmp_path / "missing.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load_seed(empty) == {}


def test_a_server_can_be_seeded_when_it_starts() -> None:
    with Maskinporten(seed={"orgs": {"a": {}}, "scopes": {"seedstart:read": {"owner": "a"}},
                            "clients": {"c": {"org": "a", "scopes": ["seedstart:read"]}}}) as server:
        assert server.seeded is not None
        client = server.seeded.clients["c"]
        assert client.org == server.seeded.orgs["a"].orgno
        assert server.token(client, "seedstart:read").scope == "seedstart:read"


def test_a_seed_that_fails_at_start_leaves_no_server() -> None:
    server = Maskinporten(seed={"orgs": {"a": {"orgno": "123"}}})
    with pytest.raises(SeedError, match="mod-11"):
        server.start()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.issuer
