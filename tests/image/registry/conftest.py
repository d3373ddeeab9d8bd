"""Real-registry fixtures for the registry tests (started once per session, only when used)."""

from __future__ import annotations

from tests.helpers.registry import basic_registry, registry, token_registry

__all__ = ["basic_registry", "registry", "token_registry"]
