"""The self-service API `/api/v1` (docs/protocol.md §3): clients, keys, scopes, access, delegation sources, audit."""
