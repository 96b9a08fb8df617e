"""portvakt: a self-hostable, Maskinporten-compatible machine-to-machine authorization server."""

__version__ = "0.1.0"
