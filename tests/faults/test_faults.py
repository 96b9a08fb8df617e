"""The fault suite: two real nodes on PostgreSQL and Redis under a bounded load of valid, invalid and replayed grants
while a node, PostgreSQL, Redis or node A's link to PostgreSQL fails; afterwards every check of tests/faults/checks.py
(docs/security.md: fail closed, Store outage, Stale cache; docs/protocol.md §1.5 MP-012, MP-503, MP-504).

Each scenario runs its fault cycle once, or again and again for FAULTS_DURATION seconds (`make soak`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.faults.harness import (
    CONSUMER,
    SCOPES,
    STALENESS,
    VENDOR,
    Cycle,
    Deployment,
    Node,
    ReplayStore,
    accepts,
    delegation_id,
    readiness,
)
from tests.faults.load import (
    BAD_SIGNATURE,
    DELEGATED,
    EXPIRED,
    REPLAY,
    REVOCABLE_ACCESS,
    SPARE_KEY,
    UNKNOWN_KID,
    VALID,
    WRONG_AUDIENCE,
)
from tests.faults.postgres import Cluster, StopMode

#: Seconds each scenario repeats its fault cycle; 0 (the default, `make test`): once.
DURATION = float(os.environ.get("FAULTS_DURATION") or 0)
pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.postgres,
              pytest.mark.timeout(int(DURATION * 1.5) + 280)]
MIX = [(VALID, 0.5), (DELEGATED, 0.1), (REPLAY, 0.15), (BAD_SIGNATURE, 0.05), (UNKNOWN_KID, 0.05), (EXPIRED, 0.05),
       (WRONG_AUDIENCE, 0.05)]
CHANGE_MIX = [*MIX, (SPARE_KEY, 0.1), (REVOCABLE_ACCESS, 0.1)]
Deploy = Callable[[ReplayStore], Deployment]


def repeat(cycle: Callable[[int], str | None]) -> None:
    """Run the cycle once, or until FAULTS_DURATION has passed; fail with every cycle's report."""
    reports: list[str] = []
    deadline = time.monotonic() + DURATION
    n = 0
    while n == 0 or time.monotonic() < deadline:
        n += 1
        if (report := cycle(n)) is not None:
            reports.append(report)
    assert not reports, f"{len(reports)} of {n} cycle(s) violated checks:\n" + "\n\n".join(reports)


def test_kill_9_a_node_and_restart_it(deploy: Deploy) -> None:
    d = deploy("database")
    a = d.nodes["A"]

    def cycle(n: int) -> str | None:
        c = Cycle(d, MIX, f"kill -9 node A and restart it (replay store database), cycle {n}")
        with c.running():
            c.wait(3)
            killed = time.time()
            a.kill()
            c.note("kill -9 node A")
            c.wait(2)
            try:
                a.start()
            finally:
                c.down("A", killed, time.time())
            c.healed("node A restarted (it answers /jwk)")
            c.await_recovery()
        return c.finish()

    repeat(cycle)


@pytest.mark.parametrize(("mode", "replay"), [("fast", "redis"), ("immediate", "database")],
                         ids=["fast-stop-redis-replay", "crash-stop-database-replay"])
def test_postgres_stopped_and_started_again(deploy: Deploy, cluster: Cluster, mode: StopMode,
                                            replay: ReplayStore) -> None:
    d = deploy(replay)

    def cycle(n: int) -> str | None:
        c = Cycle(d, MIX, f"PostgreSQL stopped -m {mode} for {STALENESS + 2:g} s (replay store {replay}), cycle {n}")
        with c.running():
            c.wait(3)
            cluster.stop(mode)
            c.note(f"pg_ctl stop -m {mode}")
            try:
                c.wait(STALENESS + 2)
                c.note(readiness(d.nodes["B"]))
            finally:
                cluster.start()
            c.healed("PostgreSQL started again")
            c.await_recovery()
        return c.finish()

    repeat(cycle)


def test_redis_killed_and_restarted_from_an_old_snapshot(deploy: Deploy) -> None:
    d = deploy("redis")

    def cycle(n: int) -> str | None:
        c = Cycle(d, MIX, f"kill -9 Redis, restarted from an old snapshot (replay store redis), cycle {n}")
        with c.running():
            c.wait(3)
            d.redis.snapshot()
            c.note(f"SAVE: a snapshot of {d.redis.keys()} keys")
            c.wait(4)
            held = d.redis.keys()
            d.redis.kill()
            c.note(f"kill -9 Redis (it held {held} keys)")
            c.wait(2)
            d.redis.start()
            c.healed(f"Redis restarted from the snapshot ({d.redis.keys()} keys)")
            c.await_recovery()
        return c.finish()

    repeat(cycle)


def test_redis_stopped_with_sigstop_then_continued(deploy: Deploy) -> None:
    d = deploy("redis")

    def cycle(n: int) -> str | None:
        c = Cycle(d, MIX, f"SIGSTOP Redis for 6 s, then SIGCONT (replay store redis), cycle {n}")
        with c.running():
            c.wait(3)
            d.redis.pause()
            c.note("SIGSTOP Redis")
            try:
                c.wait(6)
            finally:
                d.redis.resume()
            c.healed("SIGCONT Redis")
            c.await_recovery()
        return c.finish()

    repeat(cycle)


@pytest.mark.parametrize(("link", "replay"), [("cut", "redis"), ("blackhole", "database")],
                         ids=["cut-redis-replay", "blackhole-database-replay"])
def test_node_a_cut_off_from_postgres_while_b_changes_the_registry(deploy: Deploy, link: str,
                                                                   replay: ReplayStore) -> None:
    """With Redis node A may issue from its cache until the staleness bound; with the database every grant it
    spends crosses the link, so a black hole needs the store's timeouts to be answered at all."""
    d = deploy(replay)
    a, b = d.nodes["A"], d.nodes["B"]
    system = d.registry.system
    jwks = f"api/v1/clients/{system}/jwks"
    access = f"api/v1/scopes/access/{VENDOR}"

    def cycle(n: int) -> str | None:
        restored = [d.vendor.call(b, "POST", jwks, json={"keys": [d.keys.main.public_jwk, d.keys.spare.public_jwk]}),
                    d.provider.call(b, "PUT", access, params={"scope": SCOPES.revocable})]
        delegation = delegation_id(d, b)
        last = [admin.last and admin.last.outcome for admin in (d.vendor, d.provider, d.consumer)]
        assert all(r is not None and r.status_code == 200 for r in restored) and delegation, \
            f"the registry could not be set up through node B; the admins' last answers: {last}"
        for kind in (SPARE_KEY, REVOCABLE_ACCESS, DELEGATED):
            assert accepts(d, kind), f"the nodes do not issue tokens for {kind} grants before the fault"
        c = Cycle(d, CHANGE_MIX, f"node A's link to PostgreSQL {link} for {STALENESS + 5:g} s while node B removes a "
                                 f"key and revokes an access and a delegation (replay store {replay}), cycle {n}")
        with c.running():
            c.wait(3)
            if link == "cut":
                d.proxy.cut()
            else:
                d.proxy.blackhole()
            c.note(f"node A's link to PostgreSQL: {link}")
            try:
                c.wait(1)
                c.record_change("the spare key was removed", SPARE_KEY, "MP-126", "B",
                                d.vendor.call(b, "POST", jwks, c.recorder, json={"keys": [d.keys.main.public_jwk]}))
                c.record_change("the access to the revocable scope was revoked", REVOCABLE_ACCESS, "MP-250", "B",
                                d.provider.call(b, "DELETE", access, c.recorder, params={"scope": SCOPES.revocable}))
                c.record_change("the delegation was revoked", DELEGATED, "MP-251", "B",
                                d.consumer.call(b, "DELETE", f"accessmanagement/api/v1/delegations/{delegation}",
                                                c.recorder))
                c.wait(STALENESS + 3)  # well past the bound after the changes
                c.note(readiness(a))
            finally:
                d.proxy.heal()
            c.healed(f"node A's link healed (was {link})")
            c.await_recovery()
        return c.finish(lambda: changes_present(d, delegation))

    repeat(cycle)


def changes_present(d: Deployment, delegation: str) -> list[str]:
    """Every acknowledged change of the cut scenario is what each node's API shows afterwards."""
    found: list[str] = []
    for name, node in d.nodes.items():
        for what, seen in _changes_seen(d, node, delegation).items():
            if seen is not True:
                found.append(f"every acknowledged change is present afterwards: through node {name}, {what}: "
                             f"{seen}")
    return found


def _changes_seen(d: Deployment, node: Node, delegation: str) -> dict[str, Any]:
    """For each change: True if the node's API shows it, else what it showed."""
    keys = d.vendor.call(node, "GET", f"api/v1/clients/{d.registry.system}/jwks")
    access = d.provider.call(node, "GET", "api/v1/scopes/access", params={"scope": SCOPES.revocable})
    delegations = d.consumer.call(node, "GET", "accessmanagement/api/v1/delegations",
                                  params={"include_revoked": "true"})
    seen: dict[str, Any] = {}
    if keys is None or keys.status_code != 200:
        seen["the spare key is gone"] = "no answer" if keys is None else keys.status_code
    else:
        kids = sorted(k["kid"] for k in keys.json()["keys"])
        seen["the spare key is gone"] = kids == [d.keys.main.kid] or f"the key set is {kids}"
    if access is None or access.status_code != 200:
        seen["the access is revoked"] = "no answer" if access is None else access.status_code
    else:
        states = [e["state"] for e in access.json() if e["consumer_orgno"] == VENDOR]
        seen["the access is revoked"] = states not in ([], ["APPROVED"]) or f"the vendor's entry is {states}"
    if delegations is None or delegations.status_code != 200:
        seen["the delegation is revoked"] = "no answer" if delegations is None else delegations.status_code
    else:
        mine = [e for e in delegations.json() if e["delegation_id"] == delegation and e["consumer_org"] == CONSUMER]
        seen["the delegation is revoked"] = (len(mine) == 1 and mine[0]["active"] is False) or f"it is {mine}"
    return seen
