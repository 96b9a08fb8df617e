"""Enterprise certificates in x5c (docs/protocol.md §5.2): path, dates, usage, revocation, orgno, e-seals."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import timeit
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from portvakt.jose import (
    BadSignature,
    CertificateProblem,
    CertificateRejected,
    Crl,
    CrlUnavailable,
    KeyFormatError,
    PrivateKeyHandle,
    Signer,
    TrustStore,
    load_crl,
    peek,
    x5c_of_pem,
    x5c_thumbprint,
)
from portvakt.jose.dev_ca import IssuedCertificate, issue_enterprise_certificate, make_crl, make_intermediate, make_root
from portvakt.jose.qcstatements import ID_PE_QC_STATEMENTS, eseal_kind, eseal_statements

from .conftest import Keys, assert_no_echo

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ORGNO = "310838128"
LEAF_CRL_URL = "http://crl.portvakt.test/issuing.crl"
Problem = CertificateProblem


@dataclass(frozen=True)
class Pki:
    """A national root and issuing CA, an EU root and issuing CA, and a leaf key shared by most leaves."""

    root_key: PrivateKeyHandle
    root_pem: bytes
    inter_key: PrivateKeyHandle
    inter_pem: bytes
    eu_key: PrivateKeyHandle
    eu_pem: bytes
    leaf_key: PrivateKeyHandle
    leaf: IssuedCertificate
    root_crl: Crl
    inter_crl: Crl
    issued: dict[str, IssuedCertificate] = field(default_factory=dict)

    def issue(self, **over: object) -> IssuedCertificate:
        """A leaf under the issuing CA with the shared key, `over` changing the defaults."""
        args: dict[str, object] = {"orgno": ORGNO, "organisation": "ACME AS", "now": NOW, "key": self.leaf_key,
                                   "crl_url": LEAF_CRL_URL}
        args.update(over)
        issuer_key = args.pop("issuer_key", self.inter_key)
        issuer_pem = args.pop("issuer_pem", self.inter_pem)
        assert isinstance(issuer_key, PrivateKeyHandle) and isinstance(issuer_pem, bytes)
        return issue_enterprise_certificate(issuer_key, issuer_pem, **args)  # type: ignore[arg-type]

    def store(self, *, crls: Sequence[Crl] | None = None, with_intermediate: bool = True) -> TrustStore:
        """The national store: root (+ issuing CA) and by default both current CRLs; the EU root."""
        bundle = self.root_pem + (self.inter_pem if with_intermediate else b"")
        return TrustStore.from_pem([bundle], [self.eu_pem],
                                   crls=[self.root_crl, self.inter_crl] if crls is None else crls)


@pytest.fixture(scope="module")
def pki() -> Pki:
    """Made once per module: key generation is the slow part."""
    root_key, root_pem = make_root("Portvakt Test Root CA", NOW)
    inter_key, inter_pem = make_intermediate(root_key, root_pem, "Portvakt Test Issuing CA", NOW,
                                             crl_url="http://crl.portvakt.test/root.crl")
    eu_key, eu_pem = make_root("Test EU Trust Service Root", NOW)
    leaf_key = PrivateKeyHandle.generate()
    leaf = issue_enterprise_certificate(inter_key, inter_pem, orgno=ORGNO, organisation="ACME AS", now=NOW,
                                        key=leaf_key, crl_url=LEAF_CRL_URL)
    issued = NOW - timedelta(hours=1)
    root_crl = load_crl(make_crl(root_key, root_pem, [], issued, next_update=NOW + timedelta(days=30)))
    inter_crl = load_crl(make_crl(inter_key, inter_pem, [], issued, next_update=NOW + timedelta(days=7)))
    return Pki(root_key, root_pem, inter_key, inter_pem, eu_key, eu_pem, leaf_key, leaf, root_crl, inter_crl)


@pytest.fixture(scope="module")
def other_key() -> PrivateKeyHandle:
    """A key no CA of the store has."""
    return PrivateKeyHandle.generate()


def rejected(store: TrustStore, x5c: Sequence[str], problem: CertificateProblem, at: datetime = NOW,
             **kwargs: object) -> str:
    """Assert verify refuses with exactly `problem`; return the message (checked not to echo the input)."""
    with pytest.raises(CertificateRejected) as info:
        store.verify(x5c, at, **kwargs)  # type: ignore[arg-type]
    assert info.value.problem is problem, str(info.value)
    message = str(info.value)
    for entry in x5c:
        if isinstance(entry, str) and len(entry) > 20:
            assert_no_echo(message, entry)
    return message


def der(entry: str) -> bytes:
    return base64.b64decode(entry)


def cert_of(entry: str) -> x509.Certificate:
    return x509.load_der_x509_certificate(der(entry))


def b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


def hand_made_leaf(pki: Pki, key: RSAPrivateKey | EllipticCurvePrivateKey, *, subject: x509.Name | None = None,
                   qc: bytes | None = None, ca: bool = False) -> x509.Certificate:
    """A leaf the dev CA will not make (an EC or small key, a foreign subject, raw QCStatements, CA:TRUE)."""
    inter = x509.load_pem_x509_certificate(pki.inter_pem)
    usage = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hand Made AS")]))
        .issuer_name(inter.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(pki.inter_key._key.public_key()),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if qc is not None:
        builder = builder.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(ID_PE_QC_STATEMENTS), qc),
                                        critical=False)
    return builder.sign(pki.inter_key._key, SHA256())


# --- accepted chains ---------------------------------------------------------------------------------------------


def test_a_full_chain_is_accepted_with_what_the_token_needs(pki: Pki) -> None:
    result = pki.store().verify(pki.leaf.x5c, NOW)
    leaf = cert_of(pki.leaf.x5c[0])
    assert result.subject == f"2.5.4.97=NTRNO-{ORGNO},CN=ACME AS,O=ACME AS,C=NO"
    assert result.issuer == "CN=Portvakt Test Issuing CA"
    assert result.serial == format(pki.leaf.serial, "x") == format(leaf.serial_number, "x")
    assert result.fingerprint == hashlib.sha256(der(pki.leaf.x5c[0])).hexdigest() == x5c_thumbprint(pki.leaf.x5c[0])
    assert (result.not_before, result.not_after) == (leaf.not_valid_before_utc, leaf.not_valid_after_utc)
    assert result.orgno == ORGNO
    assert result.organization_identifier == f"NTRNO-{ORGNO}"
    assert result.anchor == "national"
    assert result.eseal is None
    assert result.revocation_checked is True
    assert result.valid_until == pki.inter_crl.next_update  # the earliest of notAfter and the CRLs' nextUpdate


def test_the_verifier_checks_the_grant_with_the_leaf_key(pki: Pki, other_key: PrivateKeyHandle) -> None:
    result = pki.store().verify(pki.leaf.x5c, NOW)
    grant = Signer(pki.leaf_key, x5c=pki.leaf.x5c).sign({"iss": "client", "aud": "https://portvakt.test/"})
    result.verifier.verify(peek(grant))
    with pytest.raises(BadSignature):
        result.verifier.verify(peek(Signer(other_key).sign({"iss": "client"})))
    assert result.verifier.key.jwk["n"] == pki.leaf_key.public_jwk["n"]


def test_a_leaf_alone_is_completed_by_a_known_intermediate(pki: Pki) -> None:
    result = pki.store().verify(pki.leaf.x5c[:1], NOW)
    assert result.orgno == ORGNO and result.revocation_checked


def test_a_chain_that_also_sends_the_root_is_accepted(pki: Pki) -> None:
    root = x509.load_pem_x509_certificate(pki.root_pem)
    assert pki.store().verify([*pki.leaf.x5c, b64(root)], NOW).anchor == "national"


def test_an_intermediate_the_client_sends_need_not_be_in_the_store(pki: Pki) -> None:
    store = pki.store(with_intermediate=False)
    assert store.intermediates == 0
    assert store.verify(pki.leaf.x5c, NOW).orgno == ORGNO


def test_without_crls_revocation_is_not_checked(pki: Pki) -> None:
    result = pki.store(crls=[]).verify(pki.leaf.x5c, NOW)
    assert result.revocation_checked is False
    inter = x509.load_pem_x509_certificate(pki.inter_pem)
    assert result.valid_until == min(result.not_after, inter.not_valid_after_utc)


def test_only_the_leaf_crl_leaves_the_intermediate_unchecked(pki: Pki) -> None:
    result = pki.store(crls=[pki.inter_crl]).verify(pki.leaf.x5c, NOW)
    assert result.revocation_checked is False


def test_orgno_from_a_serial_number(pki: Pki) -> None:
    leaf = pki.issue(orgno_in="serialNumber")
    result = pki.store().verify(leaf.x5c, NOW)
    assert result.orgno == ORGNO
    assert result.organization_identifier is None
    assert "NTRNO" not in result.subject and ORGNO in result.subject


def test_a_foreign_organization_identifier_gives_no_orgno(pki: Pki) -> None:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Beispiel GmbH"),
                         x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "VATDE-123456789"),
                         x509.NameAttribute(NameOID.SERIAL_NUMBER, "12345678")])
    leaf = hand_made_leaf(pki, pki.leaf_key._key, subject=subject)
    result = pki.store().verify([b64(leaf)], NOW)
    assert result.orgno is None
    assert result.organization_identifier == "VATDE-123456789"


# --- e-seals -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def eu_ca(pki: Pki) -> tuple[PrivateKeyHandle, bytes]:
    """An issuing CA under the EU root."""
    return make_intermediate(pki.eu_key, pki.eu_pem, "Test EU Qualified eSeal CA", NOW)


@pytest.mark.parametrize("kind", ["qualified", "non-qualified"])
def test_an_eu_eseal_is_accepted_with_its_kind(pki: Pki, eu_ca: tuple[PrivateKeyHandle, bytes], kind: str) -> None:
    leaf = pki.issue(issuer_key=eu_ca[0], issuer_pem=eu_ca[1], eseal=kind, crl_url=None)
    result = pki.store().verify(leaf.x5c, NOW)
    assert result.anchor == "eu"
    assert result.eseal == kind
    assert result.revocation_checked is False  # the EU CA publishes no CRL here


def test_an_eu_certificate_that_is_no_eseal_is_refused(pki: Pki, eu_ca: tuple[PrivateKeyHandle, bytes]) -> None:
    leaf = pki.issue(issuer_key=eu_ca[0], issuer_pem=eu_ca[1], crl_url=None)
    message = rejected(pki.store(), leaf.x5c, Problem.NOT_ESEAL)
    assert "CN=ACME AS" in message and "e-seal" in message


def test_an_eseal_under_a_national_anchor_keeps_its_kind(pki: Pki) -> None:
    result = pki.store().verify(pki.issue(eseal="qualified").x5c, NOW)
    assert (result.anchor, result.eseal) == ("national", "qualified")


def test_a_malformed_qcstatements_extension_is_no_eseal(pki: Pki, eu_ca: tuple[PrivateKeyHandle, bytes]) -> None:
    leaf = hand_made_leaf(pki, pki.leaf_key._key, qc=b"\x30\x05\x06\x03\x2a\x03\x04")
    assert pki.store().verify([b64(leaf)], NOW).eseal is None


def test_qcstatements_round_trip() -> None:
    assert eseal_kind(eseal_statements(qualified=True)) == "qualified"
    assert eseal_kind(eseal_statements(qualified=False)) == "non-qualified"
    # QcCompliance alone, or a QcType of another kind (esign 0.4.0.1862.1.6.1), is no e-seal
    assert eseal_kind(bytes.fromhex("30083006060604008e460101")) is None
    assert eseal_kind(bytes.fromhex("30153013060604008e4601063009060704008e46010601")) is None


@given(st.binary(max_size=200))
@settings(max_examples=300)
def test_qcstatements_garbage_never_raises(data: bytes) -> None:
    assert eseal_kind(data) in (None, "qualified", "non-qualified")


@given(st.integers(min_value=0, max_value=30), st.integers(min_value=0, max_value=255))
@settings(max_examples=200)
def test_mutated_qcstatements_never_raise(index: int, byte: int) -> None:
    data = bytearray(eseal_statements(qualified=True))
    data[index] = byte
    assert eseal_kind(bytes(data)) in (None, "qualified", "non-qualified")


# --- each refusal, exactly ---------------------------------------------------------------------------------------


def test_an_expired_leaf(pki: Pki) -> None:
    leaf = pki.issue(not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=1))
    message = rejected(pki.store(), leaf.x5c, Problem.EXPIRED)
    assert message == "the certificate CN=ACME AS expired at 2026-02-28T12:00:00Z"


def test_a_leaf_at_the_end_of_its_validity(pki: Pki) -> None:
    leaf = cert_of(pki.leaf.x5c[0])
    assert pki.store(crls=[]).verify(pki.leaf.x5c, leaf.not_valid_after_utc).orgno == ORGNO
    rejected(pki.store(crls=[]), pki.leaf.x5c, Problem.EXPIRED, leaf.not_valid_after_utc + timedelta(seconds=1))


def test_a_leaf_not_yet_valid(pki: Pki) -> None:
    leaf = pki.issue(not_before=NOW + timedelta(days=1), not_after=NOW + timedelta(days=30))
    message = rejected(pki.store(), leaf.x5c, Problem.NOT_YET_VALID)
    assert message == "the certificate CN=ACME AS is not valid before 2026-03-02T12:00:00Z"


def test_an_expired_intermediate(pki: Pki) -> None:
    leaf = pki.issue(not_after=NOW + timedelta(days=6 * 365))  # outlives its 5-year issuing CA
    at = NOW + timedelta(days=5 * 365 + 30)
    message = rejected(pki.store(crls=[]), leaf.x5c, Problem.EXPIRED, at)
    assert "CN=Portvakt Test Issuing CA (x5c[1], in the chain of CN=ACME AS) expired at" in message
    message = rejected(pki.store(crls=[]), leaf.x5c[:1], Problem.EXPIRED, at)  # the store's copy
    assert "the issuing certificate CN=Portvakt Test Issuing CA of CN=ACME AS expired at" in message


def test_a_revoked_leaf(pki: Pki) -> None:
    revoked_at = NOW - timedelta(days=2)
    crl = load_crl(make_crl(pki.inter_key, pki.inter_pem, [(12345, revoked_at), (pki.leaf.serial, revoked_at)],
                            NOW - timedelta(hours=1), next_update=NOW + timedelta(days=1)))
    message = rejected(pki.store(crls=[pki.root_crl, crl]), pki.leaf.x5c, Problem.REVOKED)
    assert message == ("the certificate CN=ACME AS was revoked by CN=Portvakt Test Issuing CA at "
                       "2026-02-27T12:00:00Z")


def test_a_revoked_intermediate(pki: Pki) -> None:
    inter = x509.load_pem_x509_certificate(pki.inter_pem)
    crl = load_crl(make_crl(pki.root_key, pki.root_pem, [(inter.serial_number, NOW - timedelta(days=1))],
                            NOW - timedelta(hours=1), next_update=NOW + timedelta(days=1)))
    rejected(pki.store(crls=[crl, pki.inter_crl]), pki.leaf.x5c, Problem.REVOKED)


def test_the_newest_crl_of_an_issuer_counts(pki: Pki) -> None:
    older = load_crl(make_crl(pki.inter_key, pki.inter_pem, [(pki.leaf.serial, NOW - timedelta(days=3))],
                              NOW - timedelta(days=2), next_update=NOW + timedelta(days=5)))
    store = pki.store(crls=[older, pki.root_crl, pki.inter_crl])  # inter_crl is newer and lists nothing
    assert store.verify(pki.leaf.x5c, NOW).revocation_checked


@pytest.fixture(scope="module")
def stale_crl(pki: Pki) -> Crl:
    """The issuing CA's CRL, past its nextUpdate at NOW."""
    return load_crl(make_crl(pki.inter_key, pki.inter_pem, [], NOW - timedelta(days=10),
                             next_update=NOW - timedelta(days=1)))


def test_a_stale_crl_fails_closed(pki: Pki, stale_crl: Crl) -> None:
    message = rejected(pki.store(crls=[pki.root_crl, stale_crl]), pki.leaf.x5c, Problem.REVOCATION_UNKNOWN)
    assert message == ("the revocation status of CN=ACME AS is unknown: the CRL of CN=Portvakt Test Issuing CA "
                       "expired at 2026-02-28T12:00:00Z")


class Source:
    """A CrlSource that records what it was asked and answers a fixed CRL."""

    def __init__(self, answer: Crl | None = None, *, fail: bool = False) -> None:
        self.answer = answer
        self.fail = fail
        self.calls: list[list[str]] = []

    def __call__(self, urls: Sequence[str]) -> Crl | None:
        self.calls.append(list(urls))
        if self.fail:
            raise CrlUnavailable("the CRL could not be fetched")
        return self.answer


def test_a_stale_crl_is_refreshed_from_the_distribution_point(pki: Pki, stale_crl: Crl) -> None:
    source = Source(pki.inter_crl)
    result = pki.store(crls=[pki.root_crl, stale_crl]).verify(pki.leaf.x5c, NOW, crls=source)
    assert source.calls == [[LEAF_CRL_URL]]
    assert result.revocation_checked and result.valid_until == pki.inter_crl.next_update


def test_a_stale_crl_and_no_fresher_one_fails_closed(pki: Pki, stale_crl: Crl) -> None:
    store = pki.store(crls=[pki.root_crl, stale_crl])
    rejected(store, pki.leaf.x5c, Problem.REVOCATION_UNKNOWN, crls=Source(None))
    rejected(store, pki.leaf.x5c, Problem.REVOCATION_UNKNOWN, crls=Source(stale_crl))
    no_points = pki.issue(crl_url=None)
    source = Source(pki.inter_crl)
    rejected(store, no_points.x5c, Problem.REVOCATION_UNKNOWN, crls=source)
    assert source.calls == []  # nowhere to ask


def test_an_unavailable_crl_source_propagates(pki: Pki, stale_crl: Crl) -> None:
    with pytest.raises(CrlUnavailable):
        pki.store(crls=[pki.root_crl, stale_crl]).verify(pki.leaf.x5c, NOW, crls=Source(fail=True))


def test_the_source_is_asked_when_the_store_has_no_crl(pki: Pki) -> None:
    source = Source(pki.inter_crl)
    result = pki.store(crls=[pki.root_crl]).verify(pki.leaf.x5c, NOW, crls=source)
    assert source.calls == [[LEAF_CRL_URL]]
    assert result.revocation_checked
    revoking = load_crl(make_crl(pki.inter_key, pki.inter_pem, [(pki.leaf.serial, NOW - timedelta(days=1))],
                                 NOW - timedelta(hours=1), next_update=NOW + timedelta(days=1)))
    rejected(pki.store(crls=[pki.root_crl]), pki.leaf.x5c, Problem.REVOKED, crls=Source(revoking))


def test_the_source_is_asked_with_each_certificates_own_points(pki: Pki) -> None:
    source = Source(None)
    result = pki.store(crls=[]).verify(pki.leaf.x5c, NOW, crls=source)
    assert source.calls == [[LEAF_CRL_URL], ["http://crl.portvakt.test/root.crl"]]
    assert result.revocation_checked is False


def test_a_crl_signed_by_another_key_is_ignored(pki: Pki, other_key: PrivateKeyHandle) -> None:
    forged = load_crl(make_crl(other_key, pki.inter_pem, [(pki.leaf.serial, NOW - timedelta(days=1))],
                               NOW - timedelta(hours=1), next_update=NOW + timedelta(days=1)))
    assert forged.issuer == "CN=Portvakt Test Issuing CA"
    result = pki.store(crls=[pki.root_crl, forged]).verify(pki.leaf.x5c, NOW)
    assert result.revocation_checked is False  # not REVOKED: the forged CRL does not count
    result = pki.store(crls=[pki.root_crl]).verify(pki.leaf.x5c, NOW, crls=Source(forged))
    assert result.revocation_checked is False
    result = pki.store(crls=[pki.root_crl, forged, pki.inter_crl]).verify(pki.leaf.x5c, NOW)
    assert result.revocation_checked is True


def test_a_crl_of_another_issuer_from_the_source_is_ignored(pki: Pki) -> None:
    result = pki.store(crls=[pki.root_crl]).verify(pki.leaf.x5c, NOW, crls=Source(pki.root_crl))
    assert result.revocation_checked is False


def test_an_unknown_ca(pki: Pki) -> None:
    other_root_key, other_root_pem = make_root("Elsewhere Root CA", NOW)
    leaf = pki.issue(issuer_key=other_root_key, issuer_pem=other_root_pem)
    message = rejected(pki.store(), leaf.x5c, Problem.UNKNOWN_CA)
    assert message == ("the certificate CN=ACME AS is not issued by a trusted certificate authority (its issuer is "
                       "CN=Elsewhere Root CA)")
    rejected(pki.store(), [*leaf.x5c, b64(x509.load_pem_x509_certificate(other_root_pem))], Problem.UNKNOWN_CA)


def test_an_empty_store_knows_no_ca(pki: Pki) -> None:
    store = TrustStore.from_pem([])
    assert (store.anchors, store.intermediates, store.crl_count) == (0, 0, 0)
    rejected(store, pki.leaf.x5c, Problem.UNKNOWN_CA)


def test_a_leaf_signed_by_another_key_under_the_issuers_name(pki: Pki, other_key: PrivateKeyHandle) -> None:
    forged = pki.issue(issuer_key=other_key)
    message = rejected(pki.store(), forged.x5c, Problem.BROKEN_CHAIN)
    assert "CN=ACME AS" in message and "CN=Portvakt Test Issuing CA" in message
    rejected(pki.store(), forged.x5c[:1], Problem.BROKEN_CHAIN)
    rejected(pki.store(with_intermediate=False), forged.x5c, Problem.BROKEN_CHAIN)


def test_a_leaf_without_its_intermediate(pki: Pki) -> None:
    """The issuing CA is neither sent nor in the store: by the classification rule (the issuer's name is no
    store CA) that is an unknown CA, while a store CA's name with a wrong key is a broken chain."""
    rejected(pki.store(with_intermediate=False), pki.leaf.x5c[:1], Problem.UNKNOWN_CA)


def test_a_wrong_intermediate_of_a_known_name(pki: Pki, other_key: PrivateKeyHandle) -> None:
    impostor = x509.load_pem_x509_certificate(make_intermediate(other_key, pki.root_pem, "Portvakt Test Issuing CA",
                                                                NOW)[1])
    rejected(pki.store(with_intermediate=False), [pki.leaf.x5c[0], b64(impostor)], Problem.BROKEN_CHAIN)


def test_a_ca_certificate_as_the_leaf(pki: Pki, keys: Keys) -> None:
    leaf = hand_made_leaf(pki, keys.rsa, ca=True)
    assert "is a CA certificate" in rejected(pki.store(), [b64(leaf)], Problem.BROKEN_CHAIN)


def test_a_leaf_without_digital_signature(pki: Pki) -> None:
    leaf = pki.issue(digital_signature=False)
    message = rejected(pki.store(), leaf.x5c, Problem.NO_DIGITAL_SIGNATURE)
    assert message == "the certificate CN=ACME AS is not for digital signatures (its KeyUsage lacks digitalSignature)"
    root = x509.load_pem_x509_certificate(pki.root_pem)
    rejected(pki.store(), [b64(root)], Problem.NO_DIGITAL_SIGNATURE)


def test_an_ec_leaf_is_not_rsa(pki: Pki, keys: Keys) -> None:
    leaf = hand_made_leaf(pki, keys.ec)
    assert "has no RSA key" in rejected(pki.store(), [b64(leaf)], Problem.NOT_RSA)


def test_a_small_rsa_leaf_is_refused(pki: Pki, keys: Keys) -> None:
    leaf = hand_made_leaf(pki, keys.small_rsa)
    assert "2048 to 8192 bits" in rejected(pki.store(), [b64(leaf)], Problem.NOT_RSA)


@pytest.mark.parametrize("x5c", [
    [],
    ["not base64!"],
    ["MIIB-_xx"],  # the url-safe alphabet
    ["TUlJQg"],  # missing padding
    [" TUlJQg=="],
    [base64.b64encode(b"\x30\x03\x02\x01\x00").decode()],
    [base64.b64encode(b"certificate").decode()],
    [""],
    [base64.b64encode(bytes(16 * 1024 + 1)).decode()],
], ids=["empty", "garbage", "urlsafe", "unpadded", "space", "der-not-cert", "text", "empty-entry", "too-large"])
def test_malformed_entries(pki: Pki, x5c: list[str]) -> None:
    rejected(pki.store(), x5c, Problem.MALFORMED)


def test_malformed_shapes(pki: Pki) -> None:
    store = pki.store()
    rejected(store, pki.leaf.x5c * 3, Problem.MALFORMED)  # six entries
    rejected(store, pki.leaf.x5c[0], Problem.MALFORMED)  # a string, not a list
    rejected(store, [pki.leaf.x5c[0], 7], Problem.MALFORMED)  # type: ignore[list-item]
    rejected(store, [pki.leaf.x5c[0], "%%%"], Problem.MALFORMED)  # a bad later entry
    assert store.verify(pki.leaf.x5c * 2 + pki.leaf.x5c[:1], NOW).orgno == ORGNO  # five is the limit


def test_verify_needs_an_aware_time(pki: Pki) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        pki.store().verify(pki.leaf.x5c, NOW.replace(tzinfo=None))


@given(st.lists(st.text(max_size=60), min_size=1, max_size=5))
@settings(max_examples=300, deadline=None)
def test_garbage_text_is_only_ever_malformed(pki: Pki, x5c: list[str]) -> None:
    rejected(pki.store(), x5c, Problem.MALFORMED)


@given(st.lists(st.binary(max_size=300), min_size=1, max_size=5))
@settings(max_examples=300, deadline=None)
def test_base64_of_garbage_der_is_only_ever_malformed(pki: Pki, blobs: list[bytes]) -> None:
    rejected(pki.store(), [base64.b64encode(b).decode() for b in blobs], Problem.MALFORMED)


@pytest.mark.filterwarnings("ignore:Parsed a serial number which wasn't positive")
@given(st.data())
@settings(max_examples=300, deadline=None)
def test_a_mutated_certificate_is_refused_or_accepted_never_crashes(pki: Pki, data: st.DataObject) -> None:
    raw = bytearray(der(pki.leaf.x5c[0]))
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        raw[data.draw(st.integers(min_value=0, max_value=len(raw) - 1))] = data.draw(st.integers(0, 255))
    with contextlib.suppress(CertificateRejected):  # any refusal is fine; any other exception fails the test
        pki.store().verify([base64.b64encode(bytes(raw)).decode(), pki.leaf.x5c[1]], NOW)


# --- the store, CRLs and helpers ---------------------------------------------------------------------------------


def test_from_pem_sorts_anchors_and_intermediates(pki: Pki) -> None:
    store = TrustStore.from_pem([pki.root_pem + pki.inter_pem, pki.root_pem], [pki.eu_pem],
                                crls=[pki.root_crl, pki.inter_crl])
    assert (store.anchors, store.intermediates, store.crl_count) == (2, 1, 2)


def test_from_pem_refuses_unreadable_pem_and_end_entity_certificates(pki: Pki) -> None:
    with pytest.raises(KeyFormatError, match="national certificate file 1 holds no readable PEM"):
        TrustStore.from_pem([b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"])
    with pytest.raises(KeyFormatError, match="eu certificate file 1 holds no readable PEM"):
        TrustStore.from_pem([pki.root_pem], [b""])
    with pytest.raises(KeyFormatError, match="CN=ACME AS, which is not a CA certificate"):
        TrustStore.from_pem([pki.root_pem + pki.leaf.certificate_pem])


def test_load_crl_reads_pem_and_der(pki: Pki) -> None:
    pem = make_crl(pki.inter_key, pki.inter_pem, [], NOW, next_update=NOW + timedelta(days=1))
    from_pem = load_crl(pem)
    from_der = load_crl(x509.load_pem_x509_crl(pem).public_bytes(Encoding.DER))
    assert from_pem.fingerprint == from_der.fingerprint
    assert from_pem.issuer == "CN=Portvakt Test Issuing CA"
    assert (from_pem.this_update, from_pem.next_update) == (NOW, NOW + timedelta(days=1))
    for bad in (b"", b"not a crl", b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n", pki.root_pem):
        with pytest.raises(KeyFormatError, match="not a certificate revocation list"):
            load_crl(bad)


def test_x5c_of_pem_keeps_the_file_order(pki: Pki) -> None:
    assert x5c_of_pem(pki.leaf.certificate_pem + pki.inter_pem) == pki.leaf.x5c
    with pytest.raises(KeyFormatError):
        x5c_of_pem(b"no certificates here")


def test_x5c_thumbprint(pki: Pki) -> None:
    inter_der = x509.load_pem_x509_certificate(pki.inter_pem).public_bytes(Encoding.DER)
    assert x5c_thumbprint(pki.leaf.x5c[1]) == hashlib.sha256(inter_der).hexdigest()
    assert x5c_thumbprint(pki.leaf.x5c[0]) != x5c_thumbprint(pki.leaf.x5c[1])
    with pytest.raises(CertificateRejected) as info:
        x5c_thumbprint("-_not-standard-base64")
    assert info.value.problem is Problem.MALFORMED


@pytest.mark.timing
def test_a_leaf_and_intermediate_verify_well_under_a_millisecond(pki: Pki) -> None:
    store = pki.store()
    store.verify(pki.leaf.x5c, NOW)
    best = min(timeit.repeat(lambda: store.verify(pki.leaf.x5c, NOW), number=50, repeat=7)) / 50
    assert best < 0.001, f"{best * 1e6:.0f} µs"
