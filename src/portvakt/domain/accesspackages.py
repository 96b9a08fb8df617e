"""The built-in catalogue of Altinn access packages (docs/protocol.md §6.1): portvakt has no access-management
register, so the packages a system may name, and who may hold them, are fixed here."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CATALOGUE", "PACKAGE_PREFIX", "AccessPackage", "package"]

PACKAGE_PREFIX = "urn:altinn:accesspackage:"


@dataclass(frozen=True, slots=True)
class AccessPackage:
    """One access package: `assignable` ones may go on a standard system user (the owner's own business),
    `for_clients` ones on an agent system user (a facilitator acting for its clients), docs/protocol.md §6.4."""

    urn: str
    name_nb: str
    name_en: str
    assignable: bool
    for_clients: bool

    @property
    def names(self) -> dict[str, str]:
        """The names by language."""
        return {"nb": self.name_nb, "en": self.name_en}


def _own(name: str, nb: str, en: str) -> AccessPackage:
    return AccessPackage(PACKAGE_PREFIX + name, nb, en, assignable=True, for_clients=False)


def _clients(name: str, nb: str, en: str) -> AccessPackage:
    return AccessPackage(PACKAGE_PREFIX + name, nb, en, assignable=False, for_clients=True)


CATALOGUE: tuple[AccessPackage, ...] = (
    _own("skattnaering", "Skatt næring", "Business tax"),
    _own("skattegrunnlag", "Skattegrunnlag", "Tax basis"),
    _own("merverdiavgift", "Merverdiavgift", "Value added tax"),
    _own("motorvognavgifter", "Motorvognavgifter", "Motor vehicle taxes"),
    _own("regnskap-okonomi-rapport", "Regnskap og økonomirapportering", "Accounting and financial reporting"),
    _clients("regnskapsforer-med-signeringsrettighet", "Regnskapsfører med signeringsrettighet",
             "Accountant with signing rights"),
    _clients("regnskapsforer-uten-signeringsrettighet", "Regnskapsfører uten signeringsrettighet",
             "Accountant without signing rights"),
    _clients("regnskapsforer-lonn", "Regnskapsfører lønn", "Accountant payroll"),
    _clients("ansvarlig-revisor", "Ansvarlig revisor", "Responsible auditor"),
    _clients("revisormedarbeider", "Revisormedarbeider", "Audit staff"),
    _clients("forretningsforer-eiendom", "Forretningsfører eiendom", "Property manager"),
)
_BY_URN = {p.urn: p for p in CATALOGUE}


def package(urn: str) -> AccessPackage | None:
    """The catalogue's package with this urn (compared exactly), or None."""
    return _BY_URN.get(urn)
