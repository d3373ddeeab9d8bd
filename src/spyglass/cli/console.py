"""What every command shares: the consoles, error reporting, and the transfer progress columns."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, ProgressColumn, TextColumn, TransferSpeedColumn

from spyglass.cli.exitcodes import exit_code_for
from spyglass.errors import SpyglassError

stdout = Console()
stderr = Console(stderr=True)

T = TypeVar("T")


def reporting_errors(action: Callable[[], T]) -> T:
    """Run a command body; a Spyglass error becomes one message on stderr and its exit code."""
    try:
        return action()
    except SpyglassError as exc:
        stderr.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(exit_code_for(exc)) from None


def transfer_columns() -> tuple[ProgressColumn, ...]:
    """A progress line for bytes moving: name, bar, amount, speed."""
    return (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
