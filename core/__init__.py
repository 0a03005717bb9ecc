"""Shared infrastructure: database, errors, clock, web security. Imports no domain package."""
