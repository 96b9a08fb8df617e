"""A redis-server of a test's own: a free port of 127.0.0.1, a directory of its own, paused (SIGSTOP), resumed,
killed with SIGKILL and started again on the same port and directory.

Nothing is written to disk unless a test asks: by default `--save ""` (no save rule, no AOF); the fault suite
passes `save="3600 1"`, a rule that never fires within a scenario. Either way SAVE (`snapshot()`) writes the
directory's `dump.rdb`, the next `start()` loads it, and a kill -9 loses every write made since.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

from tests.api.test_serve import free_port, release_port

START_WITHIN = 10.0
LOG_NAME = "redis.log"


def require_redis_server() -> str:
    """The path of redis-server, or skip the test with the reason."""
    found = shutil.which("redis-server")
    if found is None:
        pytest.skip("redis-server is not installed (Debian package redis-server; `make system-deps`)")
    return found


def dead_url() -> str:
    """A Redis URL where nothing listens (a port of 127.0.0.1 that was free a moment ago)."""
    port = free_port()
    release_port(port)
    return f"redis://127.0.0.1:{port}/0"


class RedisServer:
    """One redis-server process on 127.0.0.1; its output goes to `redis.log` in its directory."""

    def __init__(self, directory: Path, *, save: str = "") -> None:
        self.binary = require_redis_server()
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.save = save
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.paused = False
        self.proc: subprocess.Popen[bytes] | None = None
        self._client: redis.Redis | None = None
        try:  # free_port holds the port until redis-server has bound it (both set SO_REUSEADDR)
            self.start()
        finally:
            release_port(self.port)

    def start(self) -> None:
        """Start redis-server (loading the snapshot in its directory, if any) and wait until it answers PING."""
        self._drop_client()
        with (self.directory / LOG_NAME).open("ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--protected-mode", "yes",
                 "--dir", str(self.directory), "--dbfilename", "dump.rdb", "--save", self.save,
                 "--appendonly", "no", "--daemonize", "no"],
                stdout=log, stderr=subprocess.STDOUT)
        self.paused = False
        deadline = time.monotonic() + START_WITHIN
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited:\n{self.log()}")
            if self.command(b"PING") == b"+PONG":
                return
            time.sleep(0.02)
        self.stop()
        raise AssertionError(f"redis-server did not answer PING within {START_WITHIN:.0f} s:\n{self.log()}")

    def client(self) -> redis.Redis:
        """A client with short timeouts, made anew after each start (never use it while paused)."""
        if self._client is None:
            self._client = redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)
        return self._client

    def command(self, *words: bytes) -> bytes:
        """One command over a fresh connection (RESP2 inline); its first reply line, or b"" without an answer."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b" ".join(words) + b"\r\n")
                return s.recv(65536).split(b"\r\n", 1)[0]
        except OSError:
            return b""

    def snapshot(self) -> None:
        """SAVE: write the snapshot a later start loads."""
        assert self.client().save()

    def keys(self) -> int:
        """How many keys Redis holds."""
        return int(self.client().dbsize())

    def pause(self) -> None:
        """SIGSTOP: the server keeps its sockets (connections are still accepted by the kernel) but answers nothing."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        """SIGCONT."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)
        self.paused = False

    def kill(self) -> None:
        """kill -9, as a crash: everything written since the last snapshot is lost."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.paused = False
        self._drop_client()

    def restart_empty(self) -> None:
        """Kill the server and start it again with no data (its snapshot, if any, removed)."""
        self.kill()
        (self.directory / "dump.rdb").unlink(missing_ok=True)
        self.start()

    def stop(self) -> None:
        """Stop the server for good, without saving (resumed first, should it be paused)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.kill()
        self._drop_client()

    def log(self) -> str:
        """Redis's own log (all it printed, over every start)."""
        path = self.directory / LOG_NAME
        return path.read_text(errors="replace") if path.exists() else ""

    def _drop_client(self) -> None:
        """Close the client of the previous start, if any."""
        if self._client is not None:
            self._client.close()
            self._client = None
