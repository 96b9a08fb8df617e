"""Seed a bench registry with many organisations and clients, fast (batched transactions).

    python bench/seed_clients.py --orgs 1000 --clients 100000    # on PORTVAKT_DATABASE_URL / DATA_DIR

Bench data only: it writes the rows through the store's ports in batches of 1000 per transaction,
without the per-change audit events the use-cases write.
"""

from __future__ import annotations

import argparse
import uuid
from datetime import UTC, datetime

from rich.progress import Progress

from portvakt.domain.models import Client, IntegrationType, Organisation
from portvakt.settings import Settings
from portvakt.wiring import prepare

WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def orgnos(n: int, start: int = 80000000) -> list[str]:
    """n valid 9-digit orgnos (mod-11)."""
    out: list[str] = []
    base = start
    while len(out) < n:
        digits = f"{base:08d}"
        r = sum(int(d) * w for d, w in zip(digits, WEIGHTS, strict=True)) % 11
        check = 0 if r == 0 else 11 - r
        if check != 10:
            out.append(digits + str(check))
        base += 1
    return out


def main() -> None:
    """Seed orgs and clients; prints one org number to query."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--orgs", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=100_000)
    a = ap.parse_args()
    store = prepare(Settings())
    now = datetime.now(UTC)
    orgs = orgnos(a.orgs)
    with Progress() as progress:
        task = progress.add_task("organisations and clients", total=a.orgs + a.clients)
        with store.begin() as uow:
            for o in orgs:
                uow.put_org(Organisation(o, f"Org {o}", now))
        progress.advance(task, a.orgs)
        for start in range(0, a.clients, 1000):
            with store.begin() as uow:
                for i in range(start, min(start + 1000, a.clients)):
                    uow.put_client(Client(str(uuid.uuid4()), f"client {i}", orgs[i % a.orgs],
                                          IntegrationType.MASKINPORTEN, (), now, now))
            progress.advance(task, min(1000, a.clients - start))
    print(orgs[0])


if __name__ == "__main__":
    main()
