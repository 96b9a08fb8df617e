"""The calls the access manager's and API provider admin's pages make, as the chosen organisation (decision P1).

Every call carries Portvakt-Acting-For and Portvakt-Person (Backend.call_for); the pages check the person's
role for the organisation (web.acting) before they build an OrgApi.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, Literal
from urllib.parse import quote

from starlette.requests import Request

from portvakt.wire.altinn import DelegationOut, OrganisationOut, SchemeOut
from portvakt.wire.scopes import AccessOut, ScopeOut

from .backend import Backend
from .config import PortalConfig
from .errors import PortalError
from .web import Acting, state

ACCESS_API = "accessmanagement/api/v1/"
SCHEMES_API = "maskinporten-api/delegationSchemes"
#: At most this many organisation-name lookups at a time for a list.
NAME_LOOKUPS = 8
Side = Literal["consumer", "supplier"]


class OrgnoRefused(Exception):
    """An organisation number a person typed cannot be used; `message` is a catalogue key (values: orgno)."""

    def __init__(self, message: str, orgno: str) -> None:
        super().__init__(message)
        self.message, self.orgno = message, orgno


def typed_orgno(text: str) -> str:
    """The orgno as typed, without spaces ("310 838 128"); 9 digits, else OrgnoRefused (docs/protocol.md §2.2 shape)."""
    orgno = "".join(text.split())[:40]
    if not orgno:
        raise OrgnoRefused("orgno.required", orgno)
    if len(orgno) != 9 or not orgno.isascii() or not orgno.isdigit():
        raise OrgnoRefused("orgno.format", orgno)
    return orgno


def org_api(request: Request, who: Acting) -> OrgApi:
    """The API as the organisation the signed-in person acts for (after web.acting checked the role)."""
    portal = state(request)
    return OrgApi(portal.backend, portal.config, who.orgno, who.person.username)


class OrgApi:
    """Typed calls to the Altinn side and /api/v1, made as `orgno` for `person`."""

    def __init__(self, backend: Backend, config: PortalConfig, orgno: str, person: str) -> None:
        self._backend, self._cfg = backend, config
        self.orgno, self.person = orgno, person

    async def _as_org(self, method: str, url: str, kind: Any, **kwargs: Any) -> Any:
        return await self._backend.call_for(self.orgno, self.person, method, url, kind, **kwargs)

    def _altinn(self, path: str) -> str:
        return self._cfg.altinn_url + ACCESS_API + path

    def _api(self, path: str) -> str:
        return self._cfg.api_url + "api/v1/" + path

    # --- organisations ----------------------------------------------------------------------------------

    async def organisation(self, text: str) -> OrganisationOut:
        """GET /organisations/{orgno}: a typed orgno's organisation; a bad checksum (400) or an unknown
        number (404) is OrgnoRefused, so the page can tie it to the field."""
        orgno = typed_orgno(text)
        try:
            found: OrganisationOut = await self._as_org("GET", self._altinn("organisations/" + orgno), OrganisationOut)
        except PortalError as exc:
            if exc.status not in (400, 404):
                raise
            raise OrgnoRefused("orgno.unknown" if exc.status == 404 else "orgno.invalid", orgno) from None
        return found

    async def names(self, orgnos: Iterable[str]) -> dict[str, str]:
        """orgno -> name for the organisations the registry knows (the others are left out)."""
        limit = asyncio.Semaphore(NAME_LOOKUPS)

        async def name_of(orgno: str) -> tuple[str, str | None]:
            async with limit:
                try:
                    return orgno, (await self.organisation(orgno)).name
                except OrgnoRefused:
                    return orgno, None

        found = await asyncio.gather(*(name_of(o) for o in sorted(set(orgnos))))
        return {orgno: name for orgno, name in found if name is not None}

    # --- delegations (the consumer's access manager, docs/protocol.md §4.1 step 5) ---------------------------------

    async def schemes(self, q: str = "") -> list[SchemeOut]:
        """GET /maskinporten/schemes?q=: the active schemes any organisation may delegate."""
        params = {"q": q[:200]} if q.strip() else {}
        found: list[SchemeOut] = await self._as_org("GET", self._altinn("maskinporten/schemes"), list[SchemeOut],
                                                 params=params)
        return found

    async def delegations(self, side: Side, *, include_revoked: bool = False) -> list[DelegationOut]:
        """GET /delegations?role=: made by the organisation (consumer) or to it (supplier)."""
        params = {"role": side, "include_revoked": "true" if include_revoked else "false"}
        found: list[DelegationOut] = await self._as_org("GET", self._altinn("delegations"), list[DelegationOut],
                                                     params=params)
        return found

    async def delegate(self, scheme_id: str, supplier_org: str) -> DelegationOut:
        """POST /delegations {scheme_id, supplier_org}: 201, or 200 when it was already delegated."""
        made: DelegationOut = await self._as_org("POST", self._altinn("delegations"), DelegationOut, ok=(200, 201),
                                              json={"scheme_id": scheme_id, "supplier_org": supplier_org})
        return made

    async def revoke(self, delegation_id: str) -> DelegationOut:
        """DELETE /delegations/{id}: the delegation stays as history, new tokens are refused within about a quarter
        of a second on every node (the change feed's poll, `PORTVAKT_CACHE_POLL_SECONDS`)."""
        url = self._altinn("delegations/" + quote(delegation_id, safe=""))
        done: DelegationOut = await self._as_org("DELETE", url, DelegationOut)
        return done

    async def own_schemes(self, *, include_inactive: bool = False) -> list[SchemeOut]:
        """GET /maskinporten-api/delegationSchemes[?inactive=true]: the provider's own schemes (docs/protocol.md §4.1
        step 2), the removed (deactivated) ones too on request."""
        params = {"inactive": "true"} if include_inactive else {}
        found: list[SchemeOut] = await self._as_org("GET", self._cfg.altinn_url + SCHEMES_API, list[SchemeOut],
                                                 params=params)
        return found

    def _scheme_url(self, scheme_id: str) -> str:
        return self._cfg.altinn_url + SCHEMES_API + "/" + quote(scheme_id, safe="")

    async def own_scheme(self, scheme_id: str) -> SchemeOut:
        """GET /maskinporten-api/delegationSchemes/{id}: one own scheme (another organisation's is 404)."""
        found: SchemeOut = await self._as_org("GET", self._scheme_url(scheme_id), SchemeOut)
        return found

    async def change_scheme(self, scheme_id: str, scopes: list[str], title: dict[str, str],
                            description: dict[str, str]) -> SchemeOut:
        """PUT /maskinporten-api/delegationSchemes/{id}: replace an own scheme's scopes and texts ({lang: text});
        the customers' delegations of it cover the new scopes at once (docs/protocol.md §4.1 step 2)."""
        body = {"scopes": scopes, "title": title, "description": description}
        done: SchemeOut = await self._as_org("PUT", self._scheme_url(scheme_id), SchemeOut, json=body)
        return done

    async def remove_scheme(self, scheme_id: str) -> SchemeOut:
        """DELETE /maskinporten-api/delegationSchemes/{id}: deactivate an own scheme, kept as history; its
        delegations stop counting, so /token refuses the tokens they gave (docs/protocol.md §4.2 step 4)."""
        done: SchemeOut = await self._as_org("DELETE", self._scheme_url(scheme_id), SchemeOut)
        return done

    # --- scopes and access lists (the API provider admin, docs/protocol.md §3.4) -----------------------------------

    async def scopes(self) -> list[ScopeOut]:
        """GET /scopes: the organisation's own scopes."""
        found: list[ScopeOut] = await self._as_org("GET", self._api("scopes"), list[ScopeOut])
        return found

    async def access(self, scope: str) -> list[AccessOut]:
        """GET /scopes/access?scope=: every entry of an own scope's access list."""
        found: list[AccessOut] = await self._as_org("GET", self._api("scopes/access"), list[AccessOut],
                                                      params={"scope": scope})
        return found

    async def grant(self, scope: str, orgno: str) -> AccessOut:
        """PUT /scopes/access/{orgno}?scope=: APPROVED; /token honours it within about a quarter of a second on
        every node (the change feed's poll, `PORTVAKT_CACHE_POLL_SECONDS`)."""
        url = self._api("scopes/access/" + quote(orgno, safe=""))
        done: AccessOut = await self._as_org("PUT", url, AccessOut, params={"scope": scope})
        return done

    async def revoke_access(self, scope: str, orgno: str) -> AccessOut:
        """DELETE /scopes/access/{orgno}?scope=: the entry stays, DENIED; /token refuses it within about a quarter of
        a second on every node (the change feed's poll, `PORTVAKT_CACHE_POLL_SECONDS`)."""
        url = self._api("scopes/access/" + quote(orgno, safe=""))
        done: AccessOut = await self._as_org("DELETE", url, AccessOut, params={"scope": scope})
        return done
