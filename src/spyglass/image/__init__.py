"""Reaching image bytes: references, registries, archives, layouts. Nothing here knows packages."""
