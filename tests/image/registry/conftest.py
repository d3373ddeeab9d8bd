"""Real-registry fixtures for the registry tests (started once per session, only when used)."""

from __future__ import annotations

from tests.helpers.registry import registry, token_registry

__all__ = ["registry", "token_registry"]
