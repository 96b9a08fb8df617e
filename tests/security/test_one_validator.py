"""Threat: one token, two answers. The Altinn side checked tokens with one validator inside the token service's
process and with another when run on its own, so a token refused here was accepted there. Now the same token
gets the same answer from /api/v1, the Altinn side in the token service's process, and the Altinn side alone
(`serve --only altinn --token-issuer`, keys from the issuer's /jwk)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from portvakt.domain.models import SigningKeyState
from portvakt.jose import PrivateKeyHandle, Signer
from portvakt.settings import Settings
from portvakt.wiring import key_encryption_key, open_store
from tests.api.test_serve import Server

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("one-validator")]  # one deployment per module
OPERATOR = "991825827"
BAD_CHECKSUM = "991825828"
SCOPE = "idporten:dcr.read"


class Deployment:
    """A token service with the Altinn side in-process, a second Altinn side alone, one database."""

    def __init__(self, root: Path) -> None:
        self.token = Server(root / "token", "--only", "token", "--only", "altinn")
        db = f"sqlite:///{(root / 'token' / 'portvakt.db').resolve()}"
        try:
            self.altinn = Server(root / "altinn", "--only", "altinn", "--token-issuer", self.token.url,
                                 ready="healthz", env={"PORTVAKT_DATABASE_URL": db})
        except AssertionError:
            self.token.stop()
            raise
        settings = Settings(data_dir=root / "token")  # type: ignore[call-arg]
        store = open_store(settings, migrate=False)
        with store.read() as uow:
            active = next(k for k in uow.list_signing_keys() if k.state is SigningKeyState.ACTIVE)
        store.close()
        self.key = PrivateKeyHandle.from_pem(active.encrypted_private_key, key_encryption_key(settings))

    def sign(self, alg: str = "RS256", **over: Any) -> str:
        """Claims as the token service makes them (docs/protocol.md §2.2), changed by `over` (None removes a claim)."""
        now = _now()
        claims: dict[str, Any] = {
            "iss": self.token.url, "client_amr": "private_key_jwt", "token_type": "Bearer", "client_id": "c1",
            "aud": "unspecified", "consumer": {"authority": "iso6523-actorid-upis", "ID": f"0192:{OPERATOR}"},
            "scope": SCOPE, "iat": now, "exp": now + 120, "client_orgno": OPERATOR, "jti": str(uuid.uuid4())}
        claims.update(over)
        return Signer(self.key, alg=alg).sign({k: v for k, v in claims.items() if v is not None})

    def answers(self, token: str) -> tuple[int, int, int]:
        """The status from /api/v1, the in-process Altinn side and the Altinn side alone."""
        auth = {"authorization": f"Bearer {token}"}
        org = f"accessmanagement/api/v1/organisations/{OPERATOR}"
        return (httpx.get(self.token.url + "api/v1/delegationsources", headers=auth).status_code,
                httpx.get(self.token.url + org, headers=auth).status_code,
                httpx.get(self.altinn.url + org, headers=auth).status_code)

    def stop(self) -> None:
        self.altinn.stop()
        self.token.stop()


def _now() -> int:
    """The wall clock: the servers run on it."""
    return int(time.time())


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """One deployment for every case (starting processes is slow)."""
    d = Deployment(tmp_path_factory.mktemp("one-validator"))
    try:
        yield d
    finally:
        d.stop()


CASES: dict[str, tuple[dict[str, Any], str, int]] = {
    "valid": ({}, "RS256", 200),
    "issuer without its trailing slash": ({"iss": "<issuer-no-slash>"}, "RS256", 200),
    "not valid before a minute from now": ({"nbf": "<in-a-minute>"}, "RS256", 401),
    "expired": ({"exp": "<a-minute-ago>", "iat": "<two-minutes-ago>"}, "RS256", 401),
    "another API's audience": ({"aud": "https://api.provider.test/"}, "RS256", 401),
    "consumer orgno failing mod-11": ({"consumer": {"authority": "iso6523-actorid-upis",
                                                    "ID": f"0192:{BAD_CHECKSUM}"}}, "RS256", 401),
    "an algorithm the issuer never signs with": ({}, "RS384", 401),
    "a supplier acting for the consumer": ({"supplier": {"authority": "iso6523-actorid-upis",
                                                         "ID": "0192:314330897"}}, "RS256", 403),
}


def _resolve(deployment: Deployment, over: dict[str, Any]) -> dict[str, Any]:
    """Fill in the placeholders that depend on the deployment and the time."""
    now = _now()
    values = {"<issuer-no-slash>": deployment.token.url.rstrip("/"), "<in-a-minute>": now + 60,
              "<a-minute-ago>": now - 60, "<two-minutes-ago>": now - 120}
    return {k: values.get(v, v) if isinstance(v, str) else v for k, v in over.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_the_same_token_gets_the_same_answer_everywhere(deployment: Deployment, case: str) -> None:
    over, alg, expected = CASES[case]
    token = deployment.sign(alg, **_resolve(deployment, over))
    assert deployment.answers(token) == (expected, expected, expected), case
