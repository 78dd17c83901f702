"""Cross-cutting pieces: settings, identity, errors, pagination, database helpers."""
