"""The landing page and the liveness probe."""
