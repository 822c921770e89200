"""Searching the store: one query model for the API, the CLI and the /find page."""
