"""Stores of the domain: `memory` (the reference) and `sql` (SQLite by default, PostgreSQL in production)."""
