"""The vendor's system the system-register, request and system-user tests share: its id, its rights and packages,
and who writes it (docs/protocol.md §6.1)."""

from __future__ import annotations

from portvakt.domain.audit import Actor
from portvakt.domain.models import SystemRight
from tests.conftest import VENDOR

SYSTEM_ID = f"{VENDOR}_regnskap"
#: A right naming an action, and one for any action on its resource.
READ = SystemRight(resource=(("urn:altinn:resource", "ske-krav-og-betalinger"),), action="read")
ANY = SystemRight(resource=(("urn:altinn:resource", "app_ttd_demo"),))
#: A package the owner itself gives, and one an accounting firm gets for its clients (an agent's package).
OWN = "urn:altinn:accesspackage:skattnaering"
CLIENT_PACKAGE = "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"
#: The vendor's administrator, the actor of the vendor's writes.
ACTOR = Actor(VENDOR, f"admin-{VENDOR}")
