"""Partner systems: their API keys, idempotent requests, rate limits and signed webhooks."""
