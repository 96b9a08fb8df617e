"""The token service, framework-free: TokenRequest -> TokenResponse for the JWT-bearer grant."""
