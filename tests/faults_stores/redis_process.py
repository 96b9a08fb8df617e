"""A redis-server of a test's own on 127.0.0.1, in its own folder: paused (SIGSTOP), resumed, killed with SIGKILL and
started again, on the same port."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.api.test_serve import free_port, release_port

REDIS_SERVER = shutil.which("redis-server")


def require_redis_server() -> str:
    """The redis-server binary, or skip the test with the reason."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (Debian package redis-server; `make system-deps`)")
    return REDIS_SERVER


class RedisProcess:
    """One redis-server without persistence of its own (`--save ""`, `--appendonly no`); SAVE still writes a
    snapshot to its folder, which the next start loads."""

    def __init__(self, folder: Path) -> None:
        self.binary = require_redis_server()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()
        release_port(self.port)

    def start(self) -> None:
        """Start the server (loading the folder's snapshot, if any) and wait until it answers PING."""
        log = (self.folder / "redis.log").open("ab")
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes"],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited:\n{(self.folder / 'redis.log').read_text()}")
            if self.command(b"PING") == b"+PONG":
                return
            time.sleep(0.02)
        raise AssertionError("redis-server did not answer PING within 10 s")

    def command(self, *words: bytes) -> bytes:
        """One command over a fresh connection (RESP2 inline); its first reply line, or b"" without an answer."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b" ".join(words) + b"\r\n")
                return s.recv(65536).split(b"\r\n", 1)[0]
        except OSError:
            return b""

    def pause(self) -> None:
        """SIGSTOP: the server keeps its sockets (connections are still accepted by the kernel) but answers nothing."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL, as a crash: nothing is saved."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def restart_empty(self) -> None:
        """Kill the server and start it again with no data (its snapshot, if any, removed)."""
        self.kill()
        (self.folder / "dump.rdb").unlink(missing_ok=True)
        self.start()

    def stop(self) -> None:
        """Stop the server for good (resumed first, should it be paused)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(timeout=10)
