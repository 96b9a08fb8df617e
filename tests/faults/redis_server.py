"""A Redis of the fault suite's own: `redis-server` on a free port of 127.0.0.1 in a temporary directory.

Persistence is RDB only, with a save rule that never fires within a scenario (`--save "3600 1"`, no AOF), so the
snapshot on disk is the one the scenario forced with `snapshot()` (SAVE): a restart after kill -9 loads that old
snapshot and has lost every write since.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis

from tests.api.test_serve import free_port, release_port

START_WITHIN = 10.0


def redis_server_binary() -> str:
    """The path of redis-server, or fail: `make system-deps` installs it."""
    found = shutil.which("redis-server")
    assert found, "redis-server is not installed (make system-deps installs it)"
    return found


class RedisServer:
    """One redis-server process; kill -9, SIGSTOP/SIGCONT and a restart on the same port and directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.paused = False
        self.proc: subprocess.Popen[bytes] | None = None
        try:
            self.start()
        finally:
            release_port(self.port)

    def start(self) -> None:
        """Start redis-server (loading the snapshot in its directory, if any) and wait until it answers PING."""
        command = [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                   "--dbfilename", "dump.rdb", "--save", "3600 1", "--appendonly", "no", "--daemonize", "no",
                   "--logfile", str(self.directory / "redis.log")]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.paused = False
        deadline = time.monotonic() + START_WITHIN
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if self.client().ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server did not start:\n{self.log()}")

    def client(self) -> redis.Redis:
        """A client with short timeouts (never used while paused)."""
        return redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)

    def snapshot(self) -> None:
        """SAVE: write the snapshot a later restart loads."""
        assert self.client().save()

    def keys(self) -> int:
        """How many keys Redis holds."""
        return int(self.client().dbsize())

    def kill(self) -> None:
        """kill -9: everything written since the last snapshot is lost."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.paused = False

    def pause(self) -> None:
        """SIGSTOP: the port stays open, nothing answers."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        """SIGCONT."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)
        self.paused = False

    def stop(self) -> None:
        """Stop it for good (without saving)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        if self.paused:
            self.resume()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def log(self) -> str:
        """Redis's own log."""
        path = self.directory / "redis.log"
        return path.read_text() if path.exists() else ""
