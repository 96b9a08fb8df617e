"""The JSON of the Altinn side: the historic Altinn 2 scheme body in, clean shapes out (docs/protocol.md §4.1, §4.2);
the shapes out live in the wire room (portvakt.wire.altinn), shared with the portal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from portvakt.domain.errors import Invalid
from portvakt.domain.models import Delegation, DelegationScheme, Person
from portvakt.domain.people import MAX_PASSWORD
from portvakt.wire.altinn import (
    DelegationOut as DelegationOut,
)
from portvakt.wire.altinn import (
    LanguagesOut as LanguagesOut,
)
from portvakt.wire.altinn import (
    LookupOut as LookupOut,
)
from portvakt.wire.altinn import (
    OrganisationOut as OrganisationOut,
)
from portvakt.wire.altinn import (
    PersonOut as PersonOut,
)
from portvakt.wire.altinn import (
    PersonRoleOut as PersonRoleOut,
)
from portvakt.wire.altinn import (
    SchemeOut as SchemeOut,
)

#: Altinn 2 language codes (`nb_NO`, ...) and plain ones, lower-cased, to the stored nb/nn/en.
LANGUAGE_CODES = {"nb": "nb", "nb_no": "nb", "nb-no": "nb", "no": "nb", "nob": "nb",
                  "nn": "nn", "nn_no": "nn", "nn-no": "nn", "nno": "nn",
                  "en": "en", "en_us": "en", "en-us": "en", "en_gb": "en", "en-gb": "en", "eng": "en"}
Short = Annotated[str, Field(max_length=100)]
ReadOnly = Annotated[str | None, Field(max_length=100, description="read-only; ignored")]


class LanguageText(BaseModel):
    """One text of the historic shape: {"code": "nb_NO", "value": "..."}."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, Field(max_length=20)]
    value: Annotated[str, Field(max_length=10_000)]


Texts = Annotated[list[LanguageText] | dict[str, Annotated[str, Field(max_length=10_000)]],
                  Field(description='[{"code": "nb_NO", "value": "..."}] (Altinn 2) or {"nb": "..."}')]


def language(code: str, field: str) -> str:
    """nb, nn or en for an Altinn 2 or plain language code; Invalid naming the field otherwise."""
    lang = LANGUAGE_CODES.get(code.strip().lower())
    if lang is None:
        raise Invalid(f"unknown language code {code[:20]!r}; use nb_NO, nn_NO or en", field=field)
    return lang


def texts(value: list[LanguageText] | dict[str, str], field: str) -> dict[str, str]:
    """Either shape as {lang: text}; a language given twice is Invalid."""
    pairs = [(t.code, t.value) for t in value] if isinstance(value, list) else list(value.items())
    found: dict[str, str] = {}
    for code, text in pairs:
        lang = language(code, field)
        if lang in found:
            raise Invalid(f"{field} has two texts in {lang}", field=field)
        found[lang] = text
    return found


class SchemeIn(BaseModel):
    """POST/PUT body of a delegation scheme: the historic Altinn 2 shape (docs/protocol.md §4.1 step 2)."""

    model_config = ConfigDict(extra="forbid")

    owner_org: Annotated[str | None, Field(max_length=20, description="default and only value: your orgno")] = None
    scopes: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=50)]
    title: Texts
    description: Texts = []
    default_language: Annotated[str | None, Field(max_length=20, description="accepted, not stored")] = None
    active: StrictBool | None = Field(None, description="PUT only: omitted keeps the state; true reactivates")
    scheme_id: ReadOnly = None
    created: ReadOnly = None
    last_updated: ReadOnly = None

    def languages(self) -> tuple[dict[str, str], dict[str, str]]:
        """(title, description) as {lang: text}; default_language, if sent, must be a known code."""
        if self.default_language is not None:
            language(self.default_language, "default_language")
        return texts(self.title, "title"), texts(self.description, "description")


def scheme_out(s: DelegationScheme) -> SchemeOut:
    """The JSON of a scheme."""
    return SchemeOut(scheme_id=s.scheme_id, owner_org=s.owner_orgno, scopes=list(s.scopes),
                     title=LanguagesOut(**s.title), description=LanguagesOut(**s.description), active=s.active,
                     created=s.created, last_updated=s.last_updated)


class DelegationIn(BaseModel):
    """POST /accessmanagement/api/v1/delegations: the caller's org delegates a scheme to a supplier."""

    model_config = ConfigDict(extra="forbid")

    scheme_id: Short
    supplier_org: Annotated[str, Field(max_length=20)]


def delegation_out(d: Delegation, scheme: DelegationScheme | None, *, consumer_view: bool) -> DelegationOut:
    """The JSON of a delegation with its scheme's scopes and title."""
    return DelegationOut(delegation_id=d.delegation_id, scheme_id=d.scheme_id, consumer_org=d.consumer_orgno,
                         supplier_org=d.supplier_orgno, scopes=list(scheme.scopes) if scheme else [],
                         title=LanguagesOut(**scheme.title) if scheme else LanguagesOut(), active=d.active,
                         created=d.created, revoked=d.revoked,
                         created_by=d.created_by if consumer_view else None,
                         revoked_by=d.revoked_by if consumer_view else None)


def lookup_out(d: Delegation, scheme: DelegationScheme) -> LookupOut:
    """docs/protocol.md §4.2: `resourceid` is the scheme id (this side's schemes are the delegable resources)."""
    return LookupOut(consumer_org=d.consumer_orgno, supplier_org=d.supplier_orgno,
                     delegation_scheme_id=scheme.scheme_id, scopes=list(scheme.scopes), created=d.created,
                     resourceid=scheme.scheme_id)


class LoginIn(BaseModel):
    """POST /accessmanagement/api/v1/portal/login: a person's username and password (never echoed)."""

    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, Field(min_length=1, max_length=200)]
    password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD)]


def person_out(person: Person, org_names: Mapping[str, str]) -> PersonOut:
    """The JSON of a person; `org_names` maps the orgnos of its roles to their names."""
    return PersonOut(username=person.username, name=person.name, mobile=person.mobile,
                     roles=[PersonRoleOut(orgno=r.orgno, org_name=org_names.get(r.orgno, ""), role=r.role)
                            for r in person.roles])

