"""Skip-or-fail for tests that need something from the machine.

In CI (``CI=true``) a missing service or tool is a failure: the CI script installs and starts
everything, so absence means the set-up is broken. Elsewhere the test skips and says why.
"""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Fail in CI, skip elsewhere, with the reason."""
    if IN_CI:
        pytest.fail(f"required for this test but missing in CI: {reason}")
    pytest.skip(reason)


def require_tool(name: str, hint: str = "") -> str:
    """Path of an executable on PATH, or fail/skip saying how to install it."""
    in_usr_bin = f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None
    path = shutil.which(name) or in_usr_bin
    if path is None:
        unavailable(f"{name} not found on PATH{'; ' + hint if hint else ''}")
        raise AssertionError("unreachable")
    return path
