"""Fixtures of the fault suite: its own PostgreSQL cluster, its keys and the template registry (once per module),
and a fresh deployment (two nodes, a Redis, the link proxy) per scenario."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faults.harness import Deployment, Registry, ReplayStore, build_registry, make_keys
from tests.faults.load import Keys
from tests.faults.postgres import Cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster of the suite's own: the scenarios stop it, so no other test may share it."""
    if os.environ.get("PORTVAKT_SKIP_PG") == "1":
        pytest.skip("PORTVAKT_SKIP_PG=1")
    directory = Path(tempfile.gettempdir()) / f"portvakt-faults-pg-{uuid.uuid4().hex[:12]}"
    made = Cluster(directory)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(scope="module")
def keys() -> Keys:
    """The suite's client keys."""
    return make_keys()


@pytest.fixture(scope="module")
def registry(cluster: Cluster, keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """The registry every scenario starts from, made once with the operator's CLI."""
    return build_registry(cluster, keys, tmp_path_factory.mktemp("faults-registry"))


@pytest.fixture
def deploy(cluster: Cluster, registry: Registry, keys: Keys,
           tmp_path: Path) -> Iterator[Callable[[ReplayStore], Deployment]]:
    """Start this scenario's deployment with the replay store it names; everything is stopped afterwards, and a
    PostgreSQL a scenario left stopped is started again."""
    made: list[Deployment] = []

    def start(replay: ReplayStore) -> Deployment:
        made.append(Deployment(cluster, registry, keys, tmp_path, replay, name=tmp_path.name))
        return made[-1]

    try:
        yield start
    finally:
        for deployment in made:
            deployment.close()
        if not cluster.is_up():
            cluster.start()
