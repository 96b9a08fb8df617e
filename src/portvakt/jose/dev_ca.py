"""A development certificate authority: a root, an intermediate, SEID 2 style enterprise certificates, CRLs.

For tests and local development only (the `portvakt dev-ca` command is built on it): nothing here is meant to
be trusted in production. Certificates follow RFC 5280 profiles closely enough that the verifier in
`portvakt.jose.certificates` checks them exactly as it checks Buypass or Commfides certificates.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .errors import JoseError, KeyFormatError
from .private import PrivateKeyHandle
from .qcstatements import ID_PE_QC_STATEMENTS, eseal_statements

__all__ = ["IssuedCertificate", "issue_enterprise_certificate", "make_crl", "make_intermediate", "make_root"]

#: Certificates start an hour back, so a clock a little behind the CA's still accepts them.
_BACKDATE = timedelta(hours=1)
_YEAR = timedelta(days=365)
_ORGNO = re.compile(r"[0-9]{9}")
#: X.520 upper bounds: ub-common-name and ub-organization-name are 64 (RFC 5280 Appendix A.1).
_MAX_NAME = 64


@dataclass(frozen=True)
class IssuedCertificate:
    """A new enterprise certificate, its key, and its x5c (leaf first, then the issuing intermediate)."""

    key: PrivateKeyHandle
    certificate_pem: bytes
    serial: int
    x5c: list[str]


def _key_usage(*, digital_signature: bool = False, content_commitment: bool = False, key_encipherment: bool = False,
               ca: bool = False) -> x509.KeyUsage:
    """A KeyUsage value (RFC 5280 §4.2.1.3); a CA signs certificates and CRLs."""
    return x509.KeyUsage(digital_signature=digital_signature, content_commitment=content_commitment,
                         key_encipherment=key_encipherment, data_encipherment=False, key_agreement=False,
                         key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)


def _name_value(value: str, label: str) -> str:
    """A name attribute: 1 to 64 printable characters (RFC 5280 Appendix A.1)."""
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= _MAX_NAME or not value.isprintable():
        raise JoseError(f"{label} must be 1 to {_MAX_NAME} printable characters")
    return value.strip()


def _aware(value: datetime, label: str) -> datetime:
    """Refuse naive datetimes: every time in a certificate is UTC (RFC 5280 §4.1.2.5)."""
    if value.tzinfo is None:
        raise JoseError(f"{label} must be timezone-aware")
    return value


def _load_issuer(issuer_pem: bytes) -> x509.Certificate:
    """The issuing CA certificate, which must be a CA (RFC 5280 §4.2.1.9).

    Its key is not compared with the signing key on purpose: tests make broken chains that way."""
    try:
        issuer = x509.load_pem_x509_certificate(issuer_pem)
    except (ValueError, TypeError):
        raise KeyFormatError("the issuer certificate is not a PEM certificate") from None
    try:
        constraints = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        raise JoseError("the issuer certificate is not a CA certificate (no BasicConstraints)") from None
    if not constraints.ca:
        raise JoseError("the issuer certificate is not a CA certificate")
    return issuer


def _authority_key_id(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    """The AKI naming the issuer's SKI if it has one, else its key (RFC 5280 §4.2.1.1)."""
    try:
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key())  # type: ignore[arg-type]
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _years(years: int) -> timedelta:
    """A CA's lifetime: 1 to 30 whole years of 365 days."""
    if not isinstance(years, int) or not 1 <= years <= 30:
        raise JoseError("years must be 1 to 30")
    return years * _YEAR


def _crl_distribution_point(url: str) -> x509.CRLDistributionPoints:
    """One distribution point with one URI (RFC 5280 §4.2.1.13)."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://", "ldap://")):
        raise JoseError("crl_url must be an http, https or ldap URL")
    point = x509.DistributionPoint(full_name=[x509.UniformResourceIdentifier(url)], relative_name=None,
                                   reasons=None, crl_issuer=None)
    return x509.CRLDistributionPoints([point])


def _pem(cert: x509.Certificate) -> bytes:
    """PEM of a certificate (RFC 7468 §5)."""
    return cert.public_bytes(Encoding.PEM)


def _b64(cert: x509.Certificate) -> str:
    """An x5c entry: base64 (standard alphabet) of the DER (RFC 7517 §4.7)."""
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode("ascii")


def make_root(name: str, now: datetime, *, years: int = 10) -> tuple[PrivateKeyHandle, bytes]:
    """A self-signed root CA: CN=name, CA:TRUE and keyCertSign+cRLSign, both critical, SKI (RFC 5280 §4.2.1.9)."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _name_value(name, "name"))])
    start = _aware(now, "now") - _BACKDATE
    key = PrivateKeyHandle.generate()
    public = key._key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + _years(years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key._key, SHA256())
    )
    return key, _pem(cert)


def make_intermediate(root_key: PrivateKeyHandle, root_pem: bytes, name: str, now: datetime, *, years: int = 5,
                      crl_url: str | None = None) -> tuple[PrivateKeyHandle, bytes]:
    """An issuing CA under the root: CA:TRUE pathlen 0, keyCertSign+cRLSign, AKI/SKI, an optional CRL DP."""
    root = _load_issuer(root_pem)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _name_value(name, "name"))])
    start = _aware(now, "now") - _BACKDATE
    key = PrivateKeyHandle.generate()
    public = key._key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(root.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(min(now + _years(years), root.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(_authority_key_id(root), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    if crl_url is not None:
        builder = builder.add_extension(_crl_distribution_point(crl_url), critical=False)
    return key, _pem(builder.sign(root_key._key, SHA256()))


def _enterprise_subject(orgno: str, organisation: str,
                        orgno_in: Literal["organizationIdentifier", "serialNumber"]) -> x509.Name:
    """SEID 2 style subject: C=NO, O, CN, and organizationIdentifier NTRNO-<orgno> or serialNumber <orgno>."""
    if not isinstance(orgno, str) or not _ORGNO.fullmatch(orgno):
        raise JoseError("orgno must be 9 digits")
    organisation = _name_value(organisation, "organisation")
    if orgno_in == "organizationIdentifier":
        identifier = x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, f"NTRNO-{orgno}")
    elif orgno_in == "serialNumber":
        identifier = x509.NameAttribute(NameOID.SERIAL_NUMBER, orgno)
    else:
        raise JoseError("orgno_in must be organizationIdentifier or serialNumber")
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "NO"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        x509.NameAttribute(NameOID.COMMON_NAME, organisation),
        identifier,
    ])


def issue_enterprise_certificate(
    issuer_key: PrivateKeyHandle, issuer_pem: bytes, *, orgno: str, organisation: str, now: datetime,
    not_before: datetime | None = None, not_after: datetime | None = None, key: PrivateKeyHandle | None = None,
    orgno_in: Literal["organizationIdentifier", "serialNumber"] = "organizationIdentifier",
    eseal: Literal["qualified", "non-qualified"] | None = None, digital_signature: bool = True,
    crl_url: str | None = None,
) -> IssuedCertificate:
    """An enterprise certificate in the SEID 2 style (subject, KU, EKU clientAuth+emailProtection, AKI/SKI)."""
    issuer = _load_issuer(issuer_pem)
    _aware(now, "now")
    start = _aware(not_before, "not_before") if not_before is not None else now - _BACKDATE
    end = _aware(not_after, "not_after") if not_after is not None else min(now + 3 * _YEAR,
                                                                            issuer.not_valid_after_utc)
    if end <= start:
        raise JoseError("not_after must be later than not_before")
    key = key if key is not None else PrivateKeyHandle.generate()
    public = key._key.public_key()
    usage = (_key_usage(digital_signature=True, key_encipherment=True) if digital_signature
             else _key_usage(content_commitment=True))
    serial = x509.random_serial_number()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_enterprise_subject(orgno, organisation, orgno_in))
        .issuer_name(issuer.subject)
        .public_key(public)
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                       critical=False)
        .add_extension(_authority_key_id(issuer), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    if crl_url is not None:
        builder = builder.add_extension(_crl_distribution_point(crl_url), critical=False)
    if eseal is not None:
        if eseal not in ("qualified", "non-qualified"):
            raise JoseError("eseal must be qualified or non-qualified")
        statements = x509.UnrecognizedExtension(x509.ObjectIdentifier(ID_PE_QC_STATEMENTS),
                                                eseal_statements(qualified=eseal == "qualified"))
        builder = builder.add_extension(statements, critical=False)
    cert = builder.sign(issuer_key._key, SHA256())
    self_signed_issuer = issuer.subject == issuer.issuer
    x5c = [_b64(cert)] if self_signed_issuer else [_b64(cert), _b64(issuer)]
    return IssuedCertificate(key=key, certificate_pem=_pem(cert), serial=serial, x5c=x5c)


def make_crl(issuer_key: PrivateKeyHandle, issuer_pem: bytes, revoked: Iterable[tuple[int, datetime]],
             now: datetime, *, next_update: datetime) -> bytes:
    """A PEM CRL signed by the issuer with thisUpdate=now, nextUpdate, AKI and a CRL number (RFC 5280 §5)."""
    issuer = _load_issuer(issuer_pem)
    _aware(now, "now")
    if _aware(next_update, "next_update") <= now:
        raise JoseError("next_update must be later than now")
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
        .add_extension(_authority_key_id(issuer), critical=False)
    )
    for serial, when in revoked:
        entry = (x509.RevokedCertificateBuilder().serial_number(serial)
                 .revocation_date(_aware(when, "a revocation date")).build())
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(issuer_key._key, SHA256()).public_bytes(Encoding.PEM)
