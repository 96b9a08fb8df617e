"""`portvakt serve --demo`: a realistic demo registry and ready commands for a newcomer's first tokens.

Unless PORTVAKT_CERTIFICATES__TRUST_DIR is set, the demo trusts its own dev CA in `<data_dir>/dev-ca` and issues
the vendor an enterprise certificate there, for a client with no registered key (docs/protocol.md §5).

System users (docs/protocol.md §6): the vendor's system 'Turboskatt' is in the system register with the vendor's
client; the customer approved a system user for it, and, being an accounting firm, an agent system user that acts
for one client of its own."""

from __future__ import annotations

import json
import os
import shlex
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from portvakt.altinn.passwords import Argon2PasswordHasher
from portvakt.domain import usecases as uc
from portvakt.domain.audit import Actor
from portvakt.domain.clientroles import register_client_relationship
from portvakt.domain.clock import SystemClock
from portvakt.domain.delegations import create_scheme, delegate
from portvakt.domain.models import (
    AccessState,
    ClientRole,
    IntegrationType,
    PersonRole,
    PortalRole,
    Scope,
    SystemRight,
    SystemUserType,
)
from portvakt.domain.people import add_person
from portvakt.domain.ports import PasswordHasher, Store, UnitOfWork
from portvakt.domain.systemregister import RESOURCE_ATTRIBUTE, SystemSpec, Writer, register_system
from portvakt.domain.systemuser_requests import RequestSpec, create_request
from portvakt.domain.systemusers import add_agent_client, approve_request
from portvakt.jose import PrivateKeyHandle
from portvakt.settings import Settings
from portvakt.wiring import altinn_issuer

from .common import err
from .dev_ca import CaLayout, DevCaError, init_ca, issue, open_ca
from .keys import write_key_pair

PROVIDER = ("974760673", "Brønnøysundregistrene")
VENDOR = ("314330897", "Turbo Systemleverandør AS")
CONSUMER = ("310838128", "Øvre Toten Regnskapstjenester AS")
OPEN_SCOPE = "brreg:enhetsregisteret/oppslag"
DELEGATED_SCOPES = {
    "brreg:reelle/offentlig": "Register over reelle rettighetshavere - Offentlig myndighet",
    "brreg:reelle/rapporteringspliktig": "Register over reelle rettighetshavere - Rapporteringspliktig virksomhet",
}
DELEGATED_SCOPE = "brreg:reelle/rapporteringspliktig"
SCHEME_TITLE = {"nb": "Reelle rettighetshavere", "nn": "Reelle rettshavarar", "en": "Beneficial owners"}
SCHEME_DESCRIPTION = {"nb": "Gir systemleverandøren tilgang til å rapportere reelle rettighetshavere for dere.",
                      "en": "Lets the system vendor report beneficial owners on your behalf."}
DEMO = Actor.operator("demo")
CERT_CLIENT_NAME = "Turboskatt (virksomhetssertifikat)"
#: The vendor's system in the system register (docs/protocol.md §6.1), and what it asks its customers for.
SYSTEM_ID = f"{VENDOR[0]}_turboskatt"
SYSTEM_NAME = {"nb": "Turboskatt", "nn": "Turboskatt", "en": "Turboskatt"}
SYSTEM_DESCRIPTION = {"nb": "Rapporterer reelle rettighetshavere for dere, og for kundene til regnskapsførere.",
                      "nn": "Rapporterer reelle rettshavarar for dykk, og for kundane til rekneskapsførarar.",
                      "en": "Reports beneficial owners for you, and for an accountant's clients."}
#: The right a standard system user gets: the resource the example API (examples/provider/systemuser_api.py) asks
#: the decision point about.
SYSTEM_RESOURCE = "brreg_reelle_rapport"
#: The access package an accounting firm's agent system user holds for its clients (docs/protocol.md §6.4).
CLIENT_PACKAGE = "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"
#: The agent system user's external reference: the customer owns a standard one (external ref = its orgno) of the
#: same system too, and the token service finds a system user by owner and external reference.
AGENT_EXTERNAL_REF = "klienter"
#: The accounting firm's (the customer's) one client.
ACCOUNTING_CLIENT = ("311900048", "Toten Trelast AS")


@dataclass(frozen=True)
class DemoClient:
    """What the printed command needs."""

    client_id: str
    kid: str
    key_file: Path


@dataclass(frozen=True)
class DemoSystemUsers:
    """The registered system, and the two system users' owners and external references for the printed commands."""

    system_id: str
    client_id: str
    owner: str
    agent_owner: str
    agent_external_ref: str
    agent_client: str


@dataclass(frozen=True)
class DemoCertificate:
    """The keyless client and the vendor's enterprise certificate that the printed `--cert` command uses."""

    client_id: str
    pkcs12: Path
    password_file: Path


def dev_ca_folder(data_dir: Path) -> Path:
    """Where the demo keeps its dev CA."""
    return data_dir / "dev-ca"


def demo_trust_dir(data_dir: Path) -> Path:
    """Make the demo's dev CA once (reused on restart) and return its trust folder, as an absolute path."""
    layout = CaLayout(dev_ca_folder(data_dir))
    if not layout.exists():
        init_ca(layout.root, SystemClock().now())
    return layout.trust.resolve()


def _scopes(uow: UnitOfWork, delegation_source: str, now: datetime) -> None:
    uc.assign_prefix(uow, "brreg", PROVIDER[0], DEMO, now)
    wanted = {OPEN_SCOPE: ("Oppslag i Enhetsregisteret", True, None)} | {
        name: (title, False, delegation_source) for name, title in DELEGATED_SCOPES.items()}
    for name, (title, open_to_all, source) in wanted.items():
        prefix, sub = uc.split_scope_name(name)
        uc.put_scope(uow, Scope(prefix, sub, PROVIDER[0], title, now, now, accessible_for_all=open_to_all,
                                delegation_source=source, at_max_age=600), DEMO, now, create=True)
    uc.set_access(uow, DELEGATED_SCOPE, CONSUMER[0], AccessState.APPROVED, DEMO, now)


def _delegation(uow: UnitOfWork, now: datetime) -> None:
    """docs/protocol.md §4.1 steps 2 and 5: Brreg's scheme, and the customer delegating it to the vendor."""
    scheme = create_scheme(uow, PROVIDER[0], list(DELEGATED_SCOPES), SCHEME_TITLE, SCHEME_DESCRIPTION, DEMO, now)
    delegate(uow, CONSUMER[0], VENDOR[0], scheme.scheme_id, DEMO, now)


def demo_people() -> list[tuple[str, str, str, str, PersonRole]]:
    """(username, password, name, mobile, role): one person per portal role for the demo organisations."""
    return [
        ("ida@turbo.demo", "ida-demo-passord", "Ida Integrasjonsansvarlig", "+4790000001",
         PersonRole(VENDOR[0], PortalRole.INTEGRATION_RESPONSIBLE)),
        ("tor@toten.demo", "tor-demo-passord", "Tor Tilgangsstyrer", "+4790000002",
         PersonRole(CONSUMER[0], PortalRole.ACCESS_MANAGER)),
        ("ada@brreg.demo", "ada-demo-passord", "Ada API-administrator", "+4790000003",
         PersonRole(PROVIDER[0], PortalRole.API_ADMIN)),
    ]


def seed_demo_people(store: Store, hasher: PasswordHasher, now: datetime) -> list[tuple[str, str]]:
    """Create the demo people where missing (idempotent; run after the demo organisations exist);
    returns every (username, password) to show the newcomer."""
    wanted = demo_people()
    with store.begin() as uow:
        for username, password, name, mobile, role in wanted:
            if uow.get_person(username) is None:
                add_person(uow, hasher, username=username, name=name, mobile=mobile, password=password,
                           roles=(role,), actor=DEMO, now=now)
    return [(username, password) for username, password, *_ in wanted]


def _seed(store: Store, settings: Settings, folder: Path) -> DemoClient:
    now = SystemClock().now()
    handle = PrivateKeyHandle.generate(2048)
    with store.begin() as uow:
        for orgno, name in (PROVIDER, VENDOR, CONSUMER):
            uc.add_org(uow, orgno, name, DEMO, now)
        _scopes(uow, altinn_issuer(settings), now)
        _delegation(uow, now)
        client = uc.new_client(uow, client_name="Turboskatt", client_orgno=VENDOR[0],
                               integration_type=IntegrationType.MASKINPORTEN,
                               scopes=[OPEN_SCOPE, *DELEGATED_SCOPES], actor=DEMO, now=now,
                               description="Demo system of a system vendor")
        uc.replace_client_keys(uow, client.client_id, [(handle.kid, handle.public_jwk)], DEMO, now)
        key_file, _ = write_key_pair(folder, handle, "vendor")
    demo = DemoClient(client.client_id, handle.kid, key_file)
    (folder / "demo.json").write_text(json.dumps({"client_id": demo.client_id, "kid": demo.kid}))
    return demo


def _system_users(uow: UnitOfWork, client_id: str, now: datetime) -> None:
    """docs/protocol.md §6.1-§6.4 through the Altinn side's use-cases: register the system, then the customer's
    requests (standard, and agent with its own external ref) approved; the client has the customer as its
    accountant (a client relationship, as the operator mirrors Enhetsregisteret), and is added to the agent."""
    if uow.get_org(ACCOUNTING_CLIENT[0]) is None:
        uc.add_org(uow, ACCOUNTING_CLIENT[0], ACCOUNTING_CLIENT[1], DEMO, now)
    right = SystemRight(((RESOURCE_ATTRIBUTE, SYSTEM_RESOURCE),))
    register_system(uow, SystemSpec(
        system_id=SYSTEM_ID, vendor_id=f"0192:{VENDOR[0]}", name=SYSTEM_NAME, description=SYSTEM_DESCRIPTION,
        rights=(right,), access_packages=(CLIENT_PACKAGE,), client_ids=(client_id,),
        is_visible=False), Writer(VENDOR[0]), DEMO, now)  # not visible: it holds a package for clients
    standard = create_request(uow, RequestSpec(SYSTEM_ID, CONSUMER[0], rights=(right,)), SystemUserType.STANDARD,
                              VENDOR[0], DEMO, now).request
    approve_request(uow, standard.request_id, CONSUMER[0], SystemUserType.STANDARD, DEMO, now)
    asked = create_request(uow, RequestSpec(SYSTEM_ID, CONSUMER[0], external_ref=AGENT_EXTERNAL_REF,
                                            access_packages=(CLIENT_PACKAGE,)), SystemUserType.AGENT,
                           VENDOR[0], DEMO, now).request
    agent = approve_request(uow, asked.request_id, CONSUMER[0], SystemUserType.AGENT, DEMO, now)
    register_client_relationship(uow, ACCOUNTING_CLIENT[0], CONSUMER[0], ClientRole.REGNSKAPSFORER, DEMO, now)
    add_agent_client(uow, agent, ACCOUNTING_CLIENT[0], DEMO, now)


def seed_demo_systemusers(store: Store, client_id: str) -> DemoSystemUsers:
    """The demo's system and system users, made once (idempotent: nothing when the system is registered), in one
    transaction."""
    with store.begin() as uow:
        if uow.get_system(SYSTEM_ID) is None:
            _system_users(uow, client_id, SystemClock().now())
    return DemoSystemUsers(SYSTEM_ID, client_id, CONSUMER[0], CONSUMER[0], AGENT_EXTERNAL_REF, ACCOUNTING_CLIENT[0])


def seed_demo(store: Store, settings: Settings) -> DemoClient:
    """Seed once (idempotent across restarts) and print what to run next."""
    folder = Path(settings.data_dir) / "demo"
    marker = folder / "demo.json"
    with store.begin() as uow:
        seeded = uow.get_org(VENDOR[0]) is not None
    if seeded and marker.exists():
        data = json.loads(marker.read_text())
        demo = DemoClient(data["client_id"], data["kid"], folder / "vendor.pem")
    elif seeded:
        raise SystemExit(f"the database has demo data but {marker} is missing; remove {settings.data_dir}")
    else:
        demo = _seed(store, settings, folder)
    certificate = seed_demo_certificate(store, settings)
    systemusers = seed_demo_systemusers(store, demo.client_id)
    people = seed_demo_people(store, Argon2PasswordHasher(), SystemClock().now())
    _announce(demo, settings, people, certificate, systemusers)
    return demo


def _trusts_dev_ca(settings: Settings) -> bool:
    """True if the server's trust folder is the demo's dev CA (serve --demo sets it unless told otherwise)."""
    trust = settings.certificates.trust_dir
    return trust is not None and Path(trust).resolve() == CaLayout(dev_ca_folder(settings.data_dir)).trust.resolve()


def seed_demo_certificate(store: Store, settings: Settings) -> DemoCertificate | None:
    """Issue the vendor's enterprise certificate into `<data_dir>/dev-ca/certs/` and add a keyless maskinporten
    client for it, each once (idempotent); None when the server trusts another folder than the demo's dev CA."""
    if not _trusts_dev_ca(settings):
        return None
    marker = Path(settings.data_dir) / "demo" / "demo.json"
    data = json.loads(marker.read_text())
    now = SystemClock().now()
    try:
        layout = open_ca(dev_ca_folder(settings.data_dir))
        pkcs12, password_file = _vendor_certificate(layout, now)
    except DevCaError as exc:
        err.print(f"[yellow]warning:[/yellow] no demo enterprise certificate: {exc}")
        return None
    client_id = data.get("certificate_client_id")
    if client_id is None:
        with store.begin() as uow:
            client = uc.new_client(uow, client_name=CERT_CLIENT_NAME, client_orgno=VENDOR[0],
                                   integration_type=IntegrationType.MASKINPORTEN, scopes=[OPEN_SCOPE], actor=DEMO,
                                   now=now, description="Demo system that signs with the vendor's enterprise "
                                                        "certificate (no registered key)")
        client_id = client.client_id
        marker.write_text(json.dumps({**data, "certificate_client_id": client_id}))
    return DemoCertificate(str(client_id), pkcs12, password_file)


def _vendor_certificate(layout: CaLayout, now: datetime) -> tuple[Path, Path]:
    """The vendor's PKCS#12 and its password file in the CA's certs/ folder, issued when either is missing."""
    certs = layout.root / "certs"
    pkcs12, password_file = certs / f"{VENDOR[0]}.p12", certs / f"{VENDOR[0]}.p12.password"
    if not (pkcs12.is_file() and password_file.is_file()):
        issued = issue(layout, certs, orgno=VENDOR[0], organisation=VENDOR[1], now=now)
        pkcs12, password_file = issued.pkcs12, issued.password_file
    return pkcs12, password_file


def _announce(demo: DemoClient, settings: Settings, people: list[tuple[str, str]],
              certificate: DemoCertificate | None = None, systemusers: DemoSystemUsers | None = None) -> None:
    exe = os.path.relpath(sys.argv[0]) if sys.argv and sys.argv[0].endswith("portvakt") else "portvakt"
    key = os.path.relpath(demo.key_file.resolve())
    cmd = [exe, "token", "--issuer", settings.resolved_issuer(), "--client-id", demo.client_id,
           "--key", key, "--kid", demo.kid, "--scope"]
    err.print(f"\n[bold]Demo ready.[/bold] {PROVIDER[1]} ({PROVIDER[0]}) offers APIs, {VENDOR[1]} "
              f"({VENDOR[0]}) runs the system 'Turboskatt', {CONSUMER[1]} ({CONSUMER[0]}) is a customer "
              f"who has delegated '{SCHEME_TITLE['nb']}' to the vendor.\n"
              "Get an access token as the vendor, in another terminal:\n")
    err.print("  " + shlex.join([*cmd, OPEN_SCOPE]), soft_wrap=True, highlight=False)
    err.print(f"\nand one on behalf of the customer {CONSUMER[1]} (consumer_org, via the delegation):\n")
    err.print("  " + shlex.join([*cmd, DELEGATED_SCOPE, "--consumer-org", CONSUMER[0]]), soft_wrap=True,
              highlight=False)
    if certificate is not None:
        err.print(f"\nand one with the vendor's enterprise certificate (an x5c grant from the dev CA in "
                  f"{os.path.relpath(dev_ca_folder(Path(settings.data_dir)).resolve())}; the client "
                  f"'{CERT_CLIENT_NAME}' has no registered key):\n")
        cert_cmd = [exe, "token", "--issuer", settings.resolved_issuer(), "--client-id", certificate.client_id,
                    "--cert", os.path.relpath(certificate.pkcs12.resolve()), "--password-file",
                    os.path.relpath(certificate.password_file.resolve()), "--scope", OPEN_SCOPE]
        err.print("  " + shlex.join(cert_cmd), soft_wrap=True, highlight=False)
    if systemusers is not None:
        _announce_systemusers(cmd, systemusers)
    if "portal" in settings.roles:
        err.print(f"\nThe portal is at {settings.resolved_issuer()}portal/ ; log in as one of "
                  f"(SMS messages show at {settings.resolved_issuer()}portal/dev/sms):\n")
        for username, password in people:
            err.print(f"  {username}  {password}", highlight=False)
    err.print(f"\nError codes are explained at {settings.resolved_issuer()}errors/\n")


def _announce_systemusers(cmd: list[str], systemusers: DemoSystemUsers) -> None:
    """The system-user commands: the customer's system user, and the accounting firm's agent system user."""
    err.print(f"\nand one as the system user {CONSUMER[1]} approved for '{SYSTEM_NAME['nb']}' "
              f"({systemusers.system_id}, client id {systemusers.client_id} in the system register):\n")
    err.print("  " + shlex.join([*cmd, OPEN_SCOPE, "--systemuser-org", systemusers.owner]), soft_wrap=True,
              highlight=False)
    err.print(f"\nand one as the agent system user through which {CONSUMER[1]}, an accounting firm, acts for its "
              f"client {ACCOUNTING_CLIENT[1]} ({systemusers.agent_client}):\n")
    err.print("  " + shlex.join([*cmd, OPEN_SCOPE, "--systemuser-org", systemusers.agent_owner, "--external-ref",
                                 systemusers.agent_external_ref]), soft_wrap=True, highlight=False)
