"""Enterprise certificates in a grant's `x5c` header (RFC 7517 §4.7, docs/protocol.md §5.2).

`TrustStore.verify` decodes the chain, checks the leaf's dates, KeyUsage and RSA key, builds and checks the path
with `cryptography.x509.verification` (RFC 5280 §6) against the national and then the EU anchors, checks each
certificate of the path against its issuer's CRL (RFC 5280 §6.3), and reads the organisation number and the e-seal
QCStatements of the leaf. Every refusal is a `CertificateRejected` whose message is safe to show the client.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from itertools import pairwise
from typing import TYPE_CHECKING, Literal, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupported
from cryptography.hazmat.primitives.asymmetric.dsa import DSAPublicKey
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    Policy,
    PolicyBuilder,
    Store,
    VerificationError,
)
from joserfc.util import int_to_base64

from .errors import JoseError, KeyFormatError
from .keys import PublicKey, _rsa_numbers, thumbprint
from .signing import Verifier

if TYPE_CHECKING:
    from .qcstatements import EsealKind

__all__ = [
    "MAX_CHAIN_ENTRIES",
    "MAX_ENTRY_BYTES",
    "CertificateProblem",
    "CertificateRejected",
    "Crl",
    "CrlSource",
    "CrlUnavailable",
    "EnterpriseCertificate",
    "TrustStore",
    "load_crl",
    "x5c_of_pem",
    "x5c_thumbprint",
]

#: At most this many x5c entries, each at most this many bytes of DER (docs/protocol.md §5.2).
MAX_CHAIN_ENTRIES = 5
MAX_ENTRY_BYTES = 16 * 1024
#: Base64 of MAX_ENTRY_BYTES, padded: a longer string is refused before it is decoded.
_MAX_ENTRY_CHARS = 4 * -(-MAX_ENTRY_BYTES // 3)
#: Leaf, at most two intermediates and the anchor.
_MAX_CHAIN_DEPTH = 4
_NTRNO = re.compile(r"NTRNO-([0-9]{9})")
_NINE_DIGITS = re.compile(r"[0-9]{9}")
_CRL_SCHEMES = ("http://", "https://", "ldap://")
_PEM_CRL = b"-----BEGIN X509 CRL-----"
#: How many (CRL, issuer) signature verdicts are remembered.
_MAX_SIGNATURE_CHECKS = 1024
#: How much of a certificate's name goes into a message.
_MAX_LABEL = 64

_SHA256 = SHA256()
#: What reading a hostile certificate's names or extensions may raise (RFC 5280 §4.1 violations).
_UNREADABLE = (ValueError, TypeError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType, x509.InvalidVersion,
               _CryptoUnsupported)
_E = TypeVar("_E", bound=x509.ExtensionType)
_IssuerKey = RSAPublicKey | EllipticCurvePublicKey | DSAPublicKey | Ed25519PublicKey | Ed448PublicKey


class CertificateProblem(StrEnum):
    """Why an x5c chain was refused (docs/protocol.md §5.2)."""

    MALFORMED = "malformed"
    NOT_RSA = "not-rsa"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    UNKNOWN_CA = "unknown-ca"
    BROKEN_CHAIN = "broken-chain"
    NO_DIGITAL_SIGNATURE = "no-digital-signature"
    REVOKED = "revoked"
    REVOCATION_UNKNOWN = "revocation-unknown"
    NOT_ESEAL = "not-eseal"


class CertificateRejected(JoseError):
    """The x5c chain is not accepted; `problem` says why, str() is a client-safe sentence (never the input)."""

    def __init__(self, problem: CertificateProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


class CrlUnavailable(JoseError):
    """A CRL had to be fetched and could not be (raised by a CrlSource; RFC 5280 §6.3.3)."""


@dataclass(frozen=True)
class Crl:
    """A certificate revocation list (RFC 5280 §5); its signature is checked against the issuer when used."""

    issuer: str
    this_update: datetime
    next_update: datetime | None
    fingerprint: str
    _crl: x509.CertificateRevocationList = field(repr=False, compare=False)


def load_crl(data: bytes) -> Crl:
    """Read a CRL from PEM ("X509 CRL", RFC 7468 §6) or DER (RFC 5280 §5.1); KeyFormatError otherwise."""
    if not isinstance(data, bytes):
        raise KeyFormatError("a CRL must be bytes")
    try:
        crl = x509.load_pem_x509_crl(data) if _PEM_CRL in data else x509.load_der_x509_crl(data)
        issuer = crl.issuer.rfc4514_string()
        list(crl.extensions)
    except _UNREADABLE:
        raise KeyFormatError("the data is not a certificate revocation list (PEM X509 CRL or DER)") from None
    return Crl(issuer=issuer, this_update=crl.last_update_utc, next_update=crl.next_update_utc,
               fingerprint=hashlib.sha256(crl.public_bytes(Encoding.DER)).hexdigest(), _crl=crl)


#: Given a certificate's CRL distribution point URLs (in order), a CRL, or None; may raise CrlUnavailable.
CrlSource = Callable[[Sequence[str]], Crl | None]


@dataclass(frozen=True)
class EnterpriseCertificate:
    """A verified enterprise certificate: who it names, how it was trusted, and a Verifier over its key."""

    subject: str
    issuer: str
    serial: str
    fingerprint: str
    not_before: datetime
    not_after: datetime
    orgno: str | None
    organization_identifier: str | None
    anchor: Literal["national", "eu"]
    eseal: EsealKind | None
    revocation_checked: bool
    valid_until: datetime
    verifier: Verifier = field(repr=False, compare=False)


def _when(moment: datetime) -> str:
    """ISO 8601 UTC with a Z, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _label(name: x509.Name) -> str:
    """CN=<common name> (else the RFC 4514 name), printable and at most 64 characters, for messages."""
    try:
        common = [a.value for a in name.get_attributes_for_oid(NameOID.COMMON_NAME) if isinstance(a.value, str)]
        text = f"CN={common[0]}" if common else name.rfc4514_string() or "(empty name)"
    except _UNREADABLE:
        text = "(unreadable name)"
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 1] + "…"


_LINE_BREAKS = str.maketrans("", "", "\r\n\t ")


def _decode_entry(entry: object, index: int) -> bytes:
    """One x5c entry: base64 in the standard alphabet (RFC 4648 §4, RFC 7517 §4.7), at most 16 KiB. Line breaks and
    spaces are dropped first, as PEM tools leave them and Maskinporten accepts them (decision T16)."""
    if not isinstance(entry, str) or not entry:
        raise CertificateRejected(CertificateProblem.MALFORMED, f"x5c[{index}] is not a non-empty string")
    if len(entry) > _MAX_ENTRY_CHARS:
        raise CertificateRejected(CertificateProblem.MALFORMED, f"x5c[{index}] is larger than 16 KiB")
    try:
        der = base64.b64decode(entry.translate(_LINE_BREAKS), validate=True)
    except (binascii.Error, ValueError):
        raise CertificateRejected(CertificateProblem.MALFORMED,
                                  f"x5c[{index}] is not base64 in the standard alphabet (RFC 7517 §4.7)") from None
    if not der or len(der) > MAX_ENTRY_BYTES:
        raise CertificateRejected(CertificateProblem.MALFORMED, f"x5c[{index}] is empty or larger than 16 KiB")
    return der


def _parse_chain(x5c: Sequence[str]) -> list[x509.Certificate]:
    """Decode every entry to a certificate whose names and extensions can be read (RFC 5280 §4.1)."""
    if isinstance(x5c, str | bytes) or not isinstance(x5c, Sequence) or not 1 <= len(x5c) <= MAX_CHAIN_ENTRIES:
        raise CertificateRejected(CertificateProblem.MALFORMED,
                                  f"the x5c header must hold 1 to {MAX_CHAIN_ENTRIES} certificates")
    certs = []
    for index, entry in enumerate(x5c):
        der = _decode_entry(entry, index)
        try:
            cert = x509.load_der_x509_certificate(der)
            _ = cert.subject, cert.issuer, list(cert.extensions)  # read them now, so that no later step can fail
        except _UNREADABLE:
            raise CertificateRejected(CertificateProblem.MALFORMED,
                                      f"x5c[{index}] is not a DER X.509 certificate (RFC 5280 §4.1)") from None
        certs.append(cert)
    return certs


def _check_dates(certs: Sequence[x509.Certificate], at: datetime) -> None:
    """Every certificate of x5c is within notBefore..notAfter at `at` (RFC 5280 §4.1.2.5, §6.1.3 (a)(2))."""
    for index, cert in enumerate(certs):
        if cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
            continue
        which = _label(certs[0].subject)
        if index:
            which = f"{_label(cert.subject)} (x5c[{index}], in the chain of {which})"
        if at > cert.not_valid_after_utc:
            raise CertificateRejected(CertificateProblem.EXPIRED,
                                      f"the certificate {which} expired at {_when(cert.not_valid_after_utc)}")
        raise CertificateRejected(CertificateProblem.NOT_YET_VALID,
                                  f"the certificate {which} is not valid before {_when(cert.not_valid_before_utc)}")


def _extension(cert: x509.Certificate, kind: type[_E]) -> _E | None:
    """The value of one extension of a certificate, or None."""
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _check_leaf_usage(leaf: x509.Certificate) -> None:
    """The leaf signs (KeyUsage digitalSignature, RFC 5280 §4.2.1.3) and is no CA (§4.2.1.9)."""
    usage = _extension(leaf, x509.KeyUsage)
    if usage is None or not usage.digital_signature:
        raise CertificateRejected(CertificateProblem.NO_DIGITAL_SIGNATURE,
                                  f"the certificate {_label(leaf.subject)} is not for digital signatures "
                                  "(its KeyUsage lacks digitalSignature)")
    constraints = _extension(leaf, x509.BasicConstraints)
    if constraints is not None and constraints.ca:
        raise CertificateRejected(CertificateProblem.BROKEN_CHAIN,
                                  f"the certificate {_label(leaf.subject)} is a CA certificate, not an enterprise "
                                  "certificate (RFC 5280 §4.2.1.9)")


def _leaf_verifier(leaf: x509.Certificate) -> Verifier:
    """A Verifier over the leaf's RSA key, with the key checks of jose.keys (2048-8192 bits, e = 65537)."""
    try:
        public = leaf.public_key()
    except _CryptoUnsupported:
        public = None
    except ValueError:
        raise CertificateRejected(CertificateProblem.MALFORMED, "the public key of x5c[0] cannot be read") from None
    if not isinstance(public, RSAPublicKey):
        raise CertificateRejected(CertificateProblem.NOT_RSA,
                                  f"the certificate {_label(leaf.subject)} has no RSA key; grants are signed with "
                                  "RS256, RS384 or RS512")
    numbers = public.public_numbers()
    try:
        _rsa_numbers(numbers.n, numbers.e)
    except KeyFormatError as err:
        raise CertificateRejected(CertificateProblem.NOT_RSA, f"the RSA key of the certificate "
                                  f"{_label(leaf.subject)} is not accepted: {err}") from None
    jwk = {"kty": "RSA", "n": int_to_base64(numbers.n), "e": int_to_base64(numbers.e)}
    jwk["kid"] = thumbprint(jwk)
    return Verifier._of_imported(PublicKey(jwk=jwk, kid=jwk["kid"], bits=numbers.n.bit_length()), public)


def _leaf_digital_signature(_policy: Policy, _cert: x509.Certificate, usage: x509.KeyUsage) -> None:
    """The leaf's KeyUsage must assert digitalSignature (RFC 5280 §4.2.1.3)."""
    if not usage.digital_signature:
        raise ValueError("the leaf's KeyUsage lacks digitalSignature")


def _leaf_not_ca(_policy: Policy, _cert: x509.Certificate, constraints: x509.BasicConstraints | None) -> None:
    """The leaf must not be a CA certificate (RFC 5280 §4.2.1.9)."""
    if constraints is not None and constraints.ca:
        raise ValueError("the leaf is a CA certificate")


_CA_POLICY = ExtensionPolicy.webpki_defaults_ca()
_EE_POLICY = (
    ExtensionPolicy.permit_all()
    .require_present(x509.KeyUsage, Criticality.AGNOSTIC, _leaf_digital_signature)
    .may_be_present(x509.BasicConstraints, Criticality.AGNOSTIC, _leaf_not_ca)
)


def _distribution_points(cert: x509.Certificate) -> list[str]:
    """The http, https and ldap URLs of the CRL distribution points, in order (RFC 5280 §4.2.1.13)."""
    points = _extension(cert, x509.CRLDistributionPoints)
    urls: list[str] = []
    for point in points or ():
        for name in point.full_name or ():
            if isinstance(name, x509.UniformResourceIdentifier) and name.value.lower().startswith(_CRL_SCHEMES):
                urls.append(name.value)
    return urls


def _orgno(subject: x509.Name) -> tuple[str | None, str | None]:
    """(orgno, organizationIdentifier): NTRNO-<9 digits> in 2.5.4.97, else a 9-digit serialNumber (2.5.4.5)."""
    identifiers = [a.value for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
                   if isinstance(a.value, str)]
    identifier = identifiers[0] if identifiers else None
    if identifier is not None and (match := _NTRNO.fullmatch(identifier)):
        return match.group(1), identifier
    for attribute in subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER):
        if isinstance(attribute.value, str) and _NINE_DIGITS.fullmatch(attribute.value):
            return attribute.value, identifier
    return None, identifier


def _eseal(leaf: x509.Certificate) -> EsealKind | None:
    """The e-seal kind from the leaf's QCStatements (ETSI EN 319 412-5), None without one."""
    from .qcstatements import ID_PE_QC_STATEMENTS, eseal_kind  # pyasn1 only once a certificate is read

    try:
        extension = leaf.extensions.get_extension_for_oid(x509.ObjectIdentifier(ID_PE_QC_STATEMENTS))
    except x509.ExtensionNotFound:
        return None
    return eseal_kind(extension.value.public_bytes())


def _issuer_key(cert: x509.Certificate) -> _IssuerKey | None:
    """The public key of a CA certificate if it is a kind that can sign CRLs."""
    key = cert.public_key()
    return key if isinstance(key, _IssuerKey) else None


@dataclass
class _Revocation:
    """What the revocation checks of one path found."""

    checked: bool = True
    next_updates: list[datetime] = field(default_factory=list)


class TrustStore:
    """The trust anchors (national and EU), known intermediates and CRLs that x5c chains are checked against."""

    def __init__(self, *, national: Sequence[x509.Certificate], eu: Sequence[x509.Certificate],
                 intermediates: Sequence[x509.Certificate], crls: Sequence[Crl]) -> None:
        self._stores: list[tuple[Literal["national", "eu"], Store]] = []
        if national:
            self._stores.append(("national", Store(list(national))))
        if eu:
            self._stores.append(("eu", Store(list(eu))))
        self._anchors = (tuple(national), tuple(eu))
        self._intermediates = list(intermediates)
        self._cas = [*national, *eu, *intermediates]
        self._ca_names = {ca.subject for ca in self._cas}
        self._crls = tuple(crls)
        self._crls_by_issuer: dict[x509.Name, list[Crl]] = {}
        for crl in sorted(self._crls, key=lambda c: c.this_update, reverse=True):
            self._crls_by_issuer.setdefault(crl._crl.issuer, []).append(crl)
        #: (CRL fingerprint, issuer certificate) -> does the signature verify; filled as used, emptied when full.
        self._signature_checks: dict[tuple[str, x509.Certificate], bool] = {}

    @classmethod
    def from_pem(cls, national: Iterable[bytes], eu: Iterable[bytes] = (), crls: Iterable[Crl] = ()) -> TrustStore:
        """A store from PEM bundles: self-signed CAs become anchors of their set, other CAs known intermediates."""
        anchors: dict[str, list[x509.Certificate]] = {"national": [], "eu": []}
        intermediates: list[x509.Certificate] = []
        for label, bundles in (("national", national), ("eu", eu)):
            for number, data in enumerate(bundles, start=1):
                for cert in _load_bundle(data, f"{label} certificate file {number}"):
                    target = anchors[label] if _self_signed(cert) else intermediates
                    if cert not in target:
                        target.append(cert)
        crl_list = list(crls)
        if not all(isinstance(c, Crl) for c in crl_list):
            raise KeyFormatError("crls must be Crl values (see load_crl)")
        return cls(national=anchors["national"], eu=anchors["eu"], intermediates=intermediates, crls=crl_list)

    @property
    def anchors(self) -> int:
        """How many trust anchors, national and EU."""
        return len(self._anchors[0]) + len(self._anchors[1])

    @property
    def intermediates(self) -> int:
        """How many known intermediate CAs."""
        return len(self._intermediates)

    @property
    def crl_count(self) -> int:
        """How many CRLs the store holds."""
        return len(self._crls)

    def verify(self, x5c: Sequence[str], at: datetime, *, crls: CrlSource | None = None) -> EnterpriseCertificate:
        """Check an x5c chain at `at` (docs/protocol.md §5.2); CertificateRejected or CrlUnavailable if not accepted."""
        if at.tzinfo is None:
            raise ValueError("`at` must be timezone-aware")
        certs = _parse_chain(x5c)
        leaf = certs[0]
        _check_dates(certs, at)
        _check_leaf_usage(leaf)
        verifier = _leaf_verifier(leaf)
        anchor, chain = self._build_path(certs, at)
        revocation = _Revocation()
        for cert, issuer in pairwise(chain):
            self._check_revocation(cert, issuer, at, crls, revocation)
        eseal = _eseal(leaf)
        if anchor == "eu" and eseal is None:
            raise CertificateRejected(CertificateProblem.NOT_ESEAL,
                                      f"the certificate {_label(leaf.subject)} is from a European authority but is "
                                      "not an e-seal (no QcType e-seal statement, ETSI EN 319 412-5)")
        orgno, identifier = _orgno(leaf.subject)
        return EnterpriseCertificate(
            subject=leaf.subject.rfc4514_string(),
            issuer=leaf.issuer.rfc4514_string(),
            serial=format(leaf.serial_number, "x"),
            fingerprint=leaf.fingerprint(_SHA256).hex(),
            not_before=leaf.not_valid_before_utc,
            not_after=leaf.not_valid_after_utc,
            orgno=orgno,
            organization_identifier=identifier,
            anchor=anchor,
            eseal=eseal,
            revocation_checked=revocation.checked,
            valid_until=min([c.not_valid_after_utc for c in chain] + revocation.next_updates),
            verifier=verifier,
        )

    def _build_path(self, certs: list[x509.Certificate],
                    at: datetime) -> tuple[Literal["national", "eu"], list[x509.Certificate]]:
        """The verified path leaf..anchor (RFC 5280 §6.1) from the national, else the EU anchors."""
        intermediates = [*certs[1:], *(c for c in self._intermediates if c not in certs)]
        for anchor, store in self._stores:
            verifier = (
                PolicyBuilder()
                .store(store)
                .time(at)
                .max_chain_depth(_MAX_CHAIN_DEPTH)
                .extension_policies(ca_policy=_CA_POLICY, ee_policy=_EE_POLICY)
                .build_client_verifier()
            )
            try:
                return anchor, verifier.verify(certs[0], intermediates).chain
            except VerificationError:
                continue
        raise self._path_problem(certs, at)

    def _path_problem(self, certs: list[x509.Certificate], at: datetime) -> CertificateRejected:
        """Why no path was found: a known issuer out of its dates, a broken chain to a known CA, or an unknown CA."""
        leaf = _label(certs[0].subject)
        seen, queue = list(certs), list(certs)
        while queue:  # walk up through the store's CAs by name: is every candidate issuer out of its dates?
            cert = queue.pop(0)
            known = [ca for ca in self._cas if ca.subject == cert.issuer and ca != cert]
            if known and not any(ca.not_valid_before_utc <= at <= ca.not_valid_after_utc for ca in known):
                return _out_of_dates(known[0], leaf, at)
            fresh = [ca for ca in known if ca not in seen]
            seen.extend(fresh)
            queue.extend(fresh)
        if any(cert.issuer in self._ca_names or cert in self._cas for cert in certs):
            issuer = next(cert.issuer for cert in certs if cert.issuer in self._ca_names or cert in self._cas)
            return CertificateRejected(CertificateProblem.BROKEN_CHAIN,
                                       f"the certificate chain of {leaf} does not verify up to {_label(issuer)}: a "
                                       "signature, an intermediate certificate or a CA constraint is wrong")
        return CertificateRejected(CertificateProblem.UNKNOWN_CA,
                                   f"the certificate {leaf} is not issued by a trusted certificate authority "
                                   f"(its issuer is {_label(certs[0].issuer)})")

    def _check_revocation(self, cert: x509.Certificate, issuer: x509.Certificate, at: datetime,
                          source: CrlSource | None, found: _Revocation) -> None:
        """RFC 5280 §6.3: the issuer's newest CRL; a stale one is refreshed through `source` or fails closed."""
        crl = next((c for c in self._crls_by_issuer.get(cert.issuer, ()) if self._signed_by(c, issuer)), None)
        if crl is None or not _current(crl, at):
            urls = _distribution_points(cert)
            fetched = source(urls) if source is not None and urls else None
            if fetched is not None and (fetched._crl.issuer != cert.issuer or not self._signed_by(fetched, issuer)):
                fetched = None
            if fetched is not None and (crl is None or fetched.this_update >= crl.this_update):
                crl = fetched
        if crl is None:
            found.checked = False
            return
        if not _current(crl, at):
            expired = _when(crl.next_update) if crl.next_update is not None else "an unknown time"
            raise CertificateRejected(CertificateProblem.REVOCATION_UNKNOWN,
                                      f"the revocation status of {_label(cert.subject)} is unknown: the CRL of "
                                      f"{_label(issuer.subject)} expired at {expired}")
        if crl.next_update is not None:
            found.next_updates.append(crl.next_update)
        entry = crl._crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is not None:
            raise CertificateRejected(CertificateProblem.REVOKED,
                                      f"the certificate {_label(cert.subject)} was revoked by "
                                      f"{_label(issuer.subject)} at {_when(entry.revocation_date_utc)}")

    def _signed_by(self, crl: Crl, issuer: x509.Certificate) -> bool:
        """Does the CRL's signature verify with the issuer's key (RFC 5280 §6.3.3 (g))? Cached per pair."""
        pair = (crl.fingerprint, issuer)
        verdict = self._signature_checks.get(pair)
        if verdict is None:
            key = _issuer_key(issuer)
            verdict = key is not None and crl._crl.issuer == issuer.subject and crl._crl.is_signature_valid(key)
            if len(self._signature_checks) >= _MAX_SIGNATURE_CHECKS:  # fetched CRLs come and go
                self._signature_checks.clear()
            self._signature_checks[pair] = verdict
        return verdict


def _out_of_dates(ca: x509.Certificate, leaf: str, at: datetime) -> CertificateRejected:
    """EXPIRED or NOT_YET_VALID for a store CA on the way up from the leaf (RFC 5280 §6.1.3 (a)(2))."""
    if at > ca.not_valid_after_utc:
        return CertificateRejected(CertificateProblem.EXPIRED, f"the issuing certificate {_label(ca.subject)} of "
                                   f"{leaf} expired at {_when(ca.not_valid_after_utc)}")
    return CertificateRejected(CertificateProblem.NOT_YET_VALID, f"the issuing certificate {_label(ca.subject)} of "
                               f"{leaf} is not valid before {_when(ca.not_valid_before_utc)}")


def _current(crl: Crl, at: datetime) -> bool:
    """A CRL is current until its nextUpdate (RFC 5280 §5.1.2.5); one without nextUpdate never goes stale."""
    return crl.next_update is None or crl.next_update > at


def _self_signed(cert: x509.Certificate) -> bool:
    """Issuer equals subject and the certificate's own key verifies its signature (RFC 5280 §3.2)."""
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _load_bundle(data: bytes, what: str) -> list[x509.Certificate]:
    """The CA certificates of one PEM bundle (RFC 7468 §5); an end-entity certificate is refused."""
    if not isinstance(data, bytes):
        raise KeyFormatError(f"the {what} must be bytes")
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise KeyFormatError(f"the {what} holds no readable PEM certificate") from None
    for cert in certs:
        constraints = _extension(cert, x509.BasicConstraints)
        if constraints is None or not constraints.ca:
            raise KeyFormatError(f"the {what} holds {_label(cert.subject)}, which is not a CA certificate "
                                 "(a trust store holds CA certificates only)")
    return certs


def x5c_of_pem(data: bytes) -> list[str]:
    """A PEM chain file as x5c: base64 (standard alphabet) DER, in file order, leaf first (RFC 7517 §4.7)."""
    if not isinstance(data, bytes):
        raise KeyFormatError("a PEM certificate chain must be bytes")
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise KeyFormatError("no PEM certificate (-----BEGIN CERTIFICATE-----) could be read") from None
    return [base64.b64encode(cert.public_bytes(Encoding.DER)).decode("ascii") for cert in certs]


def x5c_thumbprint(x5c0: str) -> str:
    """SHA-256 hex of the DER of one x5c entry (RFC 7517 §4.7, like x5t#S256 §4.9 but hex); MALFORMED if not base64."""
    return hashlib.sha256(_decode_entry(x5c0, 0)).hexdigest()
