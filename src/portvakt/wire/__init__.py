"""The wire room: the JSON shapes /api/v1 and the Altinn side answer with, and the words they use.

Framework-free pydantic models that import nothing of portvakt but this room (an import-linter contract
holds that). The APIs build their responses with them, and the portal, their client over HTTP, parses the
same answers with them, so a change to a response shape is a type error on both sides (docs/decisions.md W1).
Import the submodules: this package itself re-exports nothing, so `portvakt.wire.vocabulary` stays cheap.
"""
