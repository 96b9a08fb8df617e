"""The APIs the portal calls, one method per call, with its own token (docs/protocol.md §4.4)."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from portvakt.wire.altinn import PersonOut
from portvakt.wire.clients import ClientOut, JwkOut, JwksOut, ListedClientOut
from portvakt.wire.protocol import JWT_BEARER, PRIVATE_KEY_JWT
from portvakt.wire.scopes import AccessOut, ScopeOut
from portvakt.wire.systemusers import AgentClientsOut, ClientDelegationOut, ConfirmRequestOut, SystemUserOut
from portvakt.wire.systemusers import ClientOut as AgentClientOut
from portvakt.wire.vocabulary import AccessState, IntegrationType

from .config import PortalConfig
from .errors import Busy, PortalError, Unavailable, from_problem, retry_after
from .tokens import PortalTokenSource, TokenUnavailable

log = logging.getLogger("portvakt.portal")
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
PORTAL_API = "accessmanagement/api/v1/portal/"
#: The headers with which the portal's token (altinn:portal) acts for an organisation and names the person.
ACTING_FOR, PERSON = "Portvakt-Acting-For", "Portvakt-Person"
ALTINN_VIRKSYS = IntegrationType.ALTINN_VIRKSYS.value


#: The Altinn side's system-user paths (Altinn 3's own, docs/protocol.md §6).
SYSTEMUSER_API = "authentication/api/v1/systemuser/"
ENDUSER_API = "authentication/api/v1/enduser/systemuser/"


class AltinnRefusal(PortalError):
    """The Altinn side refused with one of its problems (RFC 9457): `code` is its AUTH-… or AUTH.VLD-… code."""

    def __init__(self, message: str, *, status: int, code: str) -> None:
        super().__init__(message, status=status, kind="not-found" if status == 404 else "refused")
        self.code = code


def altinn_refusal(resp: httpx.Response) -> PortalError:
    """An Altinn problem or validation problem as an AltinnRefusal (its first validation error's code and title);
    5xx, or a 401 the portal's token earned, as Unavailable."""
    if resp.status_code >= 500 or resp.status_code == 401:
        return Unavailable()
    try:
        body: Any = resp.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    errors = body.get("validationErrors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else body
    code, title = first.get("code") or body.get("code") or "", first.get("title") or body.get("title") or ""
    return AltinnRefusal(str(title or f"HTTP {resp.status_code}")[:500], status=resp.status_code,
                         code=str(code)[:40])


@dataclass(frozen=True)
class KeySet:
    """A system's key set as read or written, with the ETag naming that version of it (RFC 9110 §8.8.3)."""

    keys: list[JwkOut]
    etag: str | None


class KeySetChanged(PortalError):
    """The API answered 412: the key set changed since it was read (RFC 9110 §13.1.1, §15.5.13); nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=412, kind="changed")


class SystemChanged(PortalError):
    """The API answered 412: the system changed since it was read (RFC 9110 §13.1.1); nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=412, kind="changed")


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

    async def _versioned(self, method: str, url: str, kind: type[M], changed: Callable[[str], PortalError],
                         what: str, **kwargs: Any) -> tuple[M, str | None]:
        """Call, parse the 200 answer as `kind` and return it with its ETag (RFC 9110 §8.8.3); 412 raises `changed`
        (RFC 9110 §13.1.1), another refusal PortalError, an unexpected shape Unavailable (logged as `what`)."""
        resp = await self._call(method, url, **kwargs)
        if resp.status_code == 412:
            raise changed(from_problem(resp).message)
        if resp.status_code != 200:
            raise from_problem(resp)
        try:
            found = kind.model_validate_json(resp.content)
        except ValidationError:
            log.warning("portal backend: %s %s answered in an unexpected shape", method, what)
            raise Unavailable() from None
        return found, resp.headers.get("etag")

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
        """GET /clients?client_orgno=<vendor>&inactive=true (docs/protocol.md §4.4), every page, each client with its
        key set (include=jwks, docs/decisions.md A14): one call per 1000 systems, none per system. Both integration
        types: a vendor's Maskinporten client (the demo's Turboskatt) is its system too; deactivated ones are kept
        for history and shown as such. Sorted by name (then client_id)."""
        found: list[ListedClientOut] = []
        params: dict[str, Any] = {"client_orgno": vendor, "inactive": "true", "limit": 1000, "include": "jwks"}
        while True:
            page: list[ListedClientOut] = await self._json("GET", self._api("clients"), list[ListedClientOut],
                                                           params=params)
            found.extend(s for s in page if s.client_orgno == vendor)
            if len(page) < params["limit"]:
                return sorted(found, key=lambda s: (s.client_name.casefold(), s.client_id))
            params["after"] = page[-1].client_id

    def _client_url(self, client_id: str) -> str:
        return self._api("clients/" + quote(client_id, safe=""))

    async def _client(self, method: str, vendor: str, client_id: str, **kwargs: Any) -> tuple[ClientOut, str | None]:
        """One call to /clients/{id} answered with the client and its ETag: only a client of the vendor; anything
        else is not found; 412 raises SystemChanged."""
        found, etag = await self._versioned(method, self._client_url(client_id), ClientOut, SystemChanged,
                                            "clients/{id}", **kwargs)
        if found.client_orgno != vendor:
            raise PortalError("not found", status=404, kind="not-found")
        return found, etag

    async def system(self, vendor: str, client_id: str) -> ClientOut:
        """GET /clients/{id}: only a client of the vendor (either integration type); anything else is not found."""
        return (await self._client("GET", vendor, client_id))[0]

    async def system_with_etag(self, vendor: str, client_id: str) -> tuple[ClientOut, str | None]:
        """GET /clients/{id} and its ETag, for a change made with If-Match (RFC 9110 §13.1.1)."""
        return await self._client("GET", vendor, client_id)

    async def edit_system(self, vendor: str, client_id: str, *, name: str, description: str, scopes: list[str],
                          if_match: str | None) -> ClientOut:
        """PATCH /clients/{id} with name, description and scopes (docs/protocol.md §3.2), If-Match the ETag read:
        SystemChanged when someone changed it meanwhile (RFC 9110 §13.1.1)."""
        headers = {"if-match": if_match} if if_match else {}
        body = {"client_name": name, "description": description, "scopes": scopes}
        return (await self._client("PATCH", vendor, client_id, json=body, headers=headers))[0]

    async def deactivate_system(self, vendor: str, client_id: str, *, if_match: str | None) -> ClientOut:
        """DELETE /clients/{id}: deactivated, kept for history, no more tokens (docs/protocol.md §3.2), If-Match the
        ETag read (RFC 9110 §13.1.1)."""
        headers = {"if-match": if_match} if if_match else {}
        return (await self._client("DELETE", vendor, client_id, headers=headers))[0]

    async def keys(self, client_id: str) -> list[JwkOut]:
        """GET /clients/{id}/jwks: the registered public keys with their expiry (docs/protocol.md §3.3)."""
        return (await self.key_set(client_id)).keys

    def _jwks_url(self, client_id: str) -> str:
        return self._api("clients/" + quote(client_id, safe="") + "/jwks")

    async def _key_set(self, method: str, client_id: str, **kwargs: Any) -> KeySet:
        """One call to /clients/{id}/jwks answered with a key set and its ETag; 412 raises KeySetChanged."""
        found, etag = await self._versioned(method, self._jwks_url(client_id), JwksOut, KeySetChanged, "jwks",
                                            **kwargs)
        return KeySet(found.keys, etag)

    async def key_set(self, client_id: str) -> KeySet:
        """GET /clients/{id}/jwks with its ETag, for a change made with If-Match (RFC 9110 §13.1.1)."""
        return await self._key_set("GET", client_id)

    async def put_keys(self, client_id: str, jwks: list[dict[str, Any]], *, if_match: str | None = None) -> KeySet:
        """PUT /clients/{id}/jwks: replace the whole set (docs/protocol.md §3.3); with `if_match` only if the set is
        still the one read (RFC 9110 §13.1.1), else KeySetChanged."""
        headers = {"if-match": if_match} if if_match else {}
        return await self._key_set("PUT", client_id, json={"keys": jwks}, headers=headers)

    async def usable_scopes(self, vendor: str, *, integration_type: str | None = ALTINN_VIRKSYS) -> list[AccessOut]:
        """GET /scopes/access/for_consumer?consumer_org=<vendor> (docs/protocol.md §4.4): the scopes an organisation
        may use itself (own, open to all, APPROVED access), for altinn_virksys unless told (None: any type)."""
        params = {"consumer_org": vendor, **({"integration_type": integration_type} if integration_type else {})}
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

    # --- the Altinn side: system users (docs/protocol.md §6) -------------------------------------------------

    async def _altinn(self, method: str, path: str, kind: type[T] | Any, *, ok: int | tuple[int, ...] = 200,
                      acting: tuple[str, str] | None = None, **kwargs: Any) -> T:
        """A call to the Altinn side's system-user paths; an Altinn problem (RFC 9457) raises AltinnRefusal, an
        unexpected shape Unavailable. `acting` = (orgno, person) for Portvakt-Acting-For and Portvakt-Person."""
        headers = {ACTING_FOR: acting[0], PERSON: acting[1]} if acting else {}
        resp = await self._call(method, self._cfg.altinn_url + path, headers=headers, **kwargs)
        if resp.status_code not in ((ok,) if isinstance(ok, int) else ok):
            raise altinn_refusal(resp)
        try:
            parsed: T = TypeAdapter(kind).validate_json(resp.content)
        except ValidationError:
            log.warning("portal backend: %s %s answered in an unexpected shape", method, path.split("?")[0])
            raise Unavailable() from None
        return parsed

    async def systemuser_request(self, request_id: str) -> ConfirmRequestOut:
        """GET systemuser/request/confirm/{id}: a request (standard or agent) with its vendor and system, for the
        confirm page (the portal's own token; the page checks the person's role for its party)."""
        found: ConfirmRequestOut = await self._altinn(
            "GET", SYSTEMUSER_API + "request/confirm/" + quote(request_id, safe=""), ConfirmRequestOut)
        return found

    async def decide_request(self, party: str, person: str, request_id: str, *, agent: bool,
                             approve: bool) -> None:
        """POST systemuser/request[/agent]/{party}/{id}/approve|reject, acting for the party: 200 `true`; an
        approval makes the system user (owner the party, made by the person) in the same transaction."""
        path = (SYSTEMUSER_API + "request/" + ("agent/" if agent else "") + quote(party, safe="") + "/"
                + quote(request_id, safe="") + ("/approve" if approve else "/reject"))
        await self._altinn("POST", path, bool, acting=(party, person))

    async def system_users(self, party: str, person: str) -> list[SystemUserOut]:
        """GET systemuser/{party}: the party's system users, not deleted."""
        found: list[SystemUserOut] = await self._altinn("GET", SYSTEMUSER_API + quote(party, safe=""),
                                                        list[SystemUserOut], acting=(party, person))
        return found

    def _system_user_path(self, party: str, system_user_id: str) -> str:
        return SYSTEMUSER_API + quote(party, safe="") + "/" + quote(system_user_id, safe="")

    async def system_user(self, party: str, person: str, system_user_id: str) -> SystemUserOut:
        """GET systemuser/{party}/{id}: one of the party's system users."""
        found: SystemUserOut = await self._altinn("GET", self._system_user_path(party, system_user_id),
                                                  SystemUserOut, acting=(party, person))
        return found

    async def delete_system_user(self, party: str, person: str, system_user_id: str) -> bool:
        """DELETE systemuser/{party}/{id}: 202 `1` (deleted; its request too), or 404 `0` (False); an agent system
        user that still has clients is refused (AltinnRefusal AUTH-00035)."""
        resp = await self._call("DELETE", self._cfg.altinn_url + self._system_user_path(party, system_user_id),
                                headers={ACTING_FOR: party, PERSON: person})
        if resp.status_code in (200, 202):
            return True
        if resp.status_code == 404:
            return False
        raise altinn_refusal(resp)

    async def agent_clients(self, party: str, person: str, system_user_id: str, *,
                            available: bool = False) -> list[AgentClientOut]:
        """GET enduser/systemuser/clients[/available]?agent=: the agent system user's clients, or the organisations
        that may still be added."""
        path = ENDUSER_API + ("clients/available" if available else "clients")
        found: AgentClientsOut = await self._altinn("GET", path, AgentClientsOut, acting=(party, person),
                                                    params={"agent": system_user_id})
        return sorted(found.data, key=lambda c: (c.client_organization_name.casefold(),
                                                 c.client_organization_number))

    async def change_client(self, party: str, person: str, system_user_id: str, client_orgno: str, *,
                            add: bool) -> None:
        """POST (add) or DELETE (remove) enduser/systemuser/clients?agent=&client=<orgno>: 200 `{agent, client}`."""
        await self._altinn("POST" if add else "DELETE", ENDUSER_API + "clients", ClientDelegationOut,
                           acting=(party, person), params={"agent": system_user_id, "client": client_orgno})
