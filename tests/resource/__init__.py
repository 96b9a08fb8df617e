# ruff: noqa: A005  (this is tests.resource, which shadows nothing)
