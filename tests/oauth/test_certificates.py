"""The trust folder and CRL downloads behind x5c grants (docs/protocol.md §5.1, decisions T14, T15, T18)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portvakt.domain.models import Client, IntegrationType
from portvakt.jose import PrivateKeyHandle
from portvakt.jose.dev_ca import IssuedCertificate, issue_enterprise_certificate, make_crl, make_intermediate, make_root
from portvakt.oauth.certificates import CertificateAuthenticator, CrlFetcher, TrustFolder
from portvakt.oauth.errors import OAuthError

NOW = datetime.now(UTC).replace(microsecond=0)
ORGNO = "314330897"
CRL_URL = "http://crl.example/issuing.crl"


@pytest.fixture(scope="module")
def ca() -> tuple[PrivateKeyHandle, bytes, bytes]:
    root_key, root_pem = make_root("fetch root", NOW)
    key, pem = make_intermediate(root_key, root_pem, "fetch issuing CA", NOW)
    return key, pem, root_pem


@pytest.fixture
def folder(tmp_path: Path, ca: tuple[PrivateKeyHandle, bytes, bytes]) -> Path:
    (tmp_path / "root.pem").write_bytes(ca[2])
    (tmp_path / "issuing.pem").write_bytes(ca[1])
    return tmp_path


def client() -> Client:
    return Client(client_id="c1", client_name="c", client_orgno=ORGNO, integration_type=IntegrationType.MASKINPORTEN,
                  scopes=(), created=NOW, last_updated=NOW)


def issue(ca: tuple[PrivateKeyHandle, bytes, bytes]) -> IssuedCertificate:
    return issue_enterprise_certificate(ca[0], ca[1], orgno=ORGNO, organisation="Vendor AS", now=NOW,
                                        crl_url=CRL_URL)


def crl(ca: tuple[PrivateKeyHandle, bytes, bytes], *revoked: IssuedCertificate) -> bytes:
    return make_crl(ca[0], ca[1], [(c.serial, NOW - timedelta(minutes=1)) for c in revoked], NOW,
                    next_update=NOW + timedelta(days=1))


def test_a_downloaded_crl_is_used_and_kept_until_next_update(folder: Path,
                                                            ca: tuple[PrivateKeyHandle, bytes, bytes]) -> None:
    good, bad = issue(ca), issue(ca)
    asked: list[str] = []

    def get(url: str) -> bytes:
        asked.append(url)
        return crl(ca, bad)

    auth = CertificateAuthenticator(TrustFolder(folder, recheck_seconds=0),
                                    crls=CrlFetcher(get, clock=lambda: NOW), cache_seconds=0)
    cert = auth.authenticate(good.x5c, client(), NOW)
    assert cert.valid_until == NOW + timedelta(days=1)  # the downloaded CRL's nextUpdate bounds the result
    with pytest.raises(OAuthError) as refused:
        auth.authenticate(bad.x5c, client(), NOW)
    assert refused.value.code == "MP-120" and "revoked" in refused.value.description
    assert asked == [CRL_URL]  # one download, reused until nextUpdate


def test_an_unreachable_crl_fails_closed(folder: Path, ca: tuple[PrivateKeyHandle, bytes, bytes]) -> None:
    def get(url: str) -> bytes:
        raise OSError("connection refused")

    auth = CertificateAuthenticator(TrustFolder(folder, recheck_seconds=0), crls=CrlFetcher(get, clock=lambda: NOW))
    with pytest.raises(OAuthError) as refused:
        auth.authenticate(issue(ca).x5c, client(), NOW)
    assert refused.value.code == "MP-291" and refused.value.status == 503
    assert CRL_URL in refused.value.description


def test_without_fetching_an_issuer_without_crl_is_not_checked(folder: Path,
                                                              ca: tuple[PrivateKeyHandle, bytes, bytes]) -> None:
    auth = CertificateAuthenticator(TrustFolder(folder, recheck_seconds=0))
    assert not auth.authenticate(issue(ca).x5c, client(), NOW).revocation_checked


def test_a_verified_chain_is_cached_until_the_folder_changes(folder: Path,
                                                            ca: tuple[PrivateKeyHandle, bytes, bytes]) -> None:
    tick = [0.0]
    trust = TrustFolder(folder, recheck_seconds=1, monotonic=lambda: tick[0])
    auth = CertificateAuthenticator(trust)
    cert = issue(ca)
    first = auth.authenticate(cert.x5c, client(), NOW)
    assert auth.authenticate(cert.x5c, client(), NOW) is first
    (folder / "issuing.crl").write_bytes(crl(ca, cert))
    assert auth.authenticate(cert.x5c, client(), NOW) is first  # within the recheck interval
    tick[0] = 1.5
    with pytest.raises(OAuthError, match="revoked"):
        auth.authenticate(cert.x5c, client(), NOW)


def test_an_unreadable_file_is_skipped_and_named(folder: Path, ca: tuple[PrivateKeyHandle, bytes, bytes],
                                                 caplog: pytest.LogCaptureFixture) -> None:
    (folder / "broken.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    (folder / "junk.crl").write_bytes(b"\x00\x01")
    with caplog.at_level(logging.WARNING, logger="portvakt.certificates"):
        store = TrustFolder(folder, recheck_seconds=0).current()
    assert store is not None and store.anchors == 1 and store.intermediates == 1
    assert "broken.pem" in caplog.text and "junk.crl" in caplog.text
    auth = CertificateAuthenticator(TrustFolder(folder, recheck_seconds=0))
    assert auth.authenticate(issue(ca).x5c, client(), NOW).orgno == ORGNO


def test_the_wired_fetcher_downloads_over_http(folder: Path, ca: tuple[PrivateKeyHandle, bytes, bytes]) -> None:
    """PORTVAKT_CERTIFICATES__FETCH_CRLS=true: the composition root's downloader, against a real HTTP server."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from portvakt.domain.clock import FixedClock
    from portvakt.settings import CertificateSettings, Settings
    from portvakt.wiring.assembly import certificate_authenticator

    revoked = issue_enterprise_certificate(ca[0], ca[1], orgno=ORGNO, organisation="Vendor AS", now=NOW,
                                           crl_url="http://127.0.0.1:1/unused")
    body = crl(ca, revoked)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/issuing.crl" else 404)
            self.end_headers()
            self.wfile.write(body if self.path == "/issuing.crl" else b"")

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        settings = Settings(certificates=CertificateSettings(trust_dir=folder, fetch_crls=True, recheck_seconds=0))
        auth = certificate_authenticator(settings, FixedClock(NOW))
        cert = issue_enterprise_certificate(ca[0], ca[1], orgno=ORGNO, organisation="Vendor AS", now=NOW,
                                            crl_url=f"{url}/issuing.crl", key=revoked.key)
        assert auth.authenticate(cert.x5c, client(), NOW).valid_until == NOW + timedelta(days=1)
        listed = issue_enterprise_certificate(ca[0], ca[1], orgno=ORGNO, organisation="Vendor AS", now=NOW,
                                              crl_url=f"{url}/missing.crl", key=revoked.key)
        with pytest.raises(OAuthError) as refused:
            auth.authenticate(listed.x5c, client(), NOW)
        assert refused.value.code == "MP-291"
    finally:
        server.shutdown()


def test_callers_waiting_for_a_download_take_its_crl(ca: tuple[PrivateKeyHandle, bytes, bytes]) -> None:
    """Two grants that need the same CRL at once cause one download, not one each."""
    import threading

    started, release = threading.Event(), threading.Event()
    asked: list[str] = []

    def get(url: str) -> bytes:
        asked.append(url)
        started.set()
        release.wait(5)
        return crl(ca)

    fetch = CrlFetcher(get, clock=lambda: NOW)
    results: list[object] = []
    first = threading.Thread(target=lambda: results.append(fetch([CRL_URL])))
    first.start()
    assert started.wait(5)
    second = threading.Thread(target=lambda: results.append(fetch([CRL_URL])))
    second.start()
    second.join(0.3)  # long enough for it to find no CRL yet and wait for the first one's download
    release.set()
    first.join(5)
    second.join(5)
    assert asked == [CRL_URL] and len(results) == 2 and results[0] is results[1]
