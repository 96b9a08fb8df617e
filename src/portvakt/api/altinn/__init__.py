"""The Altinn side's HTTP API (docs/protocol.md §4): delegation schemes, delegations, the lookup, the system
register, system users and the token exchange.

    altinn = create_altinn_app(store, clock, TokenGate(local_validator(keyring, issuer, now), portal_clients))
    mount_altinn(app, altinn)                     # inside the token service's app
    # or, as its own process:
    altinn = create_altinn_app(store, clock, TokenGate(remote_validator(token_service_issuer, now), portal_clients))

`create_altinn_app` lives in `.app`, `mount_altinn` and `PREFIXES` in `.route`, `TokenGate` in `..bearer`. This
package itself imports nothing, so a process that builds the Altinn side on its first request (decision F15) loads
none of its routers before then.
"""
