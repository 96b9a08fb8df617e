"""The web portal: people log in, choose an organisation, and register business systems
("virksomhetssystem") and their keys. Server-rendered pages (Jinja2) and one static script.

It talks to the self-service API (/api/v1) and the Altinn side over HTTP with its OWN client and token,
exactly like any other client would (docs/protocol.md §4.4), and never to the database: it imports no storage,
domain, oauth, api or wiring room (an import-linter contract holds that).

Wiring (`portvakt serve` does this; `create_portal` is in `.app`, which this package does not import, so the token
service's error pages can use the portal's look without loading the portal)::

    config = portal_config(settings)              # PORTVAKT_PORTAL__* as given, and what they resolve to
    app.mount("/portal", create_portal(config, sms=gateway, outbox=outbox,   # see wiring.portal_app
                                        clock=clock, monotonic=monotonic))   # time comes in (P13)

The portal's client (config.settings.client_id) must exist at the token service with the RSA key in
config.key_file registered and the scopes in config.scopes (PORTAL_SCOPES):
domain.portal_client.bootstrap_portal_client does that. The key file is read on first use, so it may be
written after create_portal. For vendors' systems the portal calls /api/v1 as itself, the supplier
(docs/protocol.md §4.4), and checks every system it shows belongs to the chosen organisation. For delegations and
scope access it acts for the chosen organisation: its token carries `altinn:portal`, and it sends
`Portvakt-Acting-For` and `Portvakt-Person` after checking the person's role (docs/decisions.md P1).

Sessions, CSRF secrets and login throttling live in process memory: run one worker per portal (or
sticky sessions), or replace SessionStore/LoginLimiter with shared ones and set a fixed session secret.
"""

from __future__ import annotations

from portvakt.wire.protocol import PORTAL_CLIENT_SCOPES as PORTAL_SCOPES

from .config import PortalConfig, portal_config

__all__ = ["PORTAL_SCOPES", "PortalConfig", "portal_config"]
