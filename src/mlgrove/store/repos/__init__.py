"""Repositories: queries that return domain objects, one module per area."""
