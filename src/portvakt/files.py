"""Owner-only files: the one writer of secrets on disk (docs/security.md, Data at rest).

The key-encryption key and the portal's private key are made once and never overwritten (`replace=False`:
O_EXCL, so two processes starting together cannot both write one); `portvakt keys generate` writes where it
is told and replaces what is there. Either way the file is created with mode 0600, never widened afterwards.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_MODE = 0o600


def write_private(path: Path, data: bytes, *, replace: bool = False) -> Path:
    """Write `data` to a file only its owner can read (mode 0600 at creation, docs/security.md, Data at rest);
    without `replace`, a file that exists already is an error (FileExistsError), never overwritten."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    fd = os.open(path, flags, PRIVATE_MODE)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path
