"""Add a system user to a bench registry (docs/protocol.md §6.5): a system of the vendor 314330897 that lists the
given client, and the customer 310838128's approved system user for it, with the change-feed rows a real approval
writes. Uses the PORTVAKT_* settings of the seeded data dir, like `bench/seed.sh`.

Usage: .venv/bin/python bench/seed_systemuser.py CLIENT_ID
"""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime

from portvakt.domain.changes import SYSTEM_KIND, SYSTEM_USER_KIND
from portvakt.domain.models import RegisteredSystem, SystemUser, SystemUserType
from portvakt.settings import Settings
from portvakt.wiring.stores import open_store

VENDOR, CUSTOMER = "314330897", "310838128"
#: The grant claim that asks for the customer's system user (for gen_assertions.py --claim-json).
DETAILS = ('[{"type":"urn:altinn:systemuser","systemuser_org":{"authority":"iso6523-actorid-upis",'
           f'"ID":"0192:{CUSTOMER}"}}}}]')


def add_system_user(client_id: str) -> str:
    """The system and the approved system user; returns the system user's id."""
    now = datetime.now(UTC)
    system_id = f"{VENDOR}_bench"
    user_id = str(uuid.uuid4())
    store = open_store(Settings(), migrate=False)
    with store.begin() as uow:
        uow.put_system(RegisteredSystem(system_id, str(uuid.uuid4()), VENDOR, {"nb": "Bench"}, {"nb": "Bench"},
                                        now, now, client_ids=(client_id,)))
        uow.put_system_user(SystemUser(user_id, SystemUserType.STANDARD, system_id, VENDOR, CUSTOMER, CUSTOMER,
                                       "Bench", now, now))
        uow.record_change(SYSTEM_KIND, system_id)
        uow.record_change(SYSTEM_USER_KIND, CUSTOMER)
    return user_id


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(add_system_user(sys.argv[1]))
