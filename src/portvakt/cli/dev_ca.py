"""`portvakt dev-ca`: a test certificate authority for development, and SEID 2 style enterprise certificates.

The CA is for development and tests only: its keys lie unencrypted in `DIR/ca/`. The server trusts it when
`PORTVAKT_CERTIFICATES__TRUST_DIR` points at `DIR/trust` (docs/protocol.md §5).
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import typer

from portvakt.domain.clock import SystemClock
from portvakt.domain.orgno import is_valid_orgno
from portvakt.files import write_private
from portvakt.jose import JoseError, PrivateKeyHandle, make_pkcs12_for
from portvakt.jose.dev_ca import issue_enterprise_certificate, make_crl, make_intermediate, make_root

from .common import err, fail, print_json, settings

#: Where `dev-ca issue` finds the CA when --ca is not given (before the ./dev-ca default).
CA_ENV = "PORTVAKT_DEV_CA"
DEFAULT_CA = Path("dev-ca")
TRUST_DIR_ENV = "PORTVAKT_CERTIFICATES__TRUST_DIR"
#: How long the CA's CRLs stay current (their nextUpdate); `--revoked` rewrites the intermediate's.
CRL_DAYS = 365
#: How far --expired / --not-yet-valid move a certificate's validity, and how long a not-yet-valid one lasts.
SHIFT_DAYS = 30
LEAF_DAYS = 365
PRIVATE_DIR_MODE = 0o700

app = typer.Typer(help="A test certificate authority and enterprise certificates (development only).",
                  no_args_is_help=True)


class Eseal(StrEnum):
    """The QCStatements of a European e-seal (docs/protocol.md §5.2 rule 7)."""

    QUALIFIED = "qualified"
    NON_QUALIFIED = "non-qualified"


@dataclass(frozen=True)
class CaLayout:
    """Where a dev CA keeps its files: `trust/` for the server, `ca/` for the CA's private state."""

    root: Path

    @property
    def trust(self) -> Path:
        """The folder to set as PORTVAKT_CERTIFICATES__TRUST_DIR."""
        return self.root / "trust"

    @property
    def private(self) -> Path:
        """The CA's keys and revocation list (mode 0700)."""
        return self.root / "ca"

    @property
    def root_pem(self) -> Path:
        """The self-signed root: the trust anchor."""
        return self.trust / "root.pem"

    @property
    def intermediate_pem(self) -> Path:
        """The issuing CA's certificate."""
        return self.trust / "intermediate.pem"

    @property
    def root_crl(self) -> Path:
        """The root's CRL (revokes nothing)."""
        return self.trust / "root.crl"

    @property
    def intermediate_crl(self) -> Path:
        """The issuing CA's CRL, rewritten on every revocation."""
        return self.trust / "intermediate.crl"

    @property
    def root_key(self) -> Path:
        """The root's private key (mode 0600)."""
        return self.private / "root-key.pem"

    @property
    def intermediate_key(self) -> Path:
        """The issuing CA's private key (mode 0600)."""
        return self.private / "intermediate-key.pem"

    @property
    def revoked(self) -> Path:
        """JSON list of the serials the issuing CA has revoked, with when."""
        return self.private / "revoked.json"

    def exists(self) -> bool:
        """True if any part of a CA is here already."""
        return any(p.exists() for p in (self.root_key, self.intermediate_key, self.root_pem, self.intermediate_pem))


@dataclass(frozen=True)
class IssuedFiles:
    """What `issue` wrote: the key, the certificate, the chain, the PKCS#12 and its password file."""

    orgno: str
    serial: int
    key: Path
    certificate: Path
    chain: Path
    pkcs12: Path
    password_file: Path
    revoked: bool


class DevCaError(Exception):
    """A dev CA that is missing, damaged or in the way; the message is readable and names the folder."""


def _write_crl(layout: CaLayout, issuer: Literal["root", "intermediate"], revoked: list[tuple[int, datetime]],
               now: datetime) -> None:
    """Sign and write one CA's CRL (RFC 5280 §5) into the trust folder, replacing it in one rename."""
    key_file = layout.root_key if issuer == "root" else layout.intermediate_key
    cert_file = layout.root_pem if issuer == "root" else layout.intermediate_pem
    target = layout.root_crl if issuer == "root" else layout.intermediate_crl
    key = PrivateKeyHandle.from_pem(key_file.read_bytes())
    crl = make_crl(key, cert_file.read_bytes(), revoked, now, next_update=now + timedelta(days=CRL_DAYS))
    staging = target.with_name(f".{target.name}.tmp")
    staging.write_bytes(crl)
    os.replace(staging, target)


def init_ca(folder: Path, now: datetime, *, force: bool = False) -> CaLayout:
    """Make a root and an intermediate with empty CRLs in `folder`; DevCaError if a CA is there and not `force`."""
    layout = CaLayout(folder)
    if layout.exists() and not force:
        raise DevCaError(f"{folder} already holds a dev CA; use --force to replace it (its certificates then "
                         "stop being trusted)")
    layout.trust.mkdir(parents=True, exist_ok=True)
    layout.private.mkdir(parents=True, exist_ok=True)
    layout.private.chmod(PRIVATE_DIR_MODE)
    tag = secrets.token_hex(2)
    root_key, root_pem = make_root(f"portvakt dev root CA {tag}", now)
    inter_key, inter_pem = make_intermediate(root_key, root_pem, f"portvakt dev issuing CA {tag}", now)
    write_private(layout.root_key, root_key.to_pem(), replace=True)
    write_private(layout.intermediate_key, inter_key.to_pem(), replace=True)
    layout.revoked.write_text("[]\n")
    layout.root_pem.write_bytes(root_pem)
    layout.intermediate_pem.write_bytes(inter_pem)
    _write_crl(layout, "root", [], now)
    _write_crl(layout, "intermediate", [], now)
    return layout


def open_ca(folder: Path) -> CaLayout:
    """The dev CA in `folder`; DevCaError naming what is missing."""
    layout = CaLayout(folder)
    missing = [p for p in (layout.intermediate_key, layout.intermediate_pem, layout.revoked) if not p.is_file()]
    if missing:
        if not layout.exists():
            raise DevCaError(f"no dev CA in {folder}; make one with `portvakt dev-ca init --out {folder}`")
        raise DevCaError(f"the dev CA in {folder} is incomplete: {', '.join(str(p) for p in missing)} missing")
    return layout


def revoked_serials(layout: CaLayout) -> list[tuple[int, datetime]]:
    """The issuing CA's revoked (serial, revocation date) pairs."""
    try:
        entries = json.loads(layout.revoked.read_text())
        return [(int(e["serial"]), datetime.fromisoformat(e["revoked_at"])) for e in entries]
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise DevCaError(f"{layout.revoked} is not a list of revoked serials ({exc.__class__.__name__})") from None


def revoke(layout: CaLayout, serial: int, now: datetime) -> None:
    """Add `serial` to the issuing CA's revoked list and rewrite its CRL (RFC 5280 §5.3.1 reasonless entry)."""
    entries = [e for e in revoked_serials(layout) if e[0] != serial] + [(serial, now)]
    _write_crl(layout, "intermediate", entries, now)
    layout.revoked.write_text(json.dumps(
        [{"serial": s, "revoked_at": at.isoformat()} for s, at in entries], indent=2) + "\n")


def _validity(now: datetime, expired: bool, not_yet_valid: bool) -> tuple[datetime | None, datetime | None]:
    """notBefore and notAfter (RFC 5280 §4.1.2.5): already past, still to come, or the CA's default (current)."""
    if expired:
        return now - timedelta(days=SHIFT_DAYS), now - timedelta(days=1)
    if not_yet_valid:
        return now + timedelta(days=SHIFT_DAYS), now + timedelta(days=SHIFT_DAYS + LEAF_DAYS)
    return None, None


def check_request(orgno: str, *, expired: bool, not_yet_valid: bool) -> None:
    """DevCaError for an orgno that is not 9 digits with a mod-11 check digit (Enhetsregisteret), or both shifts."""
    if not is_valid_orgno(orgno):
        raise DevCaError(f"--orgno {orgno!r} is not a 9-digit organisation number with a valid mod-11 check digit")
    if expired and not_yet_valid:
        raise DevCaError("--expired and --not-yet-valid exclude each other")


def issue(layout: CaLayout, out: Path, *, orgno: str, organisation: str, now: datetime, expired: bool = False,
          not_yet_valid: bool = False, revoked: bool = False, eseal: Eseal | None = None,
          digital_signature: bool = True, orgno_in_serial_number: bool = False) -> IssuedFiles:
    """Issue a SEID 2 style enterprise certificate for `orgno` and write its key, chain and PKCS#12 into `out`."""
    check_request(orgno, expired=expired, not_yet_valid=not_yet_valid)
    issuer_key = PrivateKeyHandle.from_pem(layout.intermediate_key.read_bytes())
    issuer_pem = layout.intermediate_pem.read_bytes()
    not_before, not_after = _validity(now, expired, not_yet_valid)
    issued = issue_enterprise_certificate(
        issuer_key, issuer_pem, orgno=orgno, organisation=organisation, now=now, not_before=not_before,
        not_after=not_after, orgno_in="serialNumber" if orgno_in_serial_number else "organizationIdentifier",
        eseal=None if eseal is None else eseal.value, digital_signature=digital_signature)
    password = secrets.token_urlsafe(18)
    p12 = make_pkcs12_for(issued.key, issued.x5c, password.encode("ascii"), organisation)
    out.mkdir(parents=True, exist_ok=True)
    files = IssuedFiles(orgno=orgno, serial=issued.serial, key=out / f"{orgno}-key.pem",
                        certificate=out / f"{orgno}-cert.pem", chain=out / f"{orgno}-chain.pem",
                        pkcs12=out / f"{orgno}.p12", password_file=out / f"{orgno}.p12.password", revoked=revoked)
    write_private(files.key, issued.key.to_pem(), replace=True)
    write_private(files.password_file, (password + "\n").encode("ascii"), replace=True)
    write_private(files.pkcs12, p12, replace=True)
    files.certificate.write_bytes(issued.certificate_pem)
    files.chain.write_bytes(issued.certificate_pem.rstrip(b"\n") + b"\n" + issuer_pem)
    if revoked:
        revoke(layout, issued.serial, now)
    return files


def token_command(files: IssuedFiles, issuer: str, client_id: str = "CLIENT_ID", scope: str = "SCOPE") -> str:
    """A ready `portvakt token` line that signs an x5c grant with the issued PKCS#12."""
    return shlex.join(["portvakt", "token", "--issuer", issuer, "--client-id", client_id,
                       "--cert", str(files.pkcs12), "--password-file", str(files.password_file), "--scope", scope])


def _default_ca() -> Path:
    """$PORTVAKT_DEV_CA, else ./dev-ca."""
    return Path(os.environ.get(CA_ENV) or DEFAULT_CA)


@app.command("init")
def init_command(
    out: Annotated[Path, typer.Option(help="folder for the CA (trust/ for the server, ca/ for its keys)",
                                      file_okay=False)],
    force: Annotated[bool, typer.Option(help="replace a CA that is already there")] = False,
) -> None:
    """Make a test CA (root + intermediate, empty CRLs) for development only."""
    try:
        layout = init_ca(out, SystemClock().now(), force=force)
    except DevCaError as exc:
        fail(str(exc))
    except (JoseError, OSError) as exc:
        err.print(f"[red]error:[/red] cannot make the dev CA in {out}: {exc}")
        raise typer.Exit(1) from None
    err.print(f"[bold]Dev CA made[/bold] in {out} (for development only; its keys are not protected)\n"
              f"  trust anchor:     {layout.root_pem}\n  issuing CA:       {layout.intermediate_pem}\n"
              f"  CRLs:             {layout.root_crl}, {layout.intermediate_crl}\n"
              f"  CA keys (secret): {layout.private}/\n"
              "Let the server trust it:\n", highlight=False)
    err.print(f"  export {TRUST_DIR_ENV}={shlex.quote(str(layout.trust.resolve()))}", soft_wrap=True,
              highlight=False)


@app.command("issue")
def issue_command(
    orgno: Annotated[str, typer.Option(help="the organisation number the certificate is for (9 digits, mod-11)")],
    out: Annotated[Path, typer.Option(help="folder for the key, certificate, chain and PKCS#12", file_okay=False)],
    ca: Annotated[Path | None, typer.Option(
        help=f"the dev CA's folder; default ${CA_ENV}, else ./dev-ca", file_okay=False)] = None,
    name: Annotated[str | None, typer.Option(help="the organisation's name (subject O and CN)")] = None,
    expired: Annotated[bool, typer.Option("--expired", help="valid until yesterday")] = False,
    not_yet_valid: Annotated[bool, typer.Option("--not-yet-valid",
                                                help=f"valid from {SHIFT_DAYS} days from now")] = False,
    revoked: Annotated[bool, typer.Option("--revoked",
                                          help="revoke it at once (rewrites trust/intermediate.crl)")] = False,
    eseal: Annotated[Eseal | None, typer.Option(help="make it a European e-seal (QCStatements)")] = None,
    digital_signature: Annotated[bool, typer.Option(
        "--digital-signature/--no-digital-signature", help="the digitalSignature key usage")] = True,
    serial_number: Annotated[bool, typer.Option(
        "--serial-number", help="put the orgno in serialNumber instead of organizationIdentifier")] = False,
) -> None:
    """Issue a SEID 2 style enterprise certificate; prints the files (JSON on stdout) and a `portvakt token` line."""
    folder = ca or _default_ca()
    organisation = name or f"Test organisation {orgno}"
    try:
        check_request(orgno, expired=expired, not_yet_valid=not_yet_valid)
        files = issue(open_ca(folder), out, orgno=orgno, organisation=organisation, now=SystemClock().now(),
                      expired=expired, not_yet_valid=not_yet_valid, revoked=revoked, eseal=eseal,
                      digital_signature=digital_signature, orgno_in_serial_number=serial_number)
    except DevCaError as exc:
        fail(str(exc))
    except (JoseError, OSError) as exc:
        err.print(f"[red]error:[/red] cannot issue the certificate: {exc}")
        raise typer.Exit(1) from None
    notes = [n for n, on in (("expired", expired), ("not yet valid", not_yet_valid), ("revoked", revoked)) if on]
    err.print(f"[bold]Certificate for {organisation} ({orgno})[/bold], serial {files.serial:x}"
              f"{' (' + ', '.join(notes) + ')' if notes else ''}\n"
              f"  private key:   {files.key}\n  certificate:   {files.certificate}\n"
              f"  chain:         {files.chain}\n  PKCS#12:       {files.pkcs12}\n"
              f"  its password:  {files.password_file}\n"
              "Get a token with it (a client of this organisation with no registered key):\n", highlight=False)
    err.print("  " + token_command(files, settings().resolved_issuer()), soft_wrap=True, highlight=False)
    print_json({"orgno": orgno, "serial": files.serial, "revoked": revoked,
                "files": {k: str(getattr(files, k)) for k in ("key", "certificate", "chain", "pkcs12",
                                                              "password_file")}})
