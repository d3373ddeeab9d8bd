"""Alembic migrations of the service tables; run through ``spyglass.store.schema``."""
