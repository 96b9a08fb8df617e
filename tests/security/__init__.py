"""Regression tests on the wire, one file per threat (docs/security.md)."""
