"""Every exit code of the CLI, in one place, and the error class that maps to each."""

from __future__ import annotations

from enum import IntEnum

from spyglass.errors import DataError, ImageError, SpyglassError, UsageError


class ExitCode(IntEnum):
    """What ``spyglass`` returns to the shell."""

    CLEAN = 0
    """Nothing to report, or findings that no rule fails on."""
    RULE_FAILED = 1
    """A rule (or ``--exit-code`` with findings) failed the gate."""
    USAGE = 2
    """Bad arguments or configuration."""
    IMAGE = 3
    """The image could not be read."""
    DATA = 4
    """Vulnerability data or the store is unavailable."""


def exit_code_for(error: SpyglassError) -> ExitCode:
    """The exit code for an error from the tree in ``spyglass.errors``."""
    if isinstance(error, UsageError):
        return ExitCode.USAGE
    if isinstance(error, ImageError):
        return ExitCode.IMAGE
    if isinstance(error, DataError):
        return ExitCode.DATA
    return ExitCode.USAGE
