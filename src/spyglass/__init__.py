"""Spyglass: a self-hosted container image vulnerability scanner."""

from __future__ import annotations

__version__ = "0.1.0"
