"""Listing one org's clients with 100,000 clients across 1,000 orgs: p50/p99 of GET /api/v1/clients.

    python bench/admin_scale.py [--database-url URL] [--clients 100000] [--orgs 1000] [--requests 500]

Seeds a fresh registry (SQLite in a temp dir unless --database-url), starts `portvakt serve` on
127.0.0.1, gets an admin token with idporten:dcr.read for the first org through /token, then times
sequential list requests (one page of that org's 100 clients). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "portvakt"), *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout


def main() -> None:
    """Seed, serve, measure, print."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url")
    ap.add_argument("--clients", type=int, default=100_000)
    ap.add_argument("--orgs", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--seeded-org", help="the database is seeded already: query this org (skips seeding)")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp())
    env = {**os.environ, "PORTVAKT_DATA_DIR": str(work / "var")}
    if a.database_url:
        env["PORTVAKT_DATABASE_URL"] = a.database_url
    t0 = time.perf_counter()
    seeder = [str(BIN / "python"), str(Path(__file__).with_name("seed_clients.py")), "--orgs", str(a.orgs),
              "--clients", str(a.clients)]
    org = a.seeded_org or subprocess.run(seeder, env=env, capture_output=True, text=True,
                                         check=True).stdout.strip().splitlines()[-1]
    seed_s = time.perf_counter() - t0
    run(env, "access", "grant", "idporten:dcr.read", org)  # idempotent: APPROVED again
    run(env, "keys", "generate", "--out", str(work / "keys"))
    client = json.loads(run(env, "client", "add", "--org", org, "--name", "admin", "--scope", "idporten:dcr.read",
                            "--public-key", str(work / "keys" / "client.jwk.json")))
    port = free_port()
    server = subprocess.Popen([str(BIN / "portvakt"), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}/"
        for _ in range(300):
            try:
                httpx.get(base + "jwk", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        token = json.loads(run(env, "token", "--issuer", base, "--client-id", client["client_id"], "--key",
                               str(work / "keys" / "client.pem"), "--kid", client["keys"][0]["kid"],
                               "--scope", "idporten:dcr.read"))["access_token"]
        with httpx.Client(base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=10) as http:
            times = []
            for i in range(a.requests + 20):
                t = time.perf_counter()
                r = http.get("/api/v1/clients", params={"client_orgno": org})
                if i >= 20:
                    times.append((time.perf_counter() - t) * 1000)
                if r.status_code != 200 or len(r.json()) < a.clients // a.orgs:
                    raise SystemExit(f"unexpected answer: {r.status_code} {r.text[:200]}")
        times.sort()
        print(json.dumps({"database": "postgresql" if a.database_url else "sqlite", "clients": a.clients,
                          "orgs": a.orgs, "page": len(r.json()), "requests": a.requests,
                          "p50_ms": round(statistics.median(times), 2),
                          "p99_ms": round(times[int(len(times) * 0.99) - 1], 2), "max_ms": round(times[-1], 2),
                          "seed_s": round(seed_s, 1)}))
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
