"""The token service, framework-free: TokenRequest -> IssuedToken for the JWT-bearer grant."""
