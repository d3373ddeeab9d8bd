"""``spyglass db``: update, inspect, export and import the vulnerability data.

A Typer sub-app; the main CLI mounts it with ``app.add_typer(db.app, name="db")``. Errors from
the tree in ``spyglass.errors`` become one message and the exit code from ``exitcodes``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    Progress,
    TaskID,
)
from rich.table import Table

from spyglass.cli.console import reporting_errors, stderr, stdout, transfer_columns
from spyglass.cli.exitcodes import ExitCode
from spyglass.errors import UsageError
from spyglass.vulndb.store import VulnStore
from spyglass.vulndb.update import FAILED, FeedProgress, UpdateResult

app = typer.Typer(
    name="db",
    help="Vulnerability data: update, status, export, import; schema upgrade.",
    no_args_is_help=True,
)


@contextmanager
def _store() -> Iterator[VulnStore]:
    store = VulnStore.open()
    try:
        yield store
    finally:
        store.close()


def _sources(values: list[str] | None) -> dict[str, str]:
    sources = {}
    for value in values or ():
        name, sep, source = value.partition("=")
        if not sep or not name or not source:
            raise UsageError(f"--source wants FEED=URL_OR_PATH, got {value!r}")
        sources[name.strip()] = source.strip()
    return sources


@contextmanager
def _progress() -> Iterator[FeedProgress | None]:
    if not stderr.is_terminal:
        yield None
        return
    with Progress(*transfer_columns(), console=stderr, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def report(feed: str, done: int, total: int | None) -> None:
            if feed not in tasks:
                tasks[feed] = bar.add_task(feed, total=total)
            bar.update(tasks[feed], completed=done, total=total)

        yield report


def _print_results(results: list[UpdateResult]) -> None:
    for r in results:
        if r.status == FAILED:
            stderr.print(
                f"[red]{r.feed}: failed[/red] - {r.error}", highlight=False, soft_wrap=True
            )
            continue
        detail = f"{r.records} records" if r.status == "updated" else "no change"
        skipped = f", {r.skipped} unreadable records skipped" if r.skipped else ""
        stdout.print(
            f"{r.feed}: {r.status} ({detail}, {r.downloaded} bytes{skipped})", highlight=False
        )


@app.command("update")
def update_command(
    feed: Annotated[
        list[str] | None, typer.Option("--feed", help="feed name or group (repeatable)")
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(help="FEED=URL_OR_PATH: read a feed from elsewhere (repeatable)"),
    ] = None,
) -> None:
    """Fetch the feeds that changed and replace their data, one feed at a time."""
    from spyglass.vulndb.feeds.registry import select
    from spyglass.vulndb.update import update

    def run() -> list[UpdateResult]:
        feeds = select(feed or (), _sources(source))
        with _store() as store, _progress() as progress:
            return update(store, feeds, progress=progress)

    results = reporting_errors(run)
    _print_results(results)
    if any(r.status == FAILED for r in results):
        raise typer.Exit(ExitCode.DATA)


@app.command("status")
def status_command() -> None:
    """Show each stored feed: records, when it was last refreshed, where it came from."""

    def run() -> None:
        with _store() as store:
            feeds = store.feeds()
        if not feeds:
            stderr.print("no vulnerability data yet; run `spyglass db update`")
            raise typer.Exit(ExitCode.DATA)
        table = Table("feed", "records", "last refreshed", "last checked", "source")
        for f in feeds:
            table.add_row(
                f.name, str(f.records), f.refreshed_at or "-", f.checked_at or "-", f.source
            )
        stdout.print(table)

    reporting_errors(run)


@app.command("export")
def export_command(
    path: Annotated[Path, typer.Argument(help="bundle to write (.tar.gz)")],
    feed: Annotated[list[str] | None, typer.Option("--feed", help="only these feeds")] = None,
) -> None:
    """Write the stored feeds to an offline bundle."""
    from spyglass.vulndb.bundle import export_bundle

    def run() -> None:
        with _store() as store:
            written = export_bundle(store, path, feed or ())
        stdout.print(
            f"wrote {len(written)} feeds, {sum(f.records for f in written)} records to {path}"
        )

    reporting_errors(run)


@app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="bundle made by `db export`")],
) -> None:
    """Load an offline bundle, replacing the feeds it holds."""
    from spyglass.vulndb.bundle import import_bundle

    def run() -> None:
        with _store() as store:
            loaded = import_bundle(store, path)
        for name, records in loaded:
            stdout.print(f"{name}: imported {records} records", highlight=False)

    reporting_errors(run)


@app.command("upgrade")
def upgrade_command() -> None:
    """Apply the service's schema migrations; run it after installing a new Spyglass."""
    from spyglass.cli.service import upgrade

    upgrade()
