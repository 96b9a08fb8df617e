"""A script that exits with its servers still running, or stopping without waiting, leaves no data dir behind
(they hold a key-encryption key and signing keys)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = """
from portvakt.testing import Maskinporten
forgotten = Maskinporten().start()
detached = Maskinporten().start()
detached.stop(wait=False)
print(forgotten.settings.data_dir)
print(detached._dir or "")
"""


def test_exiting_stops_and_removes_every_server(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=True)
    folders = [Path(line) for line in done.stdout.split() if line]
    assert folders
    assert not any(folder.exists() for folder in folders)
    assert "Traceback" not in done.stderr
