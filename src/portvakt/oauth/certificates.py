"""Enterprise certificates at the token endpoint (docs/protocol.md §5): the trust folder, revocation lists, and
what a verified certificate means for a client (decisions T14-T18)."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from portvakt.domain.blocking import may_block
from portvakt.domain.models import Client
from portvakt.jose import (
    CertificateProblem,
    CertificateRejected,
    Crl,
    CrlSource,
    CrlUnavailable,
    EnterpriseCertificate,
    JoseError,
    TrustStore,
    load_crl,
    x5c_thumbprint,
)
from portvakt.wire.protocol import CERTIFICATE_AMR, ESEAL_AMR

from . import mp_codes as mp
from .errors import MPCode, OAuthError

log = logging.getLogger("portvakt.certificates")

#: Which MP code each refusal gets (decision T16): Maskinporten answers an expired certificate with MP-124.
_CODES = {
    CertificateProblem.MALFORMED: mp.MP123,
    CertificateProblem.EXPIRED: mp.MP124,
    CertificateProblem.NOT_YET_VALID: mp.MP124,
    CertificateProblem.REVOCATION_UNKNOWN: mp.MP291,
}
_CA_SUFFIXES = (".pem", ".crt", ".cer")
_CRL_SUFFIX = ".crl"
_MAX_FILE_BYTES = 8 * 1024 * 1024
_CACHE_SECONDS = 60.0
_MAX_CACHED = 10_000


def _sentence(text: str) -> str:
    """A message from the jose room as a sentence that follows an MP text (` Text.`; `x5c` keeps its case)."""
    text = text.strip().rstrip(".")
    if not text:
        return ""
    first = text.split(" ", 1)[0]
    return f" {text[:1].upper() + text[1:] if first.isalpha() else text}."


def _after(code: MPCode, text: str) -> str:
    """`_sentence`, after the code's own text whether or not that ends with a period."""
    sentence = _sentence(text)
    return sentence if not sentence or code.text.endswith(".") else "." + sentence


def refusal(exc: CertificateRejected, *, about: str = "") -> OAuthError:
    """The MP error for a refused certificate (decision T16): MP-123 malformed, MP-124 outside its validity,
    MP-291 revocation unknown, MP-120 everything else; the description names the failure."""
    code = _CODES.get(exc.problem, mp.MP120)
    return code(_after(code, f"{about}{exc}"), detail=f"certificate {exc.problem.value}")


def amr(cert: EnterpriseCertificate) -> str:
    """docs/protocol.md §2.2 `client_amr` of a certificate grant: an EU e-seal names its kind, a national
    certificate is a virksomhetssertifikat (decision T17)."""
    if cert.anchor == "eu" and cert.eseal is not None:
        return ESEAL_AMR[cert.eseal]
    return CERTIFICATE_AMR


def same_certificate(sent: str, locked: str) -> bool:
    """docs/protocol.md §5.2 rule 6: the grant's leaf is the locked certificate (by DER digest); a sent entry that
    is not a certificate is MP-123."""
    try:
        return x5c_thumbprint(sent) == x5c_thumbprint(locked)
    except CertificateRejected as exc:
        raise refusal(exc) from None


def orgno_mismatch(cert: EnterpriseCertificate, client_orgno: str) -> str | None:
    """docs/protocol.md §5.2 rule 5: why the certificate is not one of `client_orgno`, or None when it is."""
    if cert.orgno is None:
        found = f" (it has organizationIdentifier {cert.organization_identifier[:40]})" \
            if cert.organization_identifier else ""
        return (f"the certificate names no Norwegian organisation number{found}; expected organizationIdentifier "
                "NTRNO-<orgno> or a 9-digit serialNumber")
    if cert.orgno != client_orgno:
        return f"the certificate is for organisation {cert.orgno}, not the client's"
    return None


def check_orgno(cert: EnterpriseCertificate, client: Client) -> None:
    """docs/protocol.md §5.2 rule 5 at /token: the certificate's organisation number is the client's (MP-122)."""
    why = orgno_mismatch(cert, client.client_orgno)
    if why is not None:
        raise mp.MP122(_after(mp.MP122, why), detail=f"client_id={client.client_id}")


class TrustFolder:
    """The trust store of PORTVAKT_CERTIFICATES__TRUST_DIR: PEM CA certificates and CRLs, EU trust-list anchors in
    `eu/`, read again when a file changes (decision T14); unreadable files are skipped with a warning."""

    def __init__(self, path: Path | None, *, recheck_seconds: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._path = path
        self._recheck = recheck_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._checked = float("-inf")
        self._listing: tuple[tuple[str, int, int], ...] | None = None
        self._current: tuple[int, TrustStore | None] = (0, None)

    def current(self) -> TrustStore | None:
        """The store as the folder holds it now (checked at most every recheck_seconds); None: trust nothing."""
        return self.snapshot()[1]

    def snapshot(self) -> tuple[int, TrustStore | None]:
        """The store with its generation, read together: a result verified against one store is never kept under
        the generation of a newer one (a CRL dropped in counts at once, decision T18)."""
        if self._path is None:
            return self._current
        now = self._monotonic()
        if now - self._checked < self._recheck:
            return self._current
        with self._lock:
            if now - self._checked >= self._recheck:
                self._reload_if_changed()
                self._checked = now
            return self._current

    def _files(self) -> list[Path]:
        assert self._path is not None
        found: list[Path] = []
        for folder in (self._path, self._path / "eu"):
            try:
                found.extend(sorted(p for p in folder.iterdir() if p.is_file()))
            except OSError:
                continue
        return [p for p in found if p.suffix.lower() in (*_CA_SUFFIXES, _CRL_SUFFIX)]

    def _reload_if_changed(self) -> None:
        files = self._files()
        listing: list[tuple[str, int, int]] = []
        for p in files:
            try:
                st = p.stat()
            except OSError:
                continue
            listing.append((str(p), st.st_mtime_ns, st.st_size))
        snapshot = tuple(listing)
        if snapshot == self._listing:
            return
        self._current = (self._current[0] + 1, self._load(files))
        self._listing = snapshot

    def _load(self, files: list[Path]) -> TrustStore | None:
        national: list[bytes] = []
        eu: list[bytes] = []
        crls: list[Crl] = []
        assert self._path is not None
        for p in files:
            try:
                data = p.read_bytes()[:_MAX_FILE_BYTES + 1]
                if len(data) > _MAX_FILE_BYTES:
                    raise JoseError("the file is larger than 8 MiB")
                if p.suffix.lower() == _CRL_SUFFIX:
                    crls.append(load_crl(data))
                else:
                    TrustStore.from_pem([data])  # one file at a time, so a bad one is named and skipped
                    (eu if p.parent != self._path else national).append(data)
            except (OSError, JoseError) as exc:
                log.warning("trust folder: skipping %s: %s", p.name, exc)
        store = TrustStore.from_pem(national, eu, crls)
        log.info("trust folder %s: %d anchors, %d intermediates, %d CRLs", self._path, store.anchors,
                 store.intermediates, store.crl_count)
        return store


class CrlFetcher:
    """PORTVAKT_CERTIFICATES__FETCH_CRLS: a CRL from a certificate's distribution points (RFC 5280 §4.2.1.13), kept
    until its nextUpdate (decision T15); an unreachable list raises CrlUnavailable (503 MP-291)."""

    def __init__(self, get: Callable[[str], bytes], *, clock: Callable[[], datetime]) -> None:
        self._get = get
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, Crl] = {}

    def _cached(self, urls: Sequence[str]) -> Crl | None:
        """A CRL downloaded before from one of `urls` that is still current."""
        now = self._clock()
        for url in urls:
            cached = self._cache.get(url)
            if cached is not None and (cached.next_update is None or cached.next_update > now):
                return cached
        return None

    def __call__(self, urls: Sequence[str]) -> Crl | None:
        """The first distribution point over http(s) that answers with a readable, current CRL; callers that
        waited for another's download take its result rather than fetching again."""
        http = [u for u in urls if u.startswith(("http://", "https://"))]
        if not http:
            return None
        found = self._cached(http)
        if found is not None:
            return found
        with self._lock:
            found = self._cached(http)
            if found is not None:
                return found
            problems: list[str] = []
            for url in http:
                try:
                    crl = load_crl(self._get(url))
                except (OSError, JoseError, ValueError) as exc:
                    problems.append(f"{url[:100]}: {exc.__class__.__name__}")
                    continue
                self._cache[url] = crl
                return crl
        raise CrlUnavailable("no CRL distribution point answered (" + "; ".join(problems)[:300] + ")")


class CertificateNotAccepted(Exception):
    """A key's x5c that may not lock a client: the reason, safe to show to the caller."""


class _NoTrust(Exception):
    """No trust folder is configured."""


@dataclass(frozen=True, slots=True)
class _Entry:
    cert: EnterpriseCertificate
    until: datetime


class CertificateAuthenticator:
    """docs/protocol.md §5.2: verifies an x5c chain against the trust folder, checks revocation and the client's
    organisation; a verified chain is remembered until it or a CRL it used expires, or 60 s (decision T18)."""

    def __init__(self, folder: TrustFolder, *, crls: CrlSource | None = None,
                 cache_seconds: float = _CACHE_SECONDS) -> None:
        self._folder = folder
        self._crls = crls
        self._cache_for = timedelta(seconds=cache_seconds)
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[int, bytes], _Entry] = OrderedDict()

    def verified(self, x5c: Sequence[str], at: datetime, *, about: str = "") -> EnterpriseCertificate:
        """The verified leaf of `x5c`, or the OAuthError (MP-120/123/124/291) that names why not."""
        try:
            return self._verify(x5c, at)
        except _NoTrust as exc:
            raise mp.MP120(_after(mp.MP120, f"{about}{exc}")) from None
        except CertificateRejected as exc:
            raise refusal(exc, about=about) from None
        except CrlUnavailable as exc:
            raise mp.MP291(_after(mp.MP291, str(exc)), detail="crl unavailable") from None

    def registrable(self, jwk: Mapping[str, object], client_orgno: str, at: datetime) -> None:
        """docs/protocol.md §3.3 and §5.2 rule 6: a key registered with x5c locks the client to that certificate, so
        it must be a valid enterprise certificate of the client's org that holds this very key (RFC 7517 §4.7)."""
        x5c = jwk.get("x5c")
        if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
            raise CertificateNotAccepted("x5c must be a non-empty array of base64 DER certificates (RFC 7517 §4.7)")
        try:
            cert = self._verify([str(c) for c in x5c], at)
        except (_NoTrust, CertificateRejected, CrlUnavailable) as exc:
            raise CertificateNotAccepted(f"a key with x5c locks the client to that certificate, so it must be an "
                                         f"enterprise certificate from a trusted authority: {exc}") from None
        why = orgno_mismatch(cert, client_orgno)
        if why is not None:
            raise CertificateNotAccepted(why)
        if any(cert.verifier.key.jwk.get(m) != jwk.get(m) for m in ("kty", "n", "e")):
            raise CertificateNotAccepted("the key's n and e are not the first certificate's public key (RFC 7517 §4.7)")

    def _verify(self, x5c: Sequence[str], at: datetime) -> EnterpriseCertificate:
        generation, store = self._folder.snapshot()
        if store is None:
            raise _NoTrust("this server trusts no certificate authority (PORTVAKT_CERTIFICATES__TRUST_DIR is not set)")
        key = (generation, hashlib.sha256("\x00".join(x5c).encode()).digest())
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None and entry.until > at:
                self._cache.move_to_end(key)
                return entry.cert
        cert = store.verify(x5c, at, crls=self._crls)
        with self._lock:
            self._cache[key] = _Entry(cert, min(cert.valid_until, at + self._cache_for))
            while len(self._cache) > _MAX_CACHED:
                self._cache.popitem(last=False)
        return cert

    def authenticate(self, x5c: Sequence[str], client: Client, at: datetime, *,
                     about: str = "") -> EnterpriseCertificate:
        """docs/protocol.md §5.2 rules 1-3 and 5: the verified certificate of `x5c`, of the client's org; `about`
        opens the description (a locked key's certificate)."""
        may_block()  # the trust folder is read, and CRLs may be downloaded
        cert = self.verified(x5c, at, about=about)
        check_orgno(cert, client)
        return cert
