"""``spyglass scan``: open the image, analyze its layers, print the inventory."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from spyglass.cli.exitcodes import ExitCode
from spyglass.inventory import Inventory


@dataclass(frozen=True)
class ScanRequest:
    """Everything ``scan`` was asked to do."""

    image: str
    output_format: str = "table"
    platform: str = "linux/amd64"
    insecure_registries: tuple[str, ...] = ()
    analyzers: tuple[str, ...] = ()
    skip_analyzers: tuple[str, ...] = ()
    use_cache: bool = True
    username: str | None = None
    password: str | None = None


def inventory_for(request: ScanRequest, progress: Progress | None = None) -> Inventory:
    """Open the image and analyze it (the library entry point behind the command)."""
    from spyglass.analyze.cache import LayerCache
    from spyglass.analyze.registry import select
    from spyglass.analyze.scan import scan_image
    from spyglass.config import cache_dir
    from spyglass.image.interface import OpenOptions, Platform
    from spyglass.image.open import open_image

    options = OpenOptions(
        platform=Platform.parse(request.platform),
        insecure_registries=request.insecure_registries,
        username=request.username,
        password=request.password,
    )
    chosen = select(request.analyzers, request.skip_analyzers)
    cache = LayerCache(cache_dir()) if request.use_cache else None
    with open_image(request.image, options) as image:
        return scan_image(image, chosen, cache=cache, progress=_reporter(progress))


def _reporter(progress: Progress | None):  # type: ignore[no-untyped-def]
    if progress is None:
        return None
    tasks: dict[str, int] = {}

    def report(layer: str, done: int, total: int | None) -> None:
        if layer not in tasks:
            tasks[layer] = progress.add_task(layer.split(":")[-1][:12], total=total)
        progress.update(tasks[layer], completed=done, total=total)

    return report


def run_scan(request: ScanRequest, stderr: Console) -> int:
    """Run the command; returns the exit code."""
    from spyglass.report.json_report import render_json
    from spyglass.report.table import render_table

    if stderr.is_terminal:
        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                   TransferSpeedColumn())
        with Progress(*columns, console=stderr, transient=True) as progress:
            inventory = inventory_for(request, progress)
    else:
        inventory = inventory_for(request)
    if request.output_format == "json":
        sys.stdout.write(render_json(inventory) + "\n")
    else:
        render_table(inventory, Console())
    return int(ExitCode.CLEAN)
