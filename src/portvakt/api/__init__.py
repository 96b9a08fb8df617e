"""Thin HTTP adapters: /token, /jwk, /.well-known/..., /errors/...; where errors become responses."""
