"""How long the test kit's server (portvakt.testing) takes to be ready: the numbers of bench/RESULTS.md's
"Test fixture start-up" section.

    .venv/bin/python bench/fixture_startup.py [--rounds 20] [--repeat 5]

Every measurement runs in fresh interpreter processes, so nothing is warm that a user's first test would not have:

1. `Maskinporten().start()` in a fresh process (each figure the median of `repeat` processes): the import of the
   server's modules and the start itself, with an empty template cache (the first run ever for a schema: migrations
   and signing keys) and with the cache filled;
2. warm starts in one process (what every function fixture after the first costs): median and 90th percentile of
   start(), of stop(), and of stop(wait=False) (what the plugin's teardown waits);
3. through pytest: a generated suite of `rounds` tests that use only the `maskinporten` fixture, once with the
   function scope and once with the session scope, `repeat` times each (the first test's median); each test's setup
   time is measured by a hook around pytest's setup phase (a conftest in the generated suite).

Python's bytecode cache decides much of the import time: the runs are made as the environment says
(PYTHONDONTWRITEBYTECODE), and again with a bytecode cache in a temporary PYTHONPYCACHEPREFIX, filled first.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

FRESH_START = textwrap.dedent("""
    import json, time
    t0, c0 = time.perf_counter(), time.process_time()
    import portvakt.testing.server as server_module  # the plugin's own import is cheap; this is the server
    import portvakt.wiring, uvicorn  # what start() imports on first use
    t1, c1 = time.perf_counter(), time.process_time()
    mp = server_module.Maskinporten().start()
    t2, c2 = time.perf_counter(), time.process_time()
    mp.stop()
    print(json.dumps({"import": t1 - t0, "start": t2 - t1, "import_cpu": c1 - c0, "start_cpu": c2 - c1}))
""")

WARM_STARTS = textwrap.dedent("""
    import json, sys, time
    from portvakt.testing import Maskinporten
    Maskinporten().start().stop()  # the first start of the process (imports) is measured elsewhere
    rounds = int(sys.argv[1])
    starts, cpu, stops, detached = [], [], [], []
    for n in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        mp = Maskinporten().start()
        t1 = time.perf_counter()
        cpu.append(time.process_time() - c0)
        if n % 2:
            mp.stop()
            stops.append(time.perf_counter() - t1)
        else:
            mp.stop(wait=False)
            detached.append(time.perf_counter() - t1)
        starts.append(t1 - t0)
    from portvakt.testing import wait_for_stopped
    wait_for_stopped()
    print(json.dumps({"start": starts, "start_cpu": cpu, "stop": stops, "stop_nowait": detached}))
""")

CONFTEST = textwrap.dedent("""
    import json, os, time
    import pytest

    TIMES = []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(item):
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return (yield)
        finally:
            TIMES.append([time.perf_counter() - t0, time.process_time() - c0])

    def pytest_sessionfinish(session):
        with open(os.environ["FIXTURE_TIMES"], "w") as f:
            json.dump(TIMES, f)
""")

TEST = textwrap.dedent("""
    def test_{n}(maskinporten):
        assert maskinporten.issuer.startswith("http://127.0.0.1:")
""")


def run(code: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    """Run `code` in a fresh interpreter; its one line of JSON."""
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, check=True, capture_output=True, text=True)
    data: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


def suite_setups(env: dict[str, str], rounds: int, scope: str, folder: Path) -> list[list[float]]:
    """Per-test setup seconds (wall, CPU) of a generated suite of `rounds` tests using the fixture in `scope`."""
    suite = folder / f"suite-{scope}"
    suite.mkdir(parents=True)
    (suite / "conftest.py").write_text(CONFTEST)
    (suite / "test_fixture.py").write_text("".join(TEST.format(n=n) for n in range(rounds)))
    times = suite / "times.json"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:schemathesis",
                    "-p", "no:hypothesispytest", "-p", "no:anyio", f"--maskinporten-scope={scope}", str(suite)],
                   env={**env, "FIXTURE_TIMES": str(times)}, cwd=suite, check=True, capture_output=True)
    data: list[list[float]] = json.loads(times.read_text())
    return data


def summary(values: list[float]) -> dict[str, float]:
    """Median, 90th percentile and maximum, in milliseconds."""
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {"median_ms": round(statistics.median(ordered) * 1000, 1), "p90_ms": round(p90 * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1)}


def measure(env: dict[str, str], rounds: int, repeat: int, folder: Path) -> dict[str, Any]:
    """Every measurement in one environment (bytecode cache or not); what a fresh process does, `repeat` times."""
    cache = folder / "template-cache"
    filled = {**env, "PORTVAKT_TESTING_CACHE": str(cache)}
    firsts = [run(FRESH_START, {**env, "PORTVAKT_TESTING_CACHE": str(folder / f"empty-cache-{n}")})
              for n in range(repeat)]
    result: dict[str, Any] = {"first_ever": medians(firsts)}
    run(FRESH_START, filled)  # fills the template cache used below
    result["fresh_process"] = medians([run(FRESH_START, filled) for _ in range(repeat)])
    warm = run(WARM_STARTS, filled, str(rounds))
    result["warm"] = {name: summary(warm[name]) for name in ("start", "start_cpu", "stop", "stop_nowait")}
    for scope in ("function", "session"):
        runs = [suite_setups(filled, rounds, scope, folder / f"{scope}-{n}") for n in range(repeat)]
        result[f"pytest_{scope}"] = {
            "first_s": round(statistics.median(r[0][0] for r in runs), 3),
            "first_s_each": [round(r[0][0], 3) for r in runs],
            "first_cpu_s": round(statistics.median(r[0][1] for r in runs), 3),
            "rest": summary([w for r in runs for w, _ in r[1:]]),
            "rest_cpu": summary([c for r in runs for _, c in r[1:]])}
    return result


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the runs, in seconds."""
    return {k: round(statistics.median(r[k] for r in runs), 3) for k in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per figure (their median)")
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if not k.startswith("PORTVAKT_")}
    report: dict[str, Any] = {"cpus": os.cpu_count(), "load_before": os.getloadavg()[0],
                              "python": sys.version.split()[0],
                              "PYTHONDONTWRITEBYTECODE": base.get("PYTHONDONTWRITEBYTECODE", "")}
    with tempfile.TemporaryDirectory(prefix="portvakt-fixture-bench-") as tmp:
        folder = Path(tmp)
        (folder / "as-is").mkdir()
        report["as_is"] = measure(base, args.rounds, args.repeat, folder / "as-is")
        pyc = {k: v for k, v in base.items() if k != "PYTHONDONTWRITEBYTECODE"}
        pyc["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
        run(FRESH_START, {**pyc, "PORTVAKT_TESTING_CACHE": str(folder / "warmup-cache")})  # fills the bytecode
        (folder / "bytecode").mkdir()
        report["bytecode_cached"] = measure(pyc, args.rounds, args.repeat, folder / "bytecode")
    report["load_after"] = os.getloadavg()[0]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
