"""Configuration from the environment (and later a config file), never from code."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


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
