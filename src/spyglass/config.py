"""Configuration from the environment (and later a config file), never from code."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from spyglass.errors import UsageError


def data_dir() -> Path:
    """``SPYGLASS_DATA_DIR``, else the platform's user data directory; created on first use."""
    configured = os.environ.get("SPYGLASS_DATA_DIR")
    path = Path(configured) if configured else Path(platformdirs.user_data_dir("spyglass"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Where per-layer analysis results are kept."""
    path = data_dir() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def positive_number(
    name: str, default: float, *, unit: str, example: str, maximum: float | None = None
) -> float:
    """The positive number in environment variable ``name`` (``default`` when unset), in
    ``unit``; ``UsageError`` naming the variable when it is not one (or exceeds ``maximum``)."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{name}={text!r} is not a number of {unit} (e.g. {example})") from None
    if maximum is not None and not 0 < value <= maximum:
        raise UsageError(f"{name} must be between 0 and {maximum:g} {unit}, got {text!r}")
    if value <= 0:
        raise UsageError(f"{name} must be a positive number of {unit}, got {text!r}")
    return value
