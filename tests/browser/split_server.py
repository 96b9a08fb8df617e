"""The two setups a browser test can run against, behind one `Site`: the browser tests' one process
(tests/browser/server.py), and the split one, the token service with the portal beside it in one `portvakt serve`
process and the Altinn side alone in another (`--only altinn --token-issuer`), the token service asking it over HTTP
(`--altinn-url`, docs/protocol.md §4.2, §6.5). Both processes of the split setup share one SQLite file, seeded
beforehand with the demo data through the same domain use-cases `serve --demo` runs (which takes no `--only`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from portvakt.settings import AltinnSettings, Settings
from tests.api.test_serve import free_port
from tests.api.test_systemuser_end_to_end import NEGATIVE_CACHE, POSITIVE_CACHE, two_processes

from .server import provision, start

SETUPS = ("one-process", "two-processes")


@dataclass
class Site:
    """Where the person's browser goes (the portal, and /token beside it) and where the Altinn side answers."""

    url: str
    altinn_url: str
    data_dir: Path
    #: The settings the data was seeded with: the database, the portal's key file.
    settings: Settings
    #: The demo people's passwords.
    people: dict[str, str]
    #: How long the token service may trust a lookup's answer, found and not found (0: it asks its own database).
    positive_cache: float
    negative_cache: float
    #: The Altinn process's log, with its access lines; None in one process.
    altinn_log: Path | None
    stop: Callable[[], None]

    def served(self, *parts: str, within: float = 5.0) -> list[str]:
        """The Altinn process's access lines holding every one of `parts`, waiting up to `within` seconds for the
        first; [] in one process."""
        if self.altinn_log is None:
            return []
        deadline = time.monotonic() + within
        while True:
            found = [line for line in self.altinn_log.read_text().splitlines()
                     if " uvicorn.access " in line and all(part in line for part in parts)]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


def one_process(data_dir: Path) -> Site:
    """The browser tests' one process with the demo data (in this test process)."""
    live = start(data_dir)
    return Site(live.url, live.url, data_dir, live.settings, live.people, 0.0, 0.0, None, live.stop)


def split(data_dir: Path) -> Site:
    """The demo data in one SQLite file, then the token service and portal process and the Altinn side's process on
    it (127.0.0.1, free ports); the waits allow each remote answer's cache time and a second more."""
    altinn_port = free_port()
    altinn_url = f"http://127.0.0.1:{altinn_port}/"
    settings = Settings(data_dir=data_dir, host="127.0.0.1", demo=True,
                        altinn=AltinnSettings(url=altinn_url, public_url=altinn_url))
    store, people = provision(settings)
    store.close()
    token, altinn = two_processes(data_dir, altinn_port, portal=True)

    def stop() -> None:
        for server in (altinn, token):
            if server.proc.poll() is None:
                server.stop()

    return Site(token.url, altinn.url, data_dir, settings, people, POSITIVE_CACHE + 1, NEGATIVE_CACHE + 1,
                altinn.log, stop)


def site(setup: str, data_dir: Path) -> Site:
    """The running `setup` (one of SETUPS) on `data_dir`."""
    return one_process(data_dir) if setup == "one-process" else split(data_dir)
