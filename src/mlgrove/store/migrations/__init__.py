"""Alembic migrations. Applied by ``mlgrove init`` and ``mlgrove upgrade``."""
