"""The APIs the portal calls, one method per call, with its own token (docs/protocol.md §4.4)."""

from __future__ import annotations

import copy
import logging
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter, ValidationError

from portvakt.wire.altinn import PersonOut
from portvakt.wire.clients import ClientOut, JwkOut, JwksOut, ListedClientOut
from portvakt.wire.protocol import JWT_BEARER, PRIVATE_KEY_JWT
from portvakt.wire.scopes import AccessOut, ScopeOut
from portvakt.wire.vocabulary import AccessState, IntegrationType

from .config import PortalConfig
from .errors import Busy, PortalError, Unavailable, from_problem, retry_after
from .tokens import PortalTokenSource, TokenUnavailable

log = logging.getLogger("portvakt.portal")
T = TypeVar("T")
PORTAL_API = "accessmanagement/api/v1/portal/"
#: The headers with which the portal's token (altinn:portal) acts for an organisation and names the person.
ACTING_FOR, PERSON = "Portvakt-Acting-For", "Portvakt-Person"
ALTINN_VIRKSYS = IntegrationType.ALTINN_VIRKSYS.value


class Backend:
    """Typed calls to /api/v1 and the Altinn side; refusals become PortalError, failures Unavailable."""

    def __init__(self, config: PortalConfig, http: httpx.AsyncClient, tokens: PortalTokenSource) -> None:
        self._cfg = config
        self._http = http
        self._tokens = tokens
        self._acting: dict[str, str] = {}

    def acting(self, orgno: str, person: str) -> Backend:
        """This backend calling as the organisation the person acts for (Portvakt-Acting-For, policy.acting_for):
        what it creates is that organisation's own, with no supplier (docs/security.md, Privilege escalation)."""
        view = copy.copy(self)
        view._acting = {ACTING_FOR: orgno, PERSON: person}
        return view

    async def _call(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                    **kwargs: Any) -> httpx.Response:
        """One call with the portal's token; a refused token (RFC 6750 §3.1) gets one retry with a fresh one."""
        for attempt in (1, 2):
            try:
                token = await self._tokens.token()
            except TokenUnavailable as exc:
                log.warning("portal backend unavailable: %s", exc)
                raise Unavailable() from None
            try:
                sent = {**self._acting, **(headers or {}), "authorization": f"Bearer {token}"}
                resp = await self._http.request(method, url, headers=sent, timeout=self._cfg.settings.timeout_seconds,
                                                **kwargs)
            except httpx.HTTPError as exc:
                log.warning("portal backend: %s %s failed: %s", method, url, exc.__class__.__name__)
                raise Unavailable() from None
            challenge = resp.headers.get("www-authenticate", "")
            if not (resp.status_code == 401 and challenge) or attempt == 2:
                break
            self._tokens.forget(token)
        if (resp.status_code == 401 and challenge) or "insufficient_scope" in challenge:
            log.warning("portal backend: %s %s answered %s; check the portal client and its scopes",
                        method, url, resp.status_code)
            raise Unavailable()
        return resp

    async def _json(self, method: str, url: str, kind: type[T] | Any, *, ok: int | tuple[int, ...] = 200,
                    **kwargs: Any) -> T:
        """Call and parse the answer as `kind`; a refusal raises PortalError."""
        resp = await self._call(method, url, **kwargs)
        if resp.status_code not in ((ok,) if isinstance(ok, int) else ok):
            raise from_problem(resp)
        try:
            parsed: T = TypeAdapter(kind).validate_json(resp.content)
        except ValidationError:
            log.warning("portal backend: %s %s answered in an unexpected shape", method, url)
            raise Unavailable() from None
        return parsed

    def _api(self, path: str) -> str:
        return self._cfg.api_url + "api/v1/" + path

    # --- the Altinn side: people (the Altinn side's portal API) ---------------------------------------------------

    async def login(self, username: str, password: str) -> PersonOut | None:
        """POST portal/login: the person, or None for a wrong username or password (401, or 400 for input
        the Altinn side will not even check: the same answer, so nothing is revealed); Busy on its 429."""
        url = self._cfg.altinn_url + PORTAL_API + "login"
        resp = await self._call("POST", url, json={"username": username, "password": password})
        if resp.status_code in (400, 401):
            return None
        if resp.status_code == 429:
            raise Busy(retry_after(resp))
        if resp.status_code != 200:
            raise from_problem(resp)
        try:
            return PersonOut.model_validate_json(resp.content)
        except ValidationError:
            log.warning("portal backend: the login answer has an unexpected shape")
            raise Unavailable() from None

    async def person(self, username: str) -> PersonOut:
        """GET portal/people/{username}: the person as stored now (mobile number, roles)."""
        url = self._cfg.altinn_url + PORTAL_API + "people/" + quote(username, safe="")
        person: PersonOut = await self._json("GET", url, PersonOut)
        return person

    # --- /api/v1: systems, keys, scopes --------------------------------------------------------------------

    async def systems(self, vendor: str) -> list[ListedClientOut]:
        """GET /clients?integration_type=altinn_virksys&client_orgno=<vendor> (docs/protocol.md §4.4), every page,
        each system
        with its key set (include=jwks, docs/decisions.md A14): one call per 1000 systems, none per system."""
        found: list[ListedClientOut] = []
        params: dict[str, Any] = {"integration_type": ALTINN_VIRKSYS, "client_orgno": vendor, "limit": 1000,
                                  "include": "jwks"}
        while True:
            page: list[ListedClientOut] = await self._json("GET", self._api("clients"), list[ListedClientOut],
                                                           params=params)
            found.extend(s for s in page if s.client_orgno == vendor and s.integration_type == ALTINN_VIRKSYS)
            if len(page) < params["limit"]:
                return found
            params["after"] = page[-1].client_id

    async def system(self, vendor: str, client_id: str) -> ClientOut:
        """GET /clients/{id}: only a virksomhetssystem of the vendor; anything else is not found."""
        url = self._api("clients/" + quote(client_id, safe=""))
        found: ClientOut = await self._json("GET", url, ClientOut)
        if found.client_orgno != vendor or found.integration_type != ALTINN_VIRKSYS:
            raise PortalError("not found", status=404, kind="not-found")
        return found

    async def keys(self, client_id: str) -> list[JwkOut]:
        """GET /clients/{id}/jwks: the registered public keys with their expiry (docs/protocol.md §3.3)."""
        url = self._api("clients/" + quote(client_id, safe="") + "/jwks")
        found: JwksOut = await self._json("GET", url, JwksOut)
        return found.keys

    async def put_keys(self, client_id: str, jwks: list[dict[str, Any]]) -> list[JwkOut]:
        """PUT /clients/{id}/jwks: replace the whole set (docs/protocol.md §3.3)."""
        url = self._api("clients/" + quote(client_id, safe="") + "/jwks")
        found: JwksOut = await self._json("PUT", url, JwksOut, json={"keys": jwks})
        return found.keys

    async def usable_scopes(self, vendor: str) -> list[AccessOut]:
        """GET /scopes/access/for_consumer?consumer_org=<vendor> (docs/protocol.md §4.4), for altinn_virksys."""
        params = {"consumer_org": vendor, "integration_type": ALTINN_VIRKSYS}
        found: list[AccessOut] = await self._json("GET", self._api("scopes/access/for_consumer"),
                                                  list[AccessOut], params=params)
        return [a for a in found if a.state is AccessState.APPROVED]

    async def delegable_scopes(self) -> list[ScopeOut]:
        """GET /scopes/all: the public scopes customers can delegate (they have a delegation_source)."""
        params = {"integration_type": ALTINN_VIRKSYS}
        found: list[ScopeOut] = await self._json("GET", self._api("scopes/all"), list[ScopeOut], params=params)
        return [s for s in found if s.delegation_source and s.active]

    async def create_system(self, vendor: str, name: str, description: str, scopes: list[str]) -> ClientOut:
        """POST /clients exactly as docs/protocol.md §4.4 describes: client_orgno = the vendor, altinn_virksys,
        private_key_jwt."""
        body = {"client_name": name, "description": description, "scopes": scopes, "client_orgno": vendor,
                "integration_type": ALTINN_VIRKSYS, "application_type": "web",
                "token_endpoint_auth_method": PRIVATE_KEY_JWT, "grant_types": [JWT_BEARER]}
        created: ClientOut = await self._json("POST", self._api("clients"), ClientOut, ok=201, json=body)
        return created

    # --- acting for an organisation (the access manager's and API provider admin's pages) ------------------

    async def call_for(self, orgno: str, person: str, method: str, url: str, kind: type[T] | Any, *,
                       ok: int | tuple[int, ...] = 200, **kwargs: Any) -> T:
        """A call made as the organisation the person acts for (Portvakt-Acting-For + Portvakt-Person,
        policy.acting_for); the caller has checked the person's role for that organisation first."""
        acting = {ACTING_FOR: orgno, PERSON: person}
        found: T = await self._json(method, url, kind, ok=ok, headers=acting, **kwargs)
        return found
