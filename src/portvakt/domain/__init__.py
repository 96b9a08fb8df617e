"""Plain-Python domain: organisations, clients, keys, scopes, access and the ports the rest implements."""
