"""A seed file (YAML, or JSON, which is YAML too): the seeding API as data, for `Maskinporten(seed=...)` and
`portvakt serve --ephemeral --seed FILE.yaml` (tests in other languages start a server from a file).

    orgs:                       # names for the organisations; orgno optional (a fresh valid one is made)
      provider: {orgno: "974760673", name: Brønnøysundregistrene}
      vendor: {name: Turbo Systemleverandør AS}
      customer: {}
    scopes:                     # name: options of scope()
      brreg:reelle/offentlig: {owner: provider, delegable: true, at_max_age: 600}
    access:                     # grant_access(scope, org)
      - {scope: brreg:reelle/offentlig, org: customer}
    clients:                    # name: options of client(); key_file (private PEM) or public_key (PEM/JWK file)
      turbo: {org: vendor, scopes: [brreg:reelle/offentlig]}
    delegations:                # delegate(scope or scheme, consumer, supplier)
      - {scope: brreg:reelle/offentlig, consumer: customer, supplier: vendor}

An organisation is named by its key under `orgs` or by an orgno. Relative key paths are read from the seed file's
folder. Each section is applied in the order above, each entry with the seeding API, so the same rules hold.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .seeding import Client, Delegation, Org, Seeder, SeedError

SECTIONS = ("orgs", "scopes", "access", "clients", "delegations")
_ORG_FIELDS = {"orgno", "name"}
_SCOPE_FIELDS = {"owner", "delegable", "at_max_age", "accessible_for_all", "integration_types", "description"}
_CLIENT_FIELDS = {"org", "scopes", "integration_type", "name", "access_token_lifetime", "key_file", "public_key"}


@dataclass
class Seeded:
    """What a seed made, by the names the file gave: orgs (name → Org), scopes, clients (name → Client),
    delegations."""

    orgs: dict[str, Org] = field(default_factory=dict)
    scopes: list[str] = field(default_factory=list)
    clients: dict[str, Client] = field(default_factory=dict)
    delegations: list[Delegation] = field(default_factory=list)


def load_seed(path: str | Path) -> dict[str, Any]:
    """The seed file as a mapping (YAML 1.1 safe load; JSON is accepted as YAML)."""
    import yaml  # type: ignore[import-untyped]

    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SeedError(f"cannot read the seed file {file}: {exc.strerror or exc.__class__.__name__}") from None
    except yaml.YAMLError as exc:
        raise SeedError(f"the seed file {file} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SeedError(f"the seed file {file} must hold a mapping with the sections {', '.join(SECTIONS)}")
    return data


def apply_seed(mp: Seeder, spec: str | Path | Mapping[str, Any], base: Path | None = None) -> Seeded:
    """Apply a seed (a file's path, or its mapping) with mp's seeding API; returns what it made, by name."""
    if isinstance(spec, str | Path):
        base = Path(spec).resolve().parent
        spec = load_seed(spec)
    unknown = set(spec) - set(SECTIONS)
    if unknown:
        raise SeedError(f"unknown seed section(s) {', '.join(sorted(map(str, unknown)))}; "
                        f"the sections are {', '.join(SECTIONS)}")
    folder = base or Path.cwd()
    done = Seeded()
    for name, options in _mapping(spec, "orgs").items():
        opts = _fields(options, _ORG_FIELDS, f"orgs.{name}")
        orgno = opts.get("orgno")
        done.orgs[str(name)] = mp.org(None if orgno is None else str(orgno), opts.get("name") or str(name))

    def org(ref: object, where: str) -> str:
        if ref is None:
            raise SeedError(f"{where} names no organisation")
        key = str(ref)
        return done.orgs[key].orgno if key in done.orgs else key

    scopes = spec.get("scopes") or {}
    items = scopes.items() if isinstance(scopes, Mapping) else ((s, {}) for s in _list(scopes, "scopes"))
    for name, options in items:
        opts = _fields(options, _SCOPE_FIELDS, f"scopes.{name}")
        if "owner" in opts:
            opts["owner"] = org(opts["owner"], f"scopes.{name}.owner")
        done.scopes.append(mp.scope(str(name), **opts).name)
    for n, entry in enumerate(_list(spec.get("access"), "access")):
        opts = _fields(entry, {"scope", "org"}, f"access[{n}]")
        mp.grant_access(str(opts.get("scope")), org(opts.get("org"), f"access[{n}]"))
    for name, options in _mapping(spec, "clients").items():
        opts = _fields(options, _CLIENT_FIELDS, f"clients.{name}")
        key = opts.pop("key_file", None) or opts.pop("public_key", None)
        done.clients[str(name)] = mp.client(org(opts.pop("org", None), f"clients.{name}"), opts.pop("scopes", []),
                                            key=None if key is None else folder / str(key), **opts)
    for n, entry in enumerate(_list(spec.get("delegations"), "delegations")):
        opts = _fields(entry, {"scope", "consumer", "supplier"}, f"delegations[{n}]")
        done.delegations.append(mp.delegate(str(opts.get("scope")), org(opts.get("consumer"), f"delegations[{n}]"),
                                            org(opts.get("supplier"), f"delegations[{n}]")))
    return done


def _mapping(spec: Mapping[str, Any], section: str) -> Mapping[str, Any]:
    value = spec.get(section) or {}
    if not isinstance(value, Mapping):
        raise SeedError(f"seed section {section} must be a mapping of names to options")
    return value


def _list(value: object, section: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SeedError(f"seed section {section} must be a list")
    return value


def _fields(options: object, allowed: set[str], where: str) -> dict[str, Any]:
    """The entry's options, checked against the fields it may have."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise SeedError(f"{where} must be a mapping of options")
    unknown = set(map(str, options)) - allowed
    if unknown:
        raise SeedError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; "
                        f"allowed: {', '.join(sorted(allowed))}")
    return {str(k): v for k, v in options.items()}


def summary(mp: Any, seeded: Seeded, key_dir: Path | None = None) -> dict[str, Any]:
    """What a test in another language needs, as JSON-ready data: the endpoints, the orgnos, and each client's
    client_id and kid, with its private key written to `key_dir/<name>.pem` (mode 0600) when one was made."""
    clients: dict[str, Any] = {}
    for name, client in seeded.clients.items():
        entry: dict[str, Any] = {"client_id": client.client_id, "kid": client.kid, "org": client.org,
                                 "scopes": list(client.scopes)}
        if key_dir is not None and client.key is not None:
            entry["key_file"] = str(client.write_private_key(key_dir / f"{name}.pem"))
        clients[name] = entry
    return {"issuer": mp.issuer, "token_endpoint": mp.token_endpoint, "jwks_uri": mp.jwks_uri,
            "orgs": {name: o.orgno for name, o in seeded.orgs.items()}, "scopes": seeded.scopes,
            "clients": clients,
            "delegations": [{"delegation_id": d.delegation_id, "consumer": d.consumer, "supplier": d.supplier}
                            for d in seeded.delegations]}


def summary_json(mp: Any, seeded: Seeded, key_dir: Path | None = None) -> str:
    """`summary` as one line of JSON."""
    return json.dumps(summary(mp, seeded, key_dir), ensure_ascii=False, separators=(",", ":"))
