"""`portvakt serve --ephemeral [--seed FILE.yaml]`: a throwaway server for test suites in other languages.

It is the test kit's server (portvakt.testing.Maskinporten): a temporary data dir on SQLite, removed when the
process stops, optionally seeded from a file (portvakt.testing.seedfile). When it accepts requests it prints one
line of JSON to standard output, the only thing it prints there:

    {"issuer": "http://127.0.0.1:PORT/", "token_endpoint": "...", "jwks_uri": "...", "orgs": {...},
     "clients": {"turbo": {"client_id": "...", "kid": "...", "key_file": ".../keys/turbo.pem", ...}}, ...}

A JUnit or node test starts the process, reads that line, and stops the process (SIGTERM or SIGINT) at the end.
`--port 0` takes a free port.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from .seedfile import Seeded, apply_seed, summary_json
from .seeding import SeedError
from .server import Maskinporten


def serve_ephemeral(*, host: str = "127.0.0.1", port: int = 0, seed: Path | None = None) -> None:
    """Serve until SIGTERM or SIGINT; print the ready line first; a seed that breaks a rule exits with status 2."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        with Maskinporten(host=host, port=port) as mp:
            try:
                seeded = apply_seed(mp, seed) if seed is not None else Seeded()
            except SeedError as exc:
                print(f"error: the seed could not be applied: {exc}", file=sys.stderr)
                raise SystemExit(2) from None
            keys = Path(mp.settings.data_dir) / "keys"
            keys.mkdir(mode=0o700, exist_ok=True)
            print(summary_json(mp, seeded, keys), flush=True)
            print(f"portvakt (ephemeral) listening on {mp.issuer}; its data is removed when it stops "
                  "(SIGTERM or Ctrl-C)", file=sys.stderr, flush=True)
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
    finally:
        signal.signal(signal.SIGTERM, previous)
