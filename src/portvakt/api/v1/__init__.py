"""The self-service API `/api/v1` (spec §3): clients, keys, scopes, access, delegation sources, audit."""
