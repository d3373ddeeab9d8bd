"""Reaching image bytes: references, registries, archives and layouts. Nothing here knows packages."""
