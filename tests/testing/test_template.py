"""The template data dir (portvakt.testing.template): made once per schema, reused, and kept where only its owner
can reach it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from portvakt.testing import Maskinporten
from portvakt.testing.template import CACHE_ENV, cache_root, fingerprint, template_dir


def test_a_template_is_made_once_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    made = template_dir()
    assert made.name == f"template-{fingerprint()}"
    assert {p.name for p in made.iterdir()} >= {"portvakt.db", "ready"}
    assert (made.stat().st_mode & 0o777) == 0o700
    stamp = (made / "portvakt.db").stat().st_mtime_ns
    assert template_dir() == made
    assert (made / "portvakt.db").stat().st_mtime_ns == stamp
    with Maskinporten() as server:  # a server copies it, and bootstraps its own issuer
        assert server.org().orgno
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [made.name]


def test_a_cache_folder_that_is_a_link_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "cache"
    link.symlink_to(target)
    monkeypatch.setenv(CACHE_ENV, str(link))
    with pytest.raises(RuntimeError, match="is a link or belongs to another user"):
        cache_root()


def test_the_cache_folder_is_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o777)
    os.chmod(folder, 0o777)  # noqa: S103 (the test widens it on purpose)
    monkeypatch.setenv(CACHE_ENV, str(folder))
    assert cache_root() == folder
    assert (folder.stat().st_mode & 0o777) == 0o700
