"""The system-user lookup against a remote Altinn side's byExternalId endpoint (docs/protocol.md §6.5), cached
briefly, fail closed."""

from __future__ import annotations

import json
from typing import Any

from portvakt.altinn.remote import HttpLookup
from portvakt.oauth.systemuser import FoundSystemUser, SystemUserUnavailable
from portvakt.wire.protocol import ICD_NO_ORGNO

LOOKUP_PATH = "/authentication/api/v1/systemuser/byExternalId"
#: The largest answer read; a SystemUserExternalDTO is a few hundred bytes.
MAX_ANSWER_BYTES = 64 * 1024
_MAX_ID = 200
Key = tuple[str, str, str, str]


class HttpSystemUserLookup(HttpLookup[Key, FoundSystemUser | None]):
    """Asks `GET {base_url}/authentication/api/v1/systemuser/byExternalId` with a systemuser.read token.

    A found system user is cached for `positive_ttl` seconds (so a deleted one still gets tokens for at most that
    long), a 404 for `negative_ttl` seconds; failures are never cached. Timeouts, connection errors, 5xx, 401/403
    (a misconfiguration), other statuses, an answer over 64 KiB and unreadable answers raise SystemUserUnavailable:
    never "no system user". Thread-safe; the bearer token is never logged nor put in an error.
    """

    path = LOOKUP_PATH
    required_scope = "altinn:maskinporten/systemuser.read"
    what = "system-user lookup"
    source = "the system register"
    error = SystemUserUnavailable
    max_bytes = MAX_ANSWER_BYTES

    def find_system_user(self, client_id: str, vendor_orgno: str, owner_orgno: str,
                         external_ref: str) -> FoundSystemUser | None:
        """docs/protocol.md §6.5: the cached answer while fresh, else ask the Altinn side."""
        key = (client_id, vendor_orgno, owner_orgno, external_ref)
        return self._answer(key, lambda: self._ask(key), lambda found: found is not None)

    def _ask(self, key: Key) -> FoundSystemUser | None:
        """One lookup call (docs/protocol.md §6.5): 200 the system user, 404 none, anything else unavailable."""
        client_id, vendor_orgno, owner_orgno, external_ref = key
        body = self._remote.get_or_none({"clientId": client_id, "systemProviderOrgNo": vendor_orgno,
                                         "systemUserOwnerOrgNo": owner_orgno, "externalRef": external_ref})
        return None if body is None else self._read(body, owner_orgno, external_ref)

    def _read(self, body: bytes, owner_orgno: str, external_ref: str) -> FoundSystemUser | None:
        """A SystemUserExternalDTO for this owner (and this externalRef, if it names one); a deleted one is none."""
        dto = _object(body)
        if dto is None:
            raise self._remote.unavailable(f"{self.url} did not answer a system user object")
        user_id, system_id, owner = dto.get("id"), dto.get("systemId"), dto.get("reporteeOrgNo")
        if not (_short_str(user_id) and _short_str(system_id) and isinstance(owner, str)):
            raise self._remote.unavailable(f"{self.url} answered a system user without id, systemId or reporteeOrgNo")
        if owner.removeprefix(f"{ICD_NO_ORGNO}:") != owner_orgno:
            raise self._remote.unavailable(f"{self.url} answered a system user of another owner")
        ref = dto.get("externalRef")
        if ref is not None and ref != external_ref:
            raise self._remote.unavailable(f"{self.url} answered a system user with another externalRef")
        if dto.get("isDeleted") is True:
            return None
        return FoundSystemUser(str(user_id), str(system_id), owner_orgno, external_ref)


def _short_str(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= _MAX_ID


def _object(body: bytes) -> dict[str, Any] | None:
    """The answer as a JSON object, or None if it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None
