"""``spyglass scan``: open the image, analyze its layers, match the inventory, print the report.

Without vulnerability data the scan still lists the packages (and says how to get data on
stderr); only a store that cannot be read stops it, with the data exit code. ``--severity`` and
``--ignore-unfixed`` filter the findings shown, and ``--exit-code N`` turns the findings that
remain into a failing exit status.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

from rich.console import Console
from rich.progress import (
    Progress,
    TaskID,
)

from spyglass.cli.console import transfer_columns
from spyglass.cli.exitcodes import ExitCode
from spyglass.errors import UsageError
from spyglass.inventory import Inventory
from spyglass.match import match
from spyglass.match.interface import Finding
from spyglass.vulndb.model import FIXED, SEVERITIES
from spyglass.vulndb.store import VulnStore

NO_DATA = "no vulnerability data; run `spyglass db update` or `spyglass db import`"


@dataclass(frozen=True)
class ScanRequest:
    """Everything ``scan`` was asked to do."""

    image: str
    output_format: str = "table"
    platform: str | None = None
    """``os/arch[/variant]`` the user asked for; ``None``: linux/amd64 from an index, and a
    single-platform image as it is."""
    insecure_registries: tuple[str, ...] = ()
    analyzers: tuple[str, ...] = ()
    skip_analyzers: tuple[str, ...] = ()
    use_cache: bool = True
    username: str | None = None
    password: str | None = None
    severities: tuple[str, ...] = ()
    """Only findings of these severities (any case); empty for all."""
    ignore_unfixed: bool = False
    exit_code: int = 0
    """Exit status when findings remain after the filters (0: findings never fail)."""


def severity_filter(values: Sequence[str]) -> frozenset[str]:
    """``HIGH,critical`` -> our lower-case names; ``UsageError`` for a name we do not use."""
    chosen = frozenset(v.strip().lower() for v in values if v.strip())
    unknown = sorted(chosen - set(SEVERITIES))
    if unknown:
        raise UsageError(
            f"unknown severity {', '.join(unknown)}; choose from {', '.join(SEVERITIES).upper()}"
        )
    return chosen


def filtered(findings: Sequence[Finding], request: ScanRequest) -> tuple[Finding, ...]:
    """The findings that pass ``--severity`` and ``--ignore-unfixed``."""
    wanted = severity_filter(request.severities)
    return tuple(
        f
        for f in findings
        if (not wanted or f.severity in wanted)
        and not (request.ignore_unfixed and f.state != FIXED)
    )


@contextmanager
def _store() -> Iterator[VulnStore | None]:
    """The configured store, or ``None`` when it holds no data; ``DataError`` if it is broken."""
    store = VulnStore.open()
    try:
        yield store if store.feeds() else None
    finally:
        store.close()


def inventory_for(request: ScanRequest, progress: Progress | None = None) -> Inventory:
    """Open the image and analyze it (the library entry point behind the command)."""
    from spyglass.analyze.cache import LayerCache
    from spyglass.analyze.registry import select
    from spyglass.analyze.scan import scan_image
    from spyglass.config import cache_dir
    from spyglass.image.interface import OpenOptions, Platform
    from spyglass.image.open import open_image

    options = OpenOptions(
        platform=Platform.parse(request.platform) if request.platform else Platform(),
        platform_explicit=request.platform is not None,
        insecure_registries=request.insecure_registries,
        username=request.username,
        password=request.password,
    )
    chosen = select(request.analyzers, request.skip_analyzers)
    cache = LayerCache(cache_dir()) if request.use_cache else None
    with open_image(request.image, options) as image:
        return scan_image(image, chosen, cache=cache, progress=_reporter(progress))


def _reporter(progress: Progress | None) -> Callable[[str, int, int | None], None] | None:
    if progress is None:
        return None
    bar = progress
    tasks: dict[str, TaskID] = {}

    def report(layer: str, done: int, total: int | None) -> None:
        if layer not in tasks:
            tasks[layer] = bar.add_task(layer.split(":")[-1][:12], total=total)
        bar.update(tasks[layer], completed=done, total=total)

    return report


def run_scan(request: ScanRequest, stderr: Console) -> int:
    """Run the command; returns the exit code."""
    from spyglass.report.json_report import render_json
    from spyglass.report.table import render_table

    severity_filter(request.severities)  # bad flags and a broken store fail before any image I/O
    with _store() as store:
        inventory = _inventory(request, stderr)
        result = match(inventory, store) if store is not None else None
    if result is None:
        stderr.print(NO_DATA, highlight=False, soft_wrap=True)
    else:
        result = replace(result, findings=filtered(result.findings, request))
    if request.output_format == "json":
        sys.stdout.write(render_json(inventory, result) + "\n")
    else:
        render_table(inventory, Console(), result)
    if result is not None and result.findings and request.exit_code:
        return request.exit_code
    return int(ExitCode.CLEAN)


def _inventory(request: ScanRequest, stderr: Console) -> Inventory:
    if stderr.is_terminal:
        with Progress(*transfer_columns(), console=stderr, transient=True) as progress:
            return inventory_for(request, progress)
    return inventory_for(request)
