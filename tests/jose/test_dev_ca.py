"""The development CA (root, intermediate, SEID 2 style leaves, CRLs), Signer with x5c, PKCS#12 with a chain."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from portvakt.jose import (
    JoseError,
    KeyFormatError,
    PrivateKeyHandle,
    Signer,
    load_pkcs12,
    load_pkcs12_chain,
    make_pkcs12_for,
    peek,
)
from portvakt.jose.dev_ca import IssuedCertificate, issue_enterprise_certificate, make_crl, make_intermediate, make_root
from portvakt.jose.qcstatements import ID_PE_QC_STATEMENTS, eseal_kind

from .conftest import Keys

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PASSWORD = b"a long enough test password"


@dataclass(frozen=True)
class Ca:
    """A root, an intermediate under it, and one leaf."""

    root_key: PrivateKeyHandle
    root_pem: bytes
    inter_key: PrivateKeyHandle
    inter_pem: bytes
    leaf: IssuedCertificate

    @property
    def root(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.root_pem)

    @property
    def inter(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.inter_pem)

    def issue(self, **over: object) -> IssuedCertificate:
        """Another leaf with the first leaf's key."""
        args: dict[str, object] = {"orgno": "310838128", "organisation": "ACME AS", "now": NOW, "key": self.leaf.key}
        args.update(over)
        return issue_enterprise_certificate(self.inter_key, self.inter_pem, **args)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def ca() -> Ca:
    """Made once per module."""
    root_key, root_pem = make_root("Portvakt Dev Root", NOW)
    inter_key, inter_pem = make_intermediate(root_key, root_pem, "Portvakt Dev Issuing CA", NOW,
                                             crl_url="http://crl.portvakt.test/root.crl")
    leaf = issue_enterprise_certificate(inter_key, inter_pem, orgno="310838128", organisation="ACME AS", now=NOW)
    return Ca(root_key, root_pem, inter_key, inter_pem, leaf)


E = TypeVar("E", bound=x509.ExtensionType)


def ext(cert: x509.Certificate, kind: type[E]) -> x509.Extension[E]:
    return cert.extensions.get_extension_for_class(kind)


def test_the_root_is_a_self_signed_ca(ca: Ca) -> None:
    root = ca.root
    assert root.subject == root.issuer == x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Portvakt Dev Root")])
    root.verify_directly_issued_by(root)
    constraints = ext(root, x509.BasicConstraints)
    assert constraints.critical and constraints.value == x509.BasicConstraints(ca=True, path_length=None)
    usage = ext(root, x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign and not usage.value.digital_signature
    assert ext(root, x509.SubjectKeyIdentifier).value.digest
    assert root.not_valid_before_utc == NOW - timedelta(hours=1)
    assert root.not_valid_after_utc == NOW + timedelta(days=3650)


def test_the_intermediate_is_issued_by_the_root(ca: Ca) -> None:
    inter, root = ca.inter, ca.root
    inter.verify_directly_issued_by(root)
    assert inter.issuer == root.subject
    assert ext(inter, x509.BasicConstraints).value == x509.BasicConstraints(ca=True, path_length=0)
    root_ski = ext(root, x509.SubjectKeyIdentifier).value.digest
    assert ext(inter, x509.AuthorityKeyIdentifier).value.key_identifier == root_ski
    points = ext(inter, x509.CRLDistributionPoints).value
    assert [n.value for p in points for n in p.full_name or ()] == ["http://crl.portvakt.test/root.crl"]
    assert inter.not_valid_after_utc == NOW + timedelta(days=5 * 365)


def test_an_intermediate_without_crl_url_has_no_distribution_point(ca: Ca) -> None:
    _, pem = make_intermediate(ca.root_key, ca.root_pem, "Plain CA", NOW, years=1)
    cert = x509.load_pem_x509_certificate(pem)
    with pytest.raises(x509.ExtensionNotFound):
        ext(cert, x509.CRLDistributionPoints)
    assert cert.not_valid_after_utc == NOW + timedelta(days=365)


def test_the_leaf_is_seid2_style(ca: Ca) -> None:
    leaf = x509.load_pem_x509_certificate(ca.leaf.certificate_pem)
    leaf.verify_directly_issued_by(ca.inter)
    assert leaf.subject == x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "NO"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ACME AS"),
        x509.NameAttribute(NameOID.COMMON_NAME, "ACME AS"),
        x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "NTRNO-310838128"),
    ])
    usage = ext(leaf, x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.key_encipherment
    assert not usage.value.content_commitment and not usage.value.key_cert_sign
    assert list(ext(leaf, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH,
                                                            ExtendedKeyUsageOID.EMAIL_PROTECTION]
    assert ext(leaf, x509.BasicConstraints).value.ca is False
    assert ext(leaf, x509.AuthorityKeyIdentifier).value.key_identifier == \
        ext(ca.inter, x509.SubjectKeyIdentifier).value.digest
    assert ext(leaf, x509.SubjectKeyIdentifier).value.digest
    assert (leaf.not_valid_before_utc, leaf.not_valid_after_utc) == (NOW - timedelta(hours=1),
                                                                     NOW + timedelta(days=3 * 365))
    assert leaf.serial_number == ca.leaf.serial
    with pytest.raises(x509.ExtensionNotFound):
        leaf.extensions.get_extension_for_oid(x509.ObjectIdentifier(ID_PE_QC_STATEMENTS))


def test_the_x5c_is_the_leaf_then_the_intermediate_not_the_root(ca: Ca) -> None:
    leaf = x509.load_pem_x509_certificate(ca.leaf.certificate_pem)
    assert ca.leaf.x5c == [base64.b64encode(c.public_bytes(Encoding.DER)).decode() for c in (leaf, ca.inter)]
    under_root = issue_enterprise_certificate(ca.root_key, ca.root_pem, orgno="310838128", organisation="ACME AS",
                                              now=NOW, key=ca.leaf.key)
    assert len(under_root.x5c) == 1


def test_a_new_key_unless_one_is_given(ca: Ca) -> None:
    assert ca.issue().key is ca.leaf.key
    assert ca.leaf.key.bits == 2048
    assert ca.leaf.serial != ca.issue().serial


def test_serial_number_orgno_and_no_digital_signature(ca: Ca) -> None:
    leaf = x509.load_pem_x509_certificate(ca.issue(orgno_in="serialNumber", digital_signature=False).certificate_pem)
    assert leaf.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "310838128"
    assert not leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    usage = ext(leaf, x509.KeyUsage).value
    assert usage.content_commitment and not usage.digital_signature and not usage.key_encipherment


@pytest.mark.parametrize("kind", ["qualified", "non-qualified"])
def test_an_eseal_carries_qcstatements(ca: Ca, kind: str) -> None:
    leaf = x509.load_pem_x509_certificate(ca.issue(eseal=kind).certificate_pem)
    extension = leaf.extensions.get_extension_for_oid(x509.ObjectIdentifier(ID_PE_QC_STATEMENTS))
    assert not extension.critical
    assert eseal_kind(extension.value.public_bytes()) == kind


def test_explicit_dates_and_crl_url(ca: Ca) -> None:
    start, end = NOW - timedelta(days=10), NOW + timedelta(days=10)
    issued = ca.issue(not_before=start, not_after=end, crl_url="http://crl.portvakt.test/issuing.crl")
    leaf = x509.load_pem_x509_certificate(issued.certificate_pem)
    assert (leaf.not_valid_before_utc, leaf.not_valid_after_utc) == (start, end)
    points = ext(leaf, x509.CRLDistributionPoints).value
    assert [n.value for p in points for n in p.full_name or ()] == ["http://crl.portvakt.test/issuing.crl"]


@pytest.mark.parametrize(("over", "message"), [
    ({"orgno": "12345678"}, "orgno must be 9 digits"),
    ({"orgno": "31083812x"}, "orgno must be 9 digits"),
    ({"organisation": ""}, "organisation must be 1 to 64"),
    ({"organisation": "x" * 65}, "organisation must be 1 to 64"),
    ({"now": NOW.replace(tzinfo=None)}, "now must be timezone-aware"),
    ({"not_before": NOW, "not_after": NOW}, "not_after must be later"),
    ({"crl_url": "file:///etc/passwd"}, "crl_url must be"),
    ({"eseal": "sort-of"}, "eseal must be"),
    ({"orgno_in": "commonName"}, "orgno_in must be"),
])
def test_bad_requests_are_refused(ca: Ca, over: dict[str, object], message: str) -> None:
    with pytest.raises(JoseError, match=message):
        ca.issue(**over)


def test_an_issuer_must_be_a_ca(ca: Ca) -> None:
    with pytest.raises(JoseError, match="not a CA certificate"):
        issue_enterprise_certificate(ca.leaf.key, ca.leaf.certificate_pem, orgno="310838128", organisation="A", now=NOW)
    with pytest.raises(KeyFormatError, match="not a PEM certificate"):
        make_intermediate(ca.root_key, b"nope", "X", NOW)


def test_make_crl(ca: Ca) -> None:
    revoked_at = NOW - timedelta(days=1)
    pem = make_crl(ca.inter_key, ca.inter_pem, [(ca.leaf.serial, revoked_at), (7, NOW)], NOW,
                   next_update=NOW + timedelta(days=7))
    crl = x509.load_pem_x509_crl(pem)
    assert crl.issuer == ca.inter.subject
    assert crl.is_signature_valid(ca.inter.public_key())  # type: ignore[arg-type]
    assert (crl.last_update_utc, crl.next_update_utc) == (NOW, NOW + timedelta(days=7))
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == int(NOW.timestamp())
    entry = crl.get_revoked_certificate_by_serial_number(ca.leaf.serial)
    assert entry is not None and entry.revocation_date_utc == revoked_at
    assert len(crl) == 2
    with pytest.raises(JoseError, match="next_update must be later"):
        make_crl(ca.inter_key, ca.inter_pem, [], NOW, next_update=NOW)


# --- Signer with x5c ----------------------------------------------------------------------------------------------


def test_signer_with_x5c_sends_alg_and_x5c_only(ca: Ca) -> None:
    signer = Signer(ca.leaf.key, alg="RS384", x5c=ca.leaf.x5c)
    assert signer.kid is None
    assert signer.x5c == tuple(ca.leaf.x5c)
    token = peek(signer.sign({"iss": "client"}))
    assert token.header == {"alg": "RS384", "x5c": ca.leaf.x5c}
    assert list(token.header) == ["alg", "x5c"]
    extended = peek(signer.sign({"iss": "client"}, header={"typ": "JWT"}))
    assert extended.header == {"alg": "RS384", "x5c": ca.leaf.x5c, "typ": "JWT"}


def test_signer_with_x5c_reserves_it(ca: Ca) -> None:
    signer = Signer(ca.leaf.key, x5c=ca.leaf.x5c)
    for extra in ({"x5c": ["AAAA"]}, {"kid": "k"}, {"alg": "RS512"}):
        with pytest.raises(JoseError, match="may not set"):
            signer.sign({}, header=extra)


def test_signer_without_x5c_is_unchanged(ca: Ca) -> None:
    signer = Signer(ca.leaf.key)
    assert signer.kid == ca.leaf.key.kid and signer.x5c is None
    assert peek(signer.sign({})).header == {"kid": ca.leaf.key.kid, "alg": "RS256"}
    assert peek(signer.sign({}, header={"x5c": ["AAAA"]})).header["x5c"] == ["AAAA"]  # still allowed as an extra


def test_signer_refuses_a_bad_x5c_shape(ca: Ca, keys: Keys) -> None:
    with pytest.raises(JoseError, match="kid or carries x5c, not both"):
        Signer(ca.leaf.key, kid="k", x5c=ca.leaf.x5c)
    for bad in ([], [""], "MIIB", [ca.leaf.x5c[0], 3]):
        with pytest.raises(JoseError, match="x5c must"):
            Signer(ca.leaf.key, x5c=bad)  # type: ignore[arg-type]
    # the content is the verifier's to judge: a test can sign with a certificate that is not the key's
    assert peek(Signer(keys.handle, x5c=ca.leaf.x5c).sign({})).header["x5c"] == ca.leaf.x5c


# --- PKCS#12 with a chain -----------------------------------------------------------------------------------------


def test_pkcs12_chain_round_trip(ca: Ca) -> None:
    data = make_pkcs12_for(ca.leaf.key, ca.leaf.x5c, PASSWORD, "ACME AS virksomhetssertifikat")
    key, x5c = load_pkcs12_chain(data, PASSWORD)
    assert key.kid == ca.leaf.key.kid
    assert x5c == ca.leaf.x5c
    assert load_pkcs12(data, PASSWORD).kid == ca.leaf.key.kid
    opened = pkcs12.load_pkcs12(data, PASSWORD)
    assert opened.cert is not None and opened.cert.friendly_name == b"ACME AS virksomhetssertifikat"
    with pytest.raises(KeyFormatError, match="password is wrong"):
        load_pkcs12_chain(data, b"wrong")


def test_pkcs12_chain_puts_the_leaf_first_whatever_the_file_order(ca: Ca) -> None:
    leaf = x509.load_pem_x509_certificate(ca.leaf.certificate_pem)
    data = pkcs12.serialize_key_and_certificates(b"x", ca.leaf.key._key, None, [ca.root, ca.inter, leaf],
                                                 NoEncryption())
    _, x5c = load_pkcs12_chain(data, b"")
    der = [base64.b64encode(c.public_bytes(Encoding.DER)).decode() for c in (leaf, ca.inter, ca.root)]
    assert x5c == der


def test_pkcs12_chain_needs_a_matching_certificate(ca: Ca, keys: Keys) -> None:
    bare = pkcs12.serialize_key_and_certificates(b"x", ca.leaf.key._key, None, None, NoEncryption())
    with pytest.raises(KeyFormatError, match="holds no certificate"):
        load_pkcs12_chain(bare, b"")
    foreign = pkcs12.serialize_key_and_certificates(b"x", keys.rsa, None, [ca.inter], NoEncryption())
    with pytest.raises(KeyFormatError, match="no certificate in the PKCS#12 file holds"):
        load_pkcs12_chain(foreign, b"")


def test_make_pkcs12_for_refuses_bad_input(ca: Ca, keys: Keys) -> None:
    with pytest.raises(KeyFormatError, match="does not hold the key"):
        make_pkcs12_for(keys.handle, ca.leaf.x5c, PASSWORD, "x")
    with pytest.raises(KeyFormatError, match="x5c must"):
        make_pkcs12_for(ca.leaf.key, ["%%"], PASSWORD, "x")
    with pytest.raises(KeyFormatError, match="x5c must"):
        make_pkcs12_for(ca.leaf.key, [], PASSWORD, "x")
    with pytest.raises(JoseError, match="password must be non-empty"):
        make_pkcs12_for(ca.leaf.key, ca.leaf.x5c, b"", "x")
