"""Stores that misbehave: a Redis stopped, killed or restarted empty, a PostgreSQL behind a black-holed link."""
