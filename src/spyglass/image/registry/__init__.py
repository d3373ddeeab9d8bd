"""Pulling images from OCI Distribution registries (Docker Hub, GHCR, ECR, ACR, any v2 registry)."""

from __future__ import annotations

from spyglass.image.registry.client import RegistryClient
from spyglass.image.registry.source import RegistryImage, open_registry_image

__all__ = ["RegistryClient", "RegistryImage", "open_registry_image"]
