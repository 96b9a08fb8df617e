"""docs/security.md, Third-party script: the swagger-ui pages load scripts from a CDN without SRI on the
portal's origin, so they are off unless asked for (or in demo mode); the OpenAPI documents stay."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from portvakt.settings import Settings
from portvakt.storage.memory import MemoryStore
from portvakt.wiring import Overrides, assemble

DOCS = ("/api/v1/docs", "/accessmanagement/docs")
OPENAPI = ("/api/v1/openapi.json", "/accessmanagement/openapi.json")


def _client(tmp_path: Path, **settings: object) -> TestClient:
    return TestClient(assemble(Settings(data_dir=tmp_path, **settings),  # type: ignore[arg-type]
                               overrides=Overrides(store=MemoryStore())))


def test_no_swagger_ui_by_default_but_the_openapi_documents_remain(tmp_path: Path) -> None:
    http = _client(tmp_path)
    for path in DOCS:
        r = http.get(path)
        assert r.status_code == 404, (path, r.text[:200])
        assert "cdn.jsdelivr.net" not in r.text
    for path in OPENAPI:
        assert http.get(path).status_code == 200, path


@pytest.mark.parametrize("settings", [{"demo": True}, {"interactive_docs": True}], ids=["demo", "asked"])
def test_swagger_ui_when_asked_or_in_demo_mode(tmp_path: Path, settings: dict[str, object]) -> None:
    http = _client(tmp_path, **settings)
    for path in DOCS:
        assert http.get(path).status_code == 200, path
