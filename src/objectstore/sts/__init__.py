"""AWS STS, the part the console signs in with: GetSessionToken (pure protocol code)."""
