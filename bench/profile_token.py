"""Profile POST /token in process: real grants posted through the ASGI app, no HTTP server, no load generator.

Seeds a throwaway registry with `bench/seed.sh` (SQLite, durable replay store), assembles the app the way
`portvakt serve` does, signs `--count` single-use grants up front, then posts them through the ASGI app,
`--concurrency` at a time. Three passes over fresh grants:

1. timed, twice: as in production, then with `asyncio.to_thread` replaced by an inline call (it now carries only
   the requests whose checks missed a cache; the replay claims always go to api.claims's thread); prints the
   process CPU-µs per token of each, the first being the figure to compare;
2. profiled (cProfile) with that same replacement: it sees the event loop's thread only, so the claim thread's
   inserts are not in it, and cProfile counts wall time, so GIL waits land on the calls that release it (e.g.
   os.urandom); prints the top functions by own time, and the same with the RSA operations left out.

`--systemuser` adds a registered system that lists the bench client and the consumer's approved system user for it,
and puts `authorization_details` for that system user in every grant (docs/protocol.md §6.5), so each token goes
through the system-user lookup (the local one, cached by the change feed) and carries its details.

Usage: .venv/bin/python bench/profile_token.py [--count 3000] [--concurrency 16] [--top 30]
       [--delegated | --systemuser] [--stats FILE]  (FILE: the raw pstats dump, for `python -m pstats FILE`)
       [--instrument]  (one pass, no profile: bench/instructions.py runs it under callgrind)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CRYPTO = ("sign' of", "verify' of", "_rust", "openssl", "cryptography")
CUSTOMER = "310838128"


def _seed(work: Path, port: int) -> dict[str, str]:
    """Run bench/seed.sh into `work` and return its CLIENT_ID, KEY, KID and SCOPE."""
    out = subprocess.run(["bash", str(ROOT / "bench" / "seed.sh"), str(work)], check=True, capture_output=True,
                         text=True, env=dict(os.environ, PORTVAKT_PORT=str(port))).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def _grants(client: dict[str, str], audience: str, count: int, consumer: str | None,
            systemuser: str | None = None) -> list[bytes]:
    """`count` form bodies, each with a fresh signed grant (RFC 7523 §2.1)."""
    from urllib.parse import urlencode

    from portvakt.jose import PrivateKeyHandle, Signer

    signer = Signer(PrivateKeyHandle.from_pem(Path(client["KEY"]).read_bytes()), kid=client["KID"])
    now = int(time.time())
    bodies = []
    for _ in range(count):
        claims: dict[str, Any] = {"iss": client["CLIENT_ID"], "aud": audience, "scope": client["SCOPE"],
                                  "iat": now, "exp": now + 110, "jti": str(uuid.uuid4())}
        if consumer:
            claims["consumer_org"] = consumer
        if systemuser:
            claims["authorization_details"] = [{
                "type": "urn:altinn:systemuser",
                "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": f"0192:{systemuser}"}}]
        bodies.append(urlencode({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                 "assertion": signer.sign(claims)}).encode())
    return bodies


async def _post(app: Any, body: bytes) -> int:
    """One POST /token through the ASGI app; its status."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/token", "raw_path": b"/token", "query_string": b"", "root_path": "",
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080),
             "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/x-www-form-urlencoded"),
                         (b"content-length", str(len(body)).encode())]}
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _drive(app: Any, bodies: list[bytes], concurrency: int) -> dict[int, int]:
    """Post every body, `concurrency` at a time; the count of each status."""
    queue = iter(bodies)
    counts: dict[int, int] = {}

    async def worker() -> None:
        for body in queue:
            status = await _post(app, body)
            counts[status] = counts.get(status, 0) + 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return counts


async def _lifespan(app: Any) -> tuple[asyncio.Queue[dict[str, Any]], asyncio.Task[None]]:
    """Start the app's lifespan (its cache refresher); the queue ends it."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()
    await inbox.put({"type": "lifespan.startup"})

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup"):
            started.set()

    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, send))
    await started.wait()
    return inbox, task


def _print_top(stats: pstats.Stats, top: int, tokens: int, *, skip_crypto: bool) -> None:
    """The `top` functions by own time, as a share of the total."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values()) or 1.0
    rows = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)
    shown = 0
    for (path, line, name), (_cc, calls, tottime, cumtime, _callers) in rows:
        where = f"{Path(path).name}:{line}({name})"
        if skip_crypto and any(c in where or c in path for c in CRYPTO):
            continue
        print(f"  {100 * tottime / total:5.1f} %  {tottime * 1e6 / tokens:7.1f} µs/token  "
              f"cum {cumtime * 1e6 / tokens:7.1f}  calls {calls:>7}  {where}")
        shown += 1
        if shown >= top:
            break


def _callgrind(state: str) -> None:
    """Switch callgrind's instrumentation of this process on or off (valgrind's callgrind_control)."""
    subprocess.run(["callgrind_control", "--instr", state, str(os.getpid())], check=True, capture_output=True)


async def main() -> None:
    """Seed, assemble, time, profile, print."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=3000, help="grants per pass")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--top", type=int, default=30)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--delegated", action="store_true", help="consumer_org=310838128 in every grant")
    mode.add_argument("--systemuser", action="store_true",
                      help="authorization_details for 310838128's system user in every grant")
    ap.add_argument("--stats", help="write the raw pstats here")
    ap.add_argument("--instrument", action="store_true",
                    help="one pass only, with callgrind's instrumentation switched on around it (for instructions.py)")
    a = ap.parse_args()
    port = 8080
    with tempfile.TemporaryDirectory(prefix="portvakt-profile-") as tmp:
        work = Path(tmp)
        os.environ.update(PORTVAKT_DATA_DIR=str(work / "var"), PORTVAKT_PORT=str(port), PORTVAKT_HOST="127.0.0.1")
        os.environ.setdefault("PORTVAKT_RATELIMIT__PER_CLIENT_PER_MINUTE", "1000000")
        os.environ.setdefault("PORTVAKT_RATELIMIT__PER_ADDRESS_PER_MINUTE", "10000000")
        client = _seed(work, port)
        if a.systemuser:
            from seed_systemuser import add_system_user

            add_system_user(client["CLIENT_ID"])
        from portvakt.settings import Settings
        from portvakt.wiring import assemble

        app = assemble(Settings())
        inbox, life = await _lifespan(app)
        audience = f"http://127.0.0.1:{port}/"
        consumer = CUSTOMER if a.delegated else None
        systemuser = CUSTOMER if a.systemuser else None
        warm, threaded, inlined, profiled = (_grants(client, audience, n, consumer, systemuser)
                                             for n in (300, a.count, a.count, a.count))
        print(f"warm-up: {await _drive(app, warm, a.concurrency)}")
        if a.instrument:
            _callgrind("on")
            counts = await _drive(app, threaded, a.concurrency)
            _callgrind("off")
            print(f"instrumented pass: {counts}")
            await inbox.put({"type": "lifespan.shutdown"})
            await life
            return

        async def inline(func: Any, /, *args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

        real = asyncio.to_thread
        for name, bodies, hop in (("worker threads", threaded, real), ("inline, no thread hop", inlined, inline)):
            asyncio.to_thread = hop
            cpu0, wall0 = time.process_time(), time.perf_counter()
            counts = await _drive(app, bodies, a.concurrency)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            asyncio.to_thread = real
            print(f"timed pass ({name}): {counts}; {cpu * 1e6 / a.count:.1f} CPU-µs/token, "
                  f"{a.count / wall:.0f} tokens/s in process")
        asyncio.to_thread = inline
        profiler = cProfile.Profile()
        try:
            profiler.enable()
            counts = await _drive(app, profiled, a.concurrency)
            profiler.disable()
        finally:
            asyncio.to_thread = real
        print(f"profiled pass (inline): {counts}")
        stats = pstats.Stats(profiler)
        if a.stats:
            stats.dump_stats(a.stats)
        print("top by own time:")
        _print_top(stats, a.top, a.count, skip_crypto=False)
        print("top by own time, RSA and the cryptography bindings left out:")
        _print_top(stats, a.top, a.count, skip_crypto=True)
        await inbox.put({"type": "lifespan.shutdown"})
        await life


if __name__ == "__main__":
    asyncio.run(main())
